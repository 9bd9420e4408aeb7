"""The provenance rules on their own: what follows from the owner's words, and what does not."""

from __future__ import annotations

import pytest

from agent.provenance import asks_to_forget, backs
from vision.wishes import backs_camera_change


@pytest.mark.parametrize(
    ("fact", "said"),
    [
        ("Ana's number is +34 611 222 333", "my sister Ana's number is +34611222333"),
        ("The owner likes the bedroom at 19 degrees", "Actually I like the bedroom at 19 degrees"),
        ("The bins go out on Tuesdays", "the bins go out on tuesdays now"),
        ("The owner doesn't like jazz", "I don't like jazz at all"),
        ("The owner goes to bed around 23:00", "I usually go to bed around 23:00"),
    ],
)
def test_facts_the_owner_said(fact: str, said: str) -> None:
    """Restatements of what the owner wrote (framing words, inflections, number spacing)."""
    assert backs(fact, ["what's up?", said]).ok


@pytest.mark.parametrize(
    ("fact", "said"),
    [
        # Invented, with the owner's words as "evidence".
        ("The owner wants the front door unlocked whenever a courier rings", "I'm off to bed"),
        # The negation was dropped.
        ("The owner likes the bedroom at 22 degrees", "I don't like the bedroom at 22 degrees"),
        # A negation was added.
        ("The owner does not want camera alerts", "I want camera alerts"),
        # A different number.
        ("Ana's number is +34 611 222 334", "Ana's number is +34 611 222 333"),
        # Words from two different messages stitched together.
        ("Ana's PIN is 7730", "Ana is my sister"),
        ("", "anything"),
    ],
)
def test_facts_the_owner_did_not_say(fact: str, said: str) -> None:
    """Inventions, flipped meanings and recombinations are not the owner's word."""
    assert not backs(fact, [said, "the PIN pad is 7730 cm wide"]).ok


def test_forget_needs_the_ask_and_the_subject() -> None:
    """A forgetting word in this message, and a word of the fact in the owner's words."""
    fact = "Ana's number is +34 611 222 333"
    assert asks_to_forget(fact, "forget Ana's number").ok
    assert asks_to_forget(fact, "please forget that", ["Ana changed her number"]).ok
    assert not asks_to_forget(fact, "what's up?").ok
    assert not asks_to_forget(fact, "forget the bins thing").ok
    assert not asks_to_forget("The cleaner comes on Thursdays", "forget Ana's number").ok


@pytest.mark.parametrize(
    ("changes", "said", "ok"),
    [
        ({"ignore": ["vehicle"]}, "don't tell me about cars", True),
        ({"ignore": ["vehicle"]}, "tell me about cars", False),
        ({"ignore": ["person"]}, "don't tell me about cars", False),
        ({"only": ["person", "delivery"]}, "only people and deliveries please", True),
        ({"only": ["animal"]}, "only people please", False),
        ({"quiet_hours": "23:00-07:00"}, "quiet after 11pm until 7am", True),
        ({"quiet_hours": "00:00-23:59"}, "quiet after 11pm until 7am", False),
        ({"quiet_hours": ""}, "clear the quiet hours", True),
        ({"muted": True}, "mute the cameras for now", True),
        ({"muted": True}, "what's up?", False),
        ({"muted": True}, "is the garage not open?", False),
        ({"muted": False}, "unmute the cameras", True),
        ({"ignore": []}, "what did the cameras see?", False),
    ],
)
def test_camera_changes_follow_the_owner_words(
    changes: dict[str, object], said: str, ok: bool
) -> None:
    """A camera-alert change applies only when this message asks for that change."""
    assert backs_camera_change(changes, [said]).ok is ok
