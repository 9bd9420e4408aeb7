"""The public suites this repository carries (tests/data/), by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agent.eval.suites import Suite, assist_suite, intent_suite

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
EXPECTED = DATA / "understanding-expected.yaml"

SUITES: dict[str, Callable[[], Suite]] = {
    "ha-intents": lambda: intent_suite(DATA / "ha-intents-tests" / "en"),
    "assist-mini": lambda: assist_suite(DATA / "ha-datasets" / "assist-mini"),
}
