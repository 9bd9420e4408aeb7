"""Shared base for every configuration section model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A configuration section: unknown keys are errors (typos are caught at load)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
