"""The layout rule of issue 15: no import circle between homeclaw's modules.

The graph is built from the source with `ast`, over agent/, integrations/, vision/ and memory/.
Every import statement counts: at module level, inside a function (a deferred import still
means "this module needs that one"), and under `if TYPE_CHECKING:` (a type is a dependency of
meaning even when it costs nothing at run time). Two things do not count: references by
string (`"integrations.hue.adapter:create"` in the composition root is how the root wires
parts it does not import), and the implicit import of a parent package (`agent/demo/` runs
`agent/demo/__init__.py` before `agent.demo.simulation`; Python allows a package to import
its own children).

Run as a script (`python tests/test_layout.py`) it prints every circle, one per line.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("agent", "integrations", "vision", "memory")


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the four packages, by dotted name (packages by their own name)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours a dotted name lands in (its longest known prefix), if any."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that `module` imports, wherever in the file the import is."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if hit := _target(alias.name, modules):
                    found.add(hit)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                # Relative: strip `level` parts from the importing package.
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from a.b import c` imports a.b.c when c is a module, else a name of a.b.
                if hit := _target(f"{base}.{alias.name}", modules) or _target(base, modules):
                    found.add(hit)
    found.discard(module)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the modules of ours it imports."""
    modules = module_files(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def describe(component: list[str], graph: dict[str, set[str]]) -> str:
    """One circle as its imports inside it: `a → b, b → a`."""
    members = set(component)
    return ", ".join(f"{a} → {b}" for a in component for b in sorted(graph[a] & members))


def test_no_import_circle() -> None:
    """Every import goes one way: from what uses to what is used."""
    graph = import_graph()
    found = circles(graph)
    assert not found, "import circles:\n" + "\n".join(describe(c, graph) for c in found)


def test_the_check_sees_a_circle(tmp_path: Path) -> None:
    """The graph counts deferred, TYPE_CHECKING and relative imports (so the check can fail)."""
    pkg = tmp_path / "agent"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from agent.sub import b\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import X\n"
    )
    (pkg / "sub" / "c.py").write_text("from agent import a\n")
    (pkg / "d.py").write_text("import agent.a\n")
    for other in PACKAGES[1:]:
        (tmp_path / other).mkdir()
    graph = import_graph(tmp_path)
    assert circles(graph) == [["agent.a", "agent.sub.b", "agent.sub.c"]]
    assert describe(circles(graph)[0], graph) == (
        "agent.a → agent.sub.b, agent.sub.b → agent.sub.c, agent.sub.c → agent.a"
    )


if __name__ == "__main__":
    g = import_graph()
    for c in circles(g):
        print(describe(c, g))
