"""Fan-out across CI runners: one entry per image, in waves of `depends_on`.

Pure: from the config to plain values. Wave 0 holds the images that depend on
nothing; an image sits in the wave after the last of its dependencies, so a
workflow can run one matrix job per wave, each `needs:` the one before.
Levels are 0-based, like the `levels` count is a length: `--level 0` .. `--level levels-1`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.config.schema import Config
from pipeline.errors import UsageError

#: CodeBuild batch identifiers: letters, digits and underscores, at most 127.
_IDENTIFIER_MAX = 127
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")


@dataclass(frozen=True)
class Entry:
    name: str
    repository: str
    context: str
    dockerfile: str
    target: str | None
    platforms: tuple[str, ...]
    depends_on: tuple[str, ...]
    level: int

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "repository": self.repository,
            "context": self.context,
            "dockerfile": self.dockerfile,
            "target": self.target,
            "platforms": list(self.platforms),
            "depends_on": list(self.depends_on),
            "level": self.level,
        }


def levels(config: Config) -> dict[str, int]:
    """The wave of each image: 0 without dependencies, else one after its latest dependency."""
    deps = {image.name: image.depends_on for image in config.images}
    found: dict[str, int] = {}

    def level(name: str, seen: tuple[str, ...]) -> int:
        if name in found:
            return found[name]
        if name in seen:  # the config loader refuses cycles; never loop if one slips by
            raise UsageError(f"depends_on has a cycle: {' -> '.join((*seen, name))}")
        below = [level(dep, (*seen, name)) for dep in deps[name] if dep in deps]
        found[name] = 1 + max(below) if below else 0
        return found[name]

    for name in deps:
        level(name, ())
    return found


def entries(config: Config, level: int | None = None) -> list[Entry]:
    """Every image in config order, or those of wave `level` (out of range: a usage error)."""
    waves = levels(config)
    count = 1 + max(waves.values())
    if level is not None and not 0 <= level < count:
        raise UsageError(
            f"--level {level}: the config has {count} wave(s) of depends_on,"
            f" levels 0 to {count - 1}"
        )
    out = [
        Entry(
            name=image.name,
            repository=image.repository or image.name,
            context=image.context,
            dockerfile=image.dockerfile,
            target=image.target,
            platforms=image.platforms,
            depends_on=image.depends_on,
            level=waves[image.name],
        )
        for image in config.images
    ]
    return [e for e in out if level is None or e.level == level]


def wave_count(config: Config) -> int:
    return 1 + max(levels(config).values())


def github(selected: Sequence[Entry]) -> str:
    """Compact `{"include": [...]}` for `strategy.matrix: ${{ fromJSON(...) }}`."""
    return json.dumps({"include": [e.to_json() for e in selected]}, separators=(",", ":"))


def as_json(selected: Sequence[Entry], count: int) -> str:
    return json.dumps({"levels": count, "include": [e.to_json() for e in selected]}, indent=2)


def identifier(name: str, taken: set[str]) -> str:
    """A CodeBuild batch identifier for `name`, unique among `taken` (which it joins)."""
    base = _NOT_IDENTIFIER.sub("_", f"build_{name}")
    if len(base) > _IDENTIFIER_MAX:
        digest = hashlib.sha256(name.encode()).hexdigest()[:6]
        base = f"{base[: _IDENTIFIER_MAX - 7]}_{digest}"
    ident, n = base, 1
    while ident in taken:
        n += 1
        suffix = f"_{n}"
        ident = f"{base[: _IDENTIFIER_MAX - len(suffix)]}{suffix}"
    taken.add(ident)
    return ident


#: What a fan-out runner leaves to the final build: nothing moves or deploys per image.
RUNNER_SKIP = "promote,deploy"
#: The final build of the whole graph; image builds are all `build_...`, so it never clashes.
FINAL_BUILD = "promote_deploy"


def codebuild(selected: Sequence[Entry], final: bool = True) -> dict[str, Any]:
    """A buildspec `batch: build-graph:` block: one build per image, `depend-on` its dependencies.

    Every image build runs with `PIPELINE_SKIP=promote,deploy`: a runner whose
    image passed must not move mutable tags or deploy while another is blocked
    (one decision per release). With `final`, one more build depends on every
    image build; CodeBuild starts it only when they all succeeded (a blocked
    gate exits 3), and it runs the whole pipeline, which reuses the pushed
    images and their scans, gates them once more and promotes and deploys.
    Dependencies outside `selected` (a single `--level`) are left out: CodeBuild
    refuses a `depend-on` that names no build of the graph.
    """
    taken: set[str] = set()
    ids = {e.name: identifier(e.name, taken) for e in selected}
    graph: list[dict[str, Any]] = []
    for e in selected:
        build: dict[str, Any] = {
            "identifier": ids[e.name],
            "env": {"variables": {"PIPELINE_IMAGE": e.name, "PIPELINE_SKIP": RUNNER_SKIP}},
        }
        depend_on = [ids[d] for d in e.depends_on if d in ids]
        if depend_on:
            build["depend-on"] = depend_on
        graph.append(build)
    if final and graph:
        graph.append(
            {
                "identifier": FINAL_BUILD,
                "env": {"variables": {"PIPELINE_IMAGE": "", "PIPELINE_SKIP": ""}},
                "depend-on": [ids[e.name] for e in selected],
            }
        )
    return {"batch": {"build-graph": graph}}
