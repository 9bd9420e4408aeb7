"""twilio integration."""
