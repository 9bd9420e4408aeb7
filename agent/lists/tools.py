"""The model's list tool: read and change the owner's lists (shopping, to-do, any)."""

from __future__ import annotations

from typing import Any

from agent.brain.tools import ToolContext, ToolRegistry
from agent.errors import NotAllowed
from agent.lists.registry import Lists


def register_list_tools(tools: ToolRegistry, lists: Lists) -> None:
    """Register the `lists` tool on the registry."""

    async def lists_tool(
        ctx: ToolContext,
        name: str | None = None,
        add: list[str] | None = None,
        remove: list[str] | None = None,
        done: list[str] | None = None,
    ) -> dict[str, Any]:
        """Shopping/to-do lists. No name: every list; a name: its items, after add/remove/done
        (one item per string; adding to a new name creates that list)."""
        if name is None:
            return {"lists": await lists.summary()}
        result: dict[str, Any] = {}
        if add or remove or done:
            if ctx.untrusted:
                # Text the owner did not write (a camera caption, a stranger) edits nothing.
                raise NotAllowed("Lists change only when a person of the house asks.")
            if add:
                result["added"] = (await lists.add(name, add, create=True)).to_json()
            if remove:
                result["removed"] = (await lists.remove(name, remove)).to_json()
            if done:
                result["completed"] = (await lists.complete(name, done)).to_json()
        todo = lists.find(name)
        items = await todo.items()
        result |= {
            "list": todo.name,
            "pending": [i.text for i in items if not i.done],
            "done": [i.text for i in items if i.done],
        }
        return result

    tools.register(lists_tool, name="lists")
