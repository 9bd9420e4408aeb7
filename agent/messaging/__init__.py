"""Messaging shared by every channel: the bridge (inbound handling), people and pairing, the
durable outbox, and their JSON API. Channels themselves live in integrations/twilio and
integrations/telegram."""
