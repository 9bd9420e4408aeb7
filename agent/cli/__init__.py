"""The `homeclaw` command line: one module per command group, plus the HTTP client (client.py)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal

# Modules adding subcommands: each has `register(subparsers)`; handlers are set
# with `set_defaults(func=...)` and return an exit status.
CLI_MODULES = [
    "agent.cli.core",
    "agent.cli.memory",
    "agent.cli.lists",
    "agent.cli.brain",
    "agent.cli.discovery",
    "agent.cli.messaging",
    "agent.cli.routines",
    "agent.cli.vision",
    "agent.cli.eval",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="homeclaw", description="A self-hosted agent for your home."
    )
    parser.add_argument("--home", help="home folder (default $HOMECLAW_HOME or ~/.homeclaw)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in CLI_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    # `homeclaw devices | head` should end quietly, as other command-line tools do.
    with contextlib.suppress(ValueError):  # only the main thread may set signals
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    status: int = args.func(args)
    return status
