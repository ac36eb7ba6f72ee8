"""Options and set-up shared by every command module (cli.py, cli_run.py, ci/, release/).

Kept apart from cli.py so that command modules import it, and cli.py imports
them, without a cycle. Heavy modules (the config schema, the SDKs) load only
inside the functions: `pipeline --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from pipeline.plan import Plan

F = TypeVar("F", bound=Callable[..., Any])


class State:
    """-f and the verbosity, given before or after the command name."""

    def __init__(self) -> None:
        self.file: str | None = None
        self.verbosity = 0


def common(func: F) -> F:
    """-f/-v/-q accepted before or after the command name."""
    func = click.option("-q", "--quiet", count=True, help="Less output.")(func)
    func = click.option("-v", "--verbose", count=True, help="More output.")(func)
    return click.option(
        "-f",
        "--file",
        "file_",
        type=click.Path(dir_okay=False),
        default=None,
        help="Config file (default: pipeline.yaml).",
    )(func)


def source_options(func: F) -> F:
    func = click.option("--sha", help="Commit to tag (overrides CI and git).")(func)
    return click.option("--ref", help="Ref being built, e.g. refs/tags/v1.2.3.")(func)


def selection_options(func: F) -> F:
    """Which images and which stages (plan and run)."""
    # Repeatable, and every value counts: keeping only the last one would make
    # `--skip deploy --skip promote` a run that deploys.
    func = click.option(
        "--skip", multiple=True, help="Comma-separated stages to leave out (repeatable)."
    )(func)
    func = click.option(
        "--only",
        multiple=True,
        help="Comma-separated stages to run (build,push,scan,gate,promote,deploy; repeatable).",
    )(func)
    return click.option("--image", "images", multiple=True, help="Only this image (repeatable).")(
        func
    )


def setup(ctx: click.Context, file_: str | None, verbose: int, quiet: int) -> Path:
    """Logging at the asked verbosity; the config file's path."""
    from pipeline import log

    state: State = ctx.ensure_object(State)
    state.verbosity += verbose - quiet
    log.setup(state.verbosity)
    return Path(file_ or state.file or "pipeline.yaml")


def _csv(values: Sequence[str]) -> list[str] | None:
    """The names in a repeatable comma-separated option; None when it was not given, and
    no name when a value names none (an unset CI variable), so that it is refused."""
    if not values:
        return None
    each = [[n.strip() for n in value.split(",") if n.strip()] for value in values]
    return [name for names in each for name in names] if all(each) else []


def planned(
    ctx: click.Context,
    file_: str | None,
    verbose: int,
    quiet: int,
    ref: str | None,
    sha: str | None,
    images: Sequence[str],
    only: Sequence[str],
    skip: Sequence[str],
    before: Callable[[], None] = lambda: None,
    from_reports: Sequence[str] = (),
) -> Plan:
    """The plan for the selected images and stages; `before` runs once set up."""
    from pipeline import app
    from pipeline.stages import order

    path = setup(ctx, file_, verbose, quiet)
    selection = order.select(_csv(only), _csv(skip))
    before()
    return app.make_plan(
        app.Source(path, ref, sha), images=images, selection=selection, from_reports=from_reports
    )
