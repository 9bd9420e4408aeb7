"""Whether the owner's own words ask for a change to camera alerts.

`set_camera_preferences` is called by the model; a camera description or a
device name can talk it into muting the cameras. So a change is applied only
when the owner's message of this turn asks for that kind of change ("don't
tell me about cars", "only people", "quiet after 11pm", "mute the cameras")
and names what it changes (the label, the hours); anything else waits on the
owner's approval list. English cue words; a change they miss is not lost, it
waits for one tap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from agent.provenance import Support, negated, says, tokens

# Words that name each label in an owner's sentence.
LABEL_WORDS: dict[str, tuple[str, ...]] = {
    "person": (
        "person", "people", "someone", "somebody", "anyone", "anybody", "visitor", "man",
        "men", "woman", "women", "kid", "child", "children", "human", "stranger",
    ),
    "vehicle": (
        "vehicle", "car", "truck", "van", "lorry", "bus", "motorbike", "motorcycle", "traffic",
    ),
    "package": ("package", "parcel", "box", "delivery", "deliveries"),
    "delivery": (
        "delivery", "deliveries", "courier", "fedex", "ups", "dhl", "amazon", "mail",
        "postman", "package", "parcel",
    ),
    "animal": ("animal", "pet", "cat", "dog", "fox", "bird", "deer", "squirrel", "wildlife"),
    "motion": ("motion", "movement", "anything", "everything", "all"),
}  # fmt: skip
IGNORE_CUES = ("ignore", "skip", "stop", "mute", "no more", "less", "quiet", "except", "but not")
ONLY_CUES = ("only", "just", "nothing but", "but", "except")
MUTE_CUES = (
    "mute", "silence", "silent", "stop", "pause", "quiet", "shut up", "turn off", "switch off",
    "no alerts", "no more", "leave me alone",
)  # fmt: skip
UNMUTE_CUES = ("unmute", "resume", "turn on", "switch on", "back on", "start", "again", "tell me")
CLEAR_CUES = ("clear", "reset", "remove", "delete", "any time", "anytime", "back", "again")


def _names(label: str, said: str) -> bool:
    return says(said, LABEL_WORDS.get(label, (label,)))


def _hour_said(hhmm: str, said: str) -> bool:
    """Whether "23:00" (or "07:30") is in the words: 23, 11pm, 11 pm, 23:00; 7:30, 0730."""
    hour, minute = int(hhmm[:2]), int(hhmm[3:5])
    words = tokens(said)
    twelve = hour % 12 or 12
    hours = {str(hour), f"{hour:02d}", str(twelve), f"{twelve}am", f"{twelve}pm"}
    if hour == 0:
        hours.add("midnight")
    if hour == 12:
        hours.add("noon")
    if not any(w in hours for w in words) and not any(
        w.startswith(f"{h}") and w[len(h) :] in ("am", "pm", "h", "00", f"{minute:02d}")
        for w in words
        for h in (str(hour), f"{hour:02d}", str(twelve))
    ):
        return False
    return minute == 0 or f"{minute:02d}" in words or str(minute) in words or "half" in words


def backs_camera_change(changes: dict[str, Any], said: Sequence[str]) -> Support:
    """Whether the owner's words ask for these preference changes (said[0] is this turn's
    message; the kind of change must be asked for there, names may come just before)."""
    if not said:
        return Support(False, (), "no person asked for it")
    now, window = said[0], " ".join(said)
    asks_not = negated(now)
    for label in changes.get("ignore") or []:
        if not _names(label, window):
            return Support(False, (label,), f"the owner never mentioned {label}")
        if not (asks_not or says(now, IGNORE_CUES)):
            return Support(False, (), f"the owner did not ask to ignore {label}")
    for label in changes.get("only") or []:
        if not _names(label, window):
            return Support(False, (label,), f"the owner never mentioned {label}")
        if not (asks_not or says(now, ONLY_CUES)):
            return Support(False, (), f"the owner did not ask for only {label}")
    for key in ("ignore", "only"):
        if changes.get(key) == [] and not (asks_not or says(now, CLEAR_CUES + UNMUTE_CUES)):
            return Support(False, (), f"the owner did not ask to clear {key}")
    hours = changes.get("quiet_hours")
    if hours == "":
        if not (asks_not or says(now, CLEAR_CUES)):
            return Support(False, (), "the owner did not ask to end quiet hours")
    elif hours is not None:
        ends = re.findall(r"\d{1,2}:\d{2}", str(hours))
        if len(ends) != 2 or not all(_hour_said(e.zfill(5), window) for e in ends):
            return Support(False, (str(hours),), f"the owner never said the hours {hours}")
        if not says(window, ("quiet", "silent", "silence", "after", "until", "between", "from")):
            return Support(False, (), "the owner did not ask for quiet hours")
    muted = changes.get("muted")
    if muted is True and not (says(now, MUTE_CUES) or (asks_not and says(now, ("tell", "alert")))):
        return Support(False, (), "the owner did not ask to mute camera alerts")
    if muted is False and not says(now, UNMUTE_CUES):
        return Support(False, (), "the owner did not ask to unmute camera alerts")
    return Support(True)
