"""Configuration of the owner's lists."""

from __future__ import annotations

from agent.configbase import Section


class ListsConfig(Section):
    """Which lists exist before anything is written to them."""

    enabled: bool = True
    # Lists that exist from the start (their file appears with the first item). A
    # bridged list of the same sort (Home Assistant's shopping list) stands in for one.
    defaults: list[str] = ["Shopping", "To-do"]
