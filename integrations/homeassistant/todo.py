"""Home Assistant's `todo` entities as the owner's lists: items through the
`todo.get_items` (with `return_response`), `add_item`, `update_item` and
`remove_item` services; the entity's state is the number of items to do, so a
change made in HA's app shows as a state change and is passed on to the lists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent.errors import DeviceUnavailable
from agent.lists.items import ListItem, find_item, item_key

if TYPE_CHECKING:
    from agent.lists.registry import Lists
    from integrations.homeassistant.client import Connection

log = logging.getLogger(__name__)


class HomeAssistantTodo:
    """One `todo.*` entity, as a list."""

    source = "homeassistant"

    def __init__(
        self, entity_id: str, name: str, connection: Callable[[], Connection | None]
    ) -> None:
        self.entity_id = entity_id
        self._name = name
        self._connection = connection

    @property
    def id(self) -> str:
        """`homeassistant:todo.<object id>`."""
        return f"homeassistant:{self.entity_id}"

    @property
    def name(self) -> str:
        """HA's friendly name."""
        return self._name

    async def _call(self, service: str, data: dict[str, Any], *, response: bool = False) -> Any:
        conn = self._connection()
        if conn is None or not conn.connected:
            raise DeviceUnavailable("Home Assistant is not connected right now.")
        extra = {"return_response": True} if response else {}
        return await conn.command(
            "call_service",
            domain="todo",
            service=service,
            service_data=data,
            target={"entity_id": self.entity_id},
            **extra,
        )

    async def items(self) -> list[ListItem]:
        """Every item, from `todo.get_items`."""
        result = await self._call("get_items", {}, response=True)
        raw = ((result or {}).get("response") or {}).get(self.entity_id) or {}
        return [
            ListItem(str(i.get("summary", "")), i.get("status") == "completed", i.get("uid"))
            for i in raw.get("items") or []
        ]

    async def add(self, texts: list[str]) -> list[ListItem]:
        """Add items (one already to do is not doubled; a done one is to do again)."""
        current = await self.items()
        added: list[ListItem] = []
        for text in texts:
            same = next((i for i in current if item_key(i.text) == item_key(text)), None)
            if same is not None and same.done:
                await self._call("update_item", {"item": same.uid, "status": "needs_action"})
            elif same is None:
                await self._call("add_item", {"item": text.strip()})
            added.append(ListItem(same.text if same else text.strip()))
        return added

    async def remove(self, texts: list[str]) -> tuple[list[ListItem], list[str]]:
        """Delete items (found as people say them, removed by uid)."""
        found, missing = self._find(await self.items(), texts)
        if found:
            await self._call("remove_item", {"item": [i.uid or i.text for i in found]})
        return found, missing

    async def complete(self, texts: list[str]) -> tuple[list[ListItem], list[str]]:
        """Tick items off."""
        found, missing = self._find(await self.items(), texts)
        for item in found:
            await self._call("update_item", {"item": item.uid or item.text, "status": "completed"})
        return found, missing

    @staticmethod
    def _find(items: list[ListItem], texts: list[str]) -> tuple[list[ListItem], list[str]]:
        found: list[ListItem] = []
        missing: list[str] = []
        for text in texts:
            item = find_item([i for i in items if i not in found], text)
            if item is None:
                missing.append(text)
            else:
                found.append(item)
        return found, missing


class TodoLists:
    """Keeps the lists service in step with the `todo` entities HA reports."""

    def __init__(
        self,
        lists: Callable[[], Lists | None],
        connection: Callable[[], Connection | None],
    ) -> None:
        self._lists = lists
        self._connection = connection
        self._known: dict[str, tuple[str, str]] = {}  # entity_id → (name, state)

    def track(self, state: dict[str, Any]) -> None:
        """A `todo.*` state object arrived (import or state_changed)."""
        lists = self._lists()
        if lists is None:
            return
        entity_id = str(state["entity_id"])
        attrs = state.get("attributes") or {}
        name = str(attrs.get("friendly_name") or entity_id.split(".", 1)[1].replace("_", " "))
        now = (name, str(state.get("state")))
        before = self._known.get(entity_id)
        if before == now:
            return
        self._known[entity_id] = now
        todo = HomeAssistantTodo(entity_id, name, self._connection)
        if before is None or before[0] != name:
            lists.attach(todo)
            log.info("homeassistant: list %s (%s) bridged", name, entity_id)
        lists.changed(todo)

    def forget(self, entity_id: str) -> None:
        """The entity was deleted in HA."""
        lists = self._lists()
        if self._known.pop(entity_id, None) is not None and lists is not None:
            lists.detach(f"homeassistant:{entity_id}")
