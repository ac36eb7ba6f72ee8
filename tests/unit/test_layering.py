"""The package's import graph goes one way: no cycles, and stages see ports only.

Function-local imports count too: a lazy import still ties the two modules
together, and hides the tie from a reader of the module's head.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "pipeline"
#: What a stage may not import: the vendor SDKs and the adapters that wrap them.
NOT_IN_STAGES = ("boto3", "botocore", "docker", "kubernetes", "git", "pipeline.adapters")
#: The port modules stages do use (Protocols and plain data only).
PORTS = ("pipeline.adapters.ports",)


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = [f"{node.module}.{a.name}" for a in node.names]
            found.update([s for s in subs if s in known] or [node.module])
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_package_has_no_import_cycles() -> None:
    known = modules()
    # a package's __init__ imported by its own modules is no cycle worth the name
    graph = {
        m: {t for t in imports(p, known) if t in known and t != m and not m.startswith(f"{t}.")}
        for m, p in known.items()
    }
    assert cycles(graph) == []


def test_stages_import_ports_not_adapters_or_sdks() -> None:
    known = modules()
    leaks = {
        module: sorted(
            t
            for t in imports(path, known)
            if t not in PORTS and any(t == n or t.startswith(f"{n}.") for n in NOT_IN_STAGES)
        )
        for module, path in known.items()
        if module.startswith("pipeline.stages.")
    }
    assert {m: t for m, t in leaks.items() if t} == {}
