"""Configuration of the Twilio channel (SMS and WhatsApp)."""

from __future__ import annotations

from agent.configbase import Section


class TwilioConfig(Section):
    """Account, numbers, and the public URL Twilio calls."""

    account_sid: str
    auth_token: str
    sms_from: str | None = None
    whatsapp_from: str | None = None
    public_url: str | None = None
    api_base_url: str | None = None
    whatsapp_template_sid: str | None = None
