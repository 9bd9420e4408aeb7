"""Configuration of the Twilio channel (SMS and WhatsApp)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from agent.configbase import Section


class TwilioConfig(Section):
    """Account, numbers, the public URL Twilio calls, and outbound limits."""

    account_sid: str
    auth_token: str
    sms_from: str | None = None
    whatsapp_from: str | None = None
    # The URL your tunnel/proxy exposes for this daemon (https://…); Twilio signs
    # requests with it, so signatures are checked against it, not the request URL.
    public_url: str | None = None
    # Only for tests and the demo: where the Twilio REST API lives.
    api_base_url: str | None = None
    # An approved WhatsApp template (content SID, one variable {{1}}) used outside
    # the 24-hour window; without it such messages fall back to SMS.
    whatsapp_template_sid: str | None = None
    rate_per_minute: int = Field(default=30, ge=1, le=6000)
    daily_budget: int | None = Field(default=200, ge=1)
    media_link_ttl: float = Field(default=3600.0, ge=60, le=7 * 86400)
    # Seconds to wait for Twilio's answer to one request.
    timeout: float = Field(default=15.0, gt=0, le=120)
    # After a send that got no answer, Twilio may still accept it late: for this many
    # seconds the house only looks for it at Twilio, and re-sends only after that.
    resend_after: float = Field(default=120.0, ge=0, le=86400)

    @field_validator("sms_from", "whatsapp_from")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None:
            return None
        number = value.removeprefix("whatsapp:").replace(" ", "")
        if not re.fullmatch(r"\+[1-9]\d{6,14}", number):
            raise ValueError(f"{value!r} is not an E.164 number like +15551234567")
        return number

    @field_validator("public_url", "api_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(f"{value!r} is not an http(s) URL without query or fragment")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _has_sender(self) -> TwilioConfig:
        if not (self.sms_from or self.whatsapp_from):
            raise ValueError("set sms_from and/or whatsapp_from (the numbers the house sends from)")
        if self.resend_after < self.timeout:
            raise ValueError("resend_after must be at least timeout (a late answer is awaited)")
        return self
