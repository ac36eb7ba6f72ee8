"""The declared dependencies are true: each base dependency is imported by the package,
each import is declared (or comes with a declared dependency), and heavy ones live in
the extra of the feature that needs them.

Read from the installed metadata (`make venv` reinstalls when pyproject.toml changes),
so no TOML parser is needed on Python 3.10.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "pipeline"
SANDBOX = PACKAGE / "sandbox"
#: Dependencies that only one feature needs, and the extra that carries each.
HEAVY = {"moto": "sandbox", "bcrypt": "sandbox", "kubernetes": "eks"}
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(dist: str) -> list[tuple[str, set[str], str | None]]:
    """(name, its extras, the extra of ours it belongs to) for each Requires-Dist."""
    out = []
    for line in metadata.requires(dist) or []:
        found = _REQUIREMENT.match(line)
        assert found, line
        extras = {normal(e) for e in (found[2] or "").split(",") if e.strip()}
        marker = _EXTRA.search(line.partition(";")[2])
        out.append((normal(found[1]), extras, marker[1] if marker else None))
    return out


def declared(extra: str | None) -> set[str]:
    return {name for name, _extras, owner in requirements("pipeline") if owner == extra}


def with_their_requirements(names: Iterable[str]) -> set[str]:
    """The names and what they require themselves (with the extras we ask for)."""
    asked = {name: extras for name, extras, owner in requirements("pipeline")}
    out = set()
    for name in names:
        out.add(name)
        for dep, _extras, owner in requirements(name):
            if owner is None or owner in asked.get(name, set()):
                out.add(dep)
    return out


def top_level_modules() -> dict[str, list[str]]:
    """Importable top-level name -> the distributions that install it.

    `packages_distributions()` reads only top_level.txt on Python 3.10, which
    wheels built by flit (click's, for one) do not have; the files each
    distribution installed tell the same on every version.
    """
    out: dict[str, list[str]] = {}
    for dist in metadata.distributions():
        name = normal(dist.metadata["Name"] or "")
        tops = set()
        for file in dist.files or ():
            first = file.parts[0] if file.parts else ""
            if first.endswith((".dist-info", ".egg-info", ".data")) or first in ("..", ""):
                continue
            tops.add(first[:-3] if first.endswith(".py") else first)
        for top in tops | set((dist.read_text("top_level.txt") or "").split()):
            out.setdefault(top, []).append(name)
    return out


def imports(files: Iterable[Path]) -> dict[str, set[str]]:
    """Third-party distribution -> the files that import it."""
    providers = top_level_modules()
    found: dict[str, set[str]] = {}
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in ("pipeline", "__future__"):
                    continue
                assert top in providers, f"{path}: {top} is imported but not installed"
                for dist in providers[top]:
                    found.setdefault(dist, set()).add(str(path.relative_to(PACKAGE.parent)))
    return found


def package_files(*, sandbox: bool) -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if (SANDBOX in p.parents) is sandbox]


def test_every_base_dependency_is_imported_by_the_package() -> None:
    used = imports(package_files(sandbox=False))
    unused = sorted(declared(None) - set(used))
    assert unused == [], f"declared but never imported outside the sandbox: {unused}"


#: Modules that import an extra's packages (lazily, with an install hint), by extra.
FEATURE_MODULES = {"eks": {"pipeline/adapters/kube.py"}}


def test_every_import_of_the_package_is_declared() -> None:
    allowed = with_their_requirements(declared(None))
    undeclared = {
        d: f for d, f in imports(package_files(sandbox=False)).items() if d not in allowed
    }
    for extra, modules in FEATURE_MODULES.items():
        for dist in list(undeclared):
            if dist in declared(extra) and undeclared[dist] <= modules:
                del undeclared[dist]  # the extra's own adapter, and only it
    assert undeclared == {}


def test_the_sandbox_imports_only_what_it_declares_and_uses_all_of_it() -> None:
    used = imports(package_files(sandbox=True))
    allowed = with_their_requirements(declared(None) | declared("sandbox"))
    assert {d: f for d, f in used.items() if d not in allowed} == {}
    assert sorted(declared("sandbox") - set(used)) == []


def test_heavy_dependencies_live_in_their_feature_extra() -> None:
    base = declared(None)
    for name, extra in HEAVY.items():
        assert name not in base, f"{name} belongs in the [{extra}] extra, not the base install"
        assert name in declared(extra), f"{name} should be declared in [{extra}]"


def test_dev_installs_every_extra_the_tests_need() -> None:
    dev = {
        (name, frozenset(extras))
        for name, extras, owner in requirements("pipeline")
        if owner == "dev" and name == "pipeline"
    }
    assert dev == {("pipeline", frozenset({"sandbox", "eks"}))}


def test_heavy_imports_outside_the_sandbox_are_deferred() -> None:
    """A base install can import every module outside the sandbox: heavy clients are
    imported inside the functions that use them."""
    for path in package_files(sandbox=False):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module.split(".")[0]]
            heavy = [n for n in names if n in HEAVY]
            assert heavy == [], f"{path}: {heavy} imported at module level"
