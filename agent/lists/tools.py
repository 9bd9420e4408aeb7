"""The model's list tools: show_lists and edit_list (shopping, to-do, any list)."""

from __future__ import annotations

from typing import Any

from agent.brain.tools import ToolContext, ToolRegistry
from agent.errors import NotAllowed, UnsupportedCommand
from agent.lists.registry import Lists


def register_list_tools(tools: ToolRegistry, lists: Lists) -> None:
    """Register the list tools on the registry."""

    async def show_lists(ctx: ToolContext, name: str | None = None) -> dict[str, Any]:
        """The owner's lists (shopping, to-do...) with pending counts, or one list's items."""
        if name is None:
            return {"lists": await lists.summary()}
        todo = lists.find(name)
        items = await todo.items()
        return {
            "list": todo.name,
            "pending": [i.text for i in items if not i.done],
            "done": [i.text for i in items if i.done],
        }

    async def edit_list(
        ctx: ToolContext,
        name: str,
        add: list[str] | None = None,
        remove: list[str] | None = None,
        complete: list[str] | None = None,
        create: bool = False,
    ) -> dict[str, Any]:
        """Change a list ("shopping", "to-do", a named list): add, remove or tick off items
        (one per string). create: make a new list of that name if there is none."""
        if ctx.untrusted:
            # Text the owner did not write (a camera caption, a stranger) edits nothing.
            raise NotAllowed("Lists change only when a person of the house asks.")
        result: dict[str, Any] = {}
        if add:
            result["added"] = (await lists.add(name, add, create=create)).to_json()
        if remove:
            result["removed"] = (await lists.remove(name, remove)).to_json()
        if complete:
            result["completed"] = (await lists.complete(name, complete)).to_json()
        if not result:
            raise UnsupportedCommand("Say what to add, remove or tick off.")
        return result

    tools.register(show_lists)
    tools.register(edit_list)
