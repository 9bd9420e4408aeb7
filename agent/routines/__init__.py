"""Routines, schedules, event triggers and the heartbeat."""

from pathlib import Path

# Shipped files: `homeclaw init` copies the heartbeat template into the home folder,
# `homeclaw demo` uses the example routines (they name the demo home's devices).
HEARTBEAT_TEMPLATE = Path(__file__).parent / "HEARTBEAT.template.md"
EXAMPLE_ROUTINES = Path(__file__).parent / "routines.example.yaml"
