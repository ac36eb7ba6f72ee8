"""Which terminal a run gets, from the environment (and PIPELINE_PROGRESS to force one).

github  GITHUB_ACTIONS=true: plain lines folded per stage, annotations
tty     stderr is a terminal (and TERM is not `dumb`): live progress with rich
plain   anything else (piped, a file, other CI): timestamped lines
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pipeline.errors import UsageError

if TYPE_CHECKING:
    from pipeline.console.terminal import Terminal
    from pipeline.plan import Plan

MODES = ("auto", "tty", "plain", "github")
VARIABLE = "PIPELINE_PROGRESS"


def mode(env: Mapping[str, str], err: IO[str]) -> str:
    """The renderer's name; a bad PIPELINE_PROGRESS is a usage error (exit 2)."""
    forced = (env.get(VARIABLE) or "auto").strip().lower()
    if forced not in MODES:
        raise UsageError(f"{VARIABLE} must be one of {', '.join(MODES)}, not {forced!r}")
    if forced != "auto":
        return forced
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    isatty = getattr(err, "isatty", None)
    if isatty is not None and isatty() and env.get("TERM", "") != "dumb":
        return "tty"
    return "plain"


def pushed_as(plan: Plan) -> list[tuple[str, str]]:
    """(image name, `repository:tag` its push names) for each image of the plan."""
    return [
        (i.name, f"{i.image}:{i.tags.immutable[0]}" if i.tags.immutable else i.image)
        for i in plan.images
    ]


def open_terminal(
    plan: Plan,
    *,
    verbosity: int,
    env: Mapping[str, str],
    out: IO[str],
    err: IO[str],
    config_file: Path | None = None,
) -> Terminal:
    """The run's terminal, installed as the package's log handler (until `close`)."""
    name = mode(env, err)
    kind: type[Terminal]
    if name == "tty":
        from pipeline.console.live import LiveTerminal

        kind = LiveTerminal
    elif name == "github":
        from pipeline.console.plain import GitHub

        kind = GitHub
    else:
        from pipeline.console.plain import Plain

        kind = Plain
    terminal = kind(
        pushed_as(plan),
        verbosity=verbosity,
        out=out,
        err=err,
        clock=time.monotonic,
        env=env,
        config_file=config_file,
        stages=plan.stages,
    )
    terminal.install()
    return terminal
