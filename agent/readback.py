"""Reading back a command: is the device's state now what was asked, still on its
way there, or settled somewhere else (a jammed lock)? And the sentence that says so.

A command is "done" only when the state read back from the device shows it; the
Home waits a little for late reports, longer while the device says it is moving.
"""

from __future__ import annotations

from agent.devices import Action, Command, Device, DeviceState

# States a device passes through on its way to the asked one: keep waiting.
IN_TRANSIT = {
    "lock_state": {"locking", "unlocking", "opening"},
    "playback": {"transitioning", "buffering"},
}
# Lock states that are an answer in themselves.
LOCK_PROBLEMS = {"jammed": "is jammed", "open": "is open", "unknown": "did not say its state"}


def in_transit(state: DeviceState) -> bool:
    """Whether the device reports it is still carrying out a command."""
    return any(getattr(state, name) in values for name, values in IN_TRANSIT.items())


def shortfall(device: Device, command: Command) -> str:
    """One sentence for the owner: what the device did instead of what was asked."""
    verb = command.action.value.replace("_", " ")
    if not device.available:
        return f"{device.name} went offline before confirming; it may not {verb}."
    s = device.state
    if command.action in (Action.LOCK, Action.UNLOCK) and s.lock_state:
        problem = LOCK_PROBLEMS.get(s.lock_state)
        if problem is not None:
            return f"{device.name} {problem}: it did not {verb}."
        if s.lock_state in IN_TRANSIT["lock_state"]:
            return f"{device.name} is still {s.lock_state} and did not confirm."
        return f"{device.name} did not {verb}: it reports {s.lock_state}."
    # Values stay out: they are in °C inside, and the reply's own state line shows them.
    return f"{device.name} did not confirm: {verb} was asked, the device reports otherwise."
