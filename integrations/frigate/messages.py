"""Frigate's MQTT payloads read into homeclaw's terms (labels, a title, a description).

Topics (Frigate's MQTT docs): `<prefix>/events` (a tracked object: new, update,
end; `before`/`after` with label, sub_label, scores, zones, attributes),
`<prefix>/tracked_object_update` (type "description": the GenAI description of
a tracked object), `<prefix>/reviews` (review items grouping detections; their
`data.metadata` holds a GenAI review summary where enabled) and
`<prefix>/available` (online / offline / stopped). Everything in them is
untrusted text: it is shown to people, never obeyed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vision.describe import Description

# Frigate's object labels (COCO plus Frigate+) as homeclaw's notify labels.
VEHICLES = {"car", "truck", "motorcycle", "bicycle", "bus", "boat", "license_plate"}
ANIMALS = {
    "dog", "cat", "bird", "horse", "sheep", "cow", "bear", "deer", "fox", "raccoon",
    "squirrel", "rabbit", "skunk", "goat", "kangaroo", "robot_lawnmower",
}  # fmt: skip
CARRIERS = {
    "amazon": "Amazon", "ups": "UPS", "fedex": "FedEx", "usps": "USPS", "dhl": "DHL",
    "an_post": "An Post", "purolator": "Purolator", "postnl": "PostNL", "nzpost": "NZ Post",
    "postnord": "PostNord", "gls": "GLS", "dpd": "DPD", "canada_post": "Canada Post",
    "royal_mail": "Royal Mail",
}  # fmt: skip


def label_of(frigate_label: str) -> str:
    """homeclaw's label for one of Frigate's ("car" → "vehicle")."""
    if frigate_label in ("person", "face"):
        return "person"
    if frigate_label in VEHICLES:
        return "vehicle"
    if frigate_label == "package":
        return "package"
    if frigate_label in ANIMALS:
        return "animal"
    return "motion"


@dataclass(frozen=True)
class TrackedObject:
    """One `after` of a `<prefix>/events` message, the parts homeclaw uses."""

    id: str
    camera: str
    label: str
    sub_label: str | None
    score: float
    start_time: float
    end_time: float | None
    zones: tuple[str, ...]
    attributes: tuple[str, ...]
    false_positive: bool
    has_snapshot: bool

    @classmethod
    def parse(cls, data: dict[str, Any]) -> TrackedObject:
        """Read one `before`/`after` object; raise KeyError/TypeError/ValueError if malformed."""
        sub = data.get("sub_label")
        if isinstance(sub, list):  # [name, score] in recent Frigate versions
            sub = sub[0] if sub else None
        attributes = data.get("attributes") or {}
        return cls(
            id=str(data["id"]),
            camera=str(data["camera"]),
            label=str(data["label"]),
            sub_label=str(sub) if sub else None,
            score=float(data.get("top_score") or data.get("score") or 0.0),
            start_time=float(data["start_time"]),
            end_time=float(data["end_time"]) if data.get("end_time") else None,
            zones=tuple(str(z) for z in data.get("entered_zones") or ()),
            attributes=tuple(str(a) for a in attributes),
            false_positive=bool(data.get("false_positive")),
            has_snapshot=bool(data.get("has_snapshot")),
        )

    def description(self, camera: str, text: str | None = None) -> Description:
        """What homeclaw says about it: "Person in the driveway", its GenAI text if any."""
        label = label_of(self.label)
        labels = (label,) if label != "motion" else ("motion",)
        carrier = next((CARRIERS[a] for a in self.attributes if a in CARRIERS), None)
        if carrier is None and self.label in CARRIERS:
            carrier = CARRIERS[self.label]
        what = self.sub_label or carrier or self.label.replace("_", " ")
        where = f" in the {self.zones[-1].replace('_', ' ')}" if self.zones else ""
        title = f"{what[:1].upper()}{what[1:]}{where}"
        if carrier and label == "vehicle":
            title = f"{carrier} truck{where} — looks like a delivery"
        return Description(
            title=title,
            description=text or "",
            labels=labels,
            carrier=carrier,
            backend="frigate",
        )


def review_summary(after: dict[str, Any]) -> tuple[list[str], str] | None:
    """A review item's detection ids and its GenAI summary, when Frigate wrote one."""
    data = after.get("data") or {}
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        return None
    text = metadata.get("scene") or metadata.get("title")
    if not text:
        return None
    return [str(d) for d in data.get("detections") or []], str(text)
