"""Carrying out a local plan through the device tools, and saying what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.brain.local_answers import describe_action
from agent.brain.local_data import tool_for
from agent.brain.reply import Reply, action_record
from agent.errors import AmbiguousTarget, HomeError, NoSuchDevice
from agent.policy import Asked

if TYPE_CHECKING:
    from agent.brain.local_plan import Plan
    from agent.brain.prompt import Soul
    from agent.brain.tools import ToolContext


async def execute_plan(plan: Plan, ctx: ToolContext, soul: Soul, units: str) -> Reply:
    """Run a plan's commands (high-risk ones through the confirmation code) and reply."""
    from agent.brain.device_tools import run_commands

    groups = plan.groups()
    # The plan is the person's own words: a high-risk command in it may ask for a code.
    ctx.extras["asked"] = Asked.of(
        plan.devices, [*plan.commands, *(command for _, command in groups)]
    )
    tool = tool_for(groups[0][1])
    args = {"target": plan.target_text or ", ".join(d.name for d in plan.devices)}
    actions: list[dict[str, Any]] = []
    said: list[str] = []
    problems: list[str] = []
    confirmation = None
    for devices, command in groups:
        try:
            result = await run_commands(ctx, devices, [command])
        except (HomeError, NoSuchDevice, AmbiguousTarget) as err:
            actions.append(
                action_record(tool, args, False, {"error": err.kind, "detail": str(err)})
            )
            problems.append(str(err))
            continue
        actions.append(action_record(tool_for(command), args, True, result))
        done = list(result.get("done", {}))
        if done:
            said.append(describe_action(done, command, units))
        problems.extend(f["detail"] for f in result.get("failed", []))
        if "confirmation" in ctx.extras:
            confirmation = ctx.extras.pop("confirmation")
    if confirmation is not None:
        return Reply(confirmation.text, "local", actions, confirmation.to_json())
    what = "; ".join(said)
    if said and problems:
        text = soul.reply("partial", what=what, problem="; ".join(problems))
    elif said:
        text = soul.reply("done", what=what)
    else:
        text = soul.reply("failed", problem="; ".join(problems) or "nothing could do that")
        for action in actions:
            action["ok"] = False
    return Reply(text, "local", actions)


def combine(replies: list[Reply]) -> Reply:
    """One reply for the parts of a compound command, in order."""
    if len(replies) == 1:
        return replies[0]
    pending = next((r for r in replies if r.confirmation is not None), None)
    text = " ".join(r.text for r in replies)
    actions = [a for r in replies for a in r.actions]
    return Reply(text, "local", actions, pending.confirmation if pending else None)
