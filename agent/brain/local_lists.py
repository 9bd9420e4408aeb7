"""The local fast path for lists: "add apples to the shopping list", "what's on my
list?", "remove apples from the shopping list", "add history homework to my tasks".

Home Assistant's list sentences name a list through the `name` slot in the
`todo` domain; `list_slot_values` adds every way to name a list there. The
plan is carried out by the lists service, the same one the model's tools use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hassil import TextSlotValue
from hassil.expression import TextChunk

from agent.brain.local_answers import names
from agent.brain.local_plan import Plan
from agent.brain.reply import Reply, action_record
from agent.errors import HomeError
from agent.lists.items import split_items

if TYPE_CHECKING:
    from hassil import RecognizeResult

    from agent.brain.prompt import Soul
    from agent.lists.registry import Edit, Lists

ListsSource = Callable[[], "Lists | None"]

ADD = {"HassShoppingListAddItem", "HassListAddItem"}
COMPLETE = {"HassShoppingListCompleteItem", "HassListCompleteItem"}
REMOVE = {"HassListRemoveItem"}
SHOW = {"HomeclawListItems"}
LIST_INTENTS = frozenset(ADD | COMPLETE | REMOVE | SHOW)

_TODO = "(todo|to do|to-do)"
# Phrasings the community sentences lack (English).
LIST_SENTENCES: dict[str, dict[str, list[dict[str, Any]]]] = {
    "en": {
        "HassListAddItem": [
            {
                "sentences": [
                    f"(add|put) {{todo_list_item:item}} (to|on|in) [my|the] {{name}} {_TODO} list",
                ],
                "requires_context": {"domain": ["todo"]},
            }
        ],
        "HassListRemoveItem": [
            {
                "sentences": [
                    "take {todo_list_item:item} off [my|the] {name} [list]",
                    "(delete|remove) {todo_list_item:item} (off|from) [my|the] [shopping] list",
                ],
                "requires_context": {"domain": ["todo"]},
            },
            {"sentences": ["take {todo_list_item:item} off [my|the] [shopping] list"]},
        ],
        "HomeclawListItems": [
            {
                "sentences": [
                    "(what's|whats|what is) on [my|the] {name} [list]",
                    "(read|show|tell) [me] [what's on] [my|the] {name} list",
                ],
                "requires_context": {"domain": ["todo"]},
            },
            {
                "sentences": [
                    "(what's|whats|what is) on [my|the] list",
                    "(read|show) [me] [my|the] list",
                    "what do (I|we) need to (buy|get)",
                ],
            },
        ],
    }
}


@dataclass
class ListPlan(Plan):
    """A list request: which list (None: the shopping list), which items, what to do."""

    list_name: str | None = None
    items: list[str] = field(default_factory=list)


def merge_list_sentences(data: dict[str, Any], language: str) -> dict[str, Any]:
    """The sentence data with the list phrasings added (new intents created)."""
    intents = dict(data["intents"])
    for intent, extra in LIST_SENTENCES.get(language, {}).items():
        known = intents.get(intent, {"data": []})
        intents[intent] = {**known, "data": [*known["data"], *extra]}
    return {**data, "intents": intents}


def list_slot_values(lists: Lists | None) -> list[TextSlotValue]:
    """Every spoken list name, as `name` slot values in the `todo` domain."""
    if lists is None:
        return []
    return [
        TextSlotValue(TextChunk(spoken), spoken, {"domain": "todo"})
        for spoken in lists.spoken_names()
    ]


def plan_list(result: RecognizeResult, text: str) -> ListPlan:
    """The list request a matched sentence (said as `text`) makes."""
    intent = result.intent.name
    name = result.entities.get("name")
    item = result.entities.get("item")
    verb = (text.strip().split() or [""])[0].lower()
    if intent == "HassShoppingListCompleteItem" and verb in ("delete", "remove"):
        intent = "HassListRemoveItem"  # HA ticks these off; people mean "take it off"
    items = split_items(_as_said(str(item.value), text)) if item is not None else []
    return ListPlan(
        intent,
        [],
        list_name=None if name is None else str(name.value),
        items=items,
    )


def _the(edit: Edit) -> str:
    """ "the Shopping list" (a name already saying "list" is not doubled)."""
    name = edit.todo.name
    return f"the {name}" if re.search(r"\blist\b", name, re.I) else f"the {name} list"


def _as_said(value: str, text: str) -> str:
    """The item as written, commas included (the matcher drops punctuation)."""
    words = value.split()
    if not words:
        return value
    pattern = r"[\s,;]+".join(re.escape(w) for w in words)
    found = re.search(pattern, text, re.I)
    return found.group(0) if found else value


async def run_list_plan(plan: ListPlan, lists: Lists, soul: Soul) -> Reply:
    """Carry out a list request and say what happened."""
    args: dict[str, Any] = {"name": plan.list_name or "shopping"}
    try:
        if plan.intent in SHOW:
            todo = lists.find(plan.list_name)
            pending = [i.text for i in await todo.items() if not i.done]
            result: dict[str, Any] = {"list": todo.name, "pending": pending}
            answer = (
                f"On {todo.name}: {names(pending, 'items', most=30)}."
                if pending
                else f"{todo.name} is empty."
            )
            return Reply(
                soul.reply("state", answer=answer),
                "local",
                [action_record("lists", args, True, result)],
            )
        if plan.intent in ADD:
            edit = await lists.add(plan.list_name, plan.items)
            args["add"] = plan.items
            what = f"{names([i.text for i in edit.items], 'items')} added to {_the(edit)}"
        elif plan.intent in REMOVE:
            edit = await lists.remove(plan.list_name, plan.items)
            args["remove"] = plan.items
            what = f"{names([i.text for i in edit.items], 'items')} taken off {_the(edit)}"
        else:
            edit = await lists.complete(plan.list_name, plan.items)
            args["done"] = plan.items
            what = f"{names([i.text for i in edit.items], 'items')} ticked off {_the(edit)}"
    except HomeError as err:
        failed = action_record("lists", args, False, {"error": err.kind, "detail": str(err)})
        return Reply(soul.reply("failed", problem=str(err)), "local", [failed])
    record = action_record("lists", args, True, edit.to_json())
    if edit.missing and not edit.items:
        problem = f"{names(edit.missing, 'items')} is not on {_the(edit)}"
        return Reply(soul.reply("failed", problem=problem), "local", [record])
    if edit.missing:
        problem = f"{names(edit.missing, 'items')} wasn't on it"
        return Reply(soul.reply("partial", what=what, problem=problem), "local", [record])
    return Reply(soul.reply("done", what=what), "local", [record])
