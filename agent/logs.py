"""Logging: quiet by default, one line per notable event, optionally JSON lines."""

from __future__ import annotations

import json
import logging
import sys
import time


class JsonLines(logging.Formatter):
    """One JSON object per log record (for journald/log shippers)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "info", json_lines: bool = False) -> None:
    """Configure the root logger once; noisy libraries are kept at warning."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonLines())
    else:
        formatter = logging.Formatter(
            "%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"
        )
        formatter.converter = time.localtime
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in (
        "aiohttp.access",
        "soco",
        "urllib3",
        "asyncio",
        "amqtt",
        "transitions",
        "zeroconf",
        "openai",
        "httpx",
        "apscheduler",
        "aiohue",
        "twilio",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
