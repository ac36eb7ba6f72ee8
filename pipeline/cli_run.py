"""`pipeline run`: parsing only; the work happens in app (the composition root) and runner."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from pipeline.cli_options import common, planned, selection_options, source_options


@click.command()
@common
@source_options
@selection_options
@click.option("--dry-run", is_flag=True, help="No mutating call anywhere; say what would happen.")
@click.option(
    "--report", "report_file", type=click.Path(dir_okay=False), help="Write the JSON report here."
)
@click.option(
    "--jobs", type=click.IntRange(1, 64), help="Images built or pushed at once (default 4)."
)
@click.option(
    "--force",
    is_flag=True,
    help="Deploy even a commit older than the one a target runs, or redeploy the same image.",
)
@click.pass_context
def run(
    ctx: click.Context,
    file_: str | None,
    verbose: int,
    quiet: int,
    ref: str | None,
    sha: str | None,
    only: str | None,
    skip: str | None,
    images: Sequence[str],
    dry_run: bool,
    report_file: str | None,
    jobs: int | None,
    force: bool,
) -> None:
    """Build -> push -> scan -> gate -> promote -> deploy (exit 3: the gate blocked)."""
    import os

    from pipeline import app
    from pipeline.errors import ExitCode
    from pipeline.report import text
    from pipeline.settings import RunSettings

    checked: list[RunSettings] = []

    def before() -> None:
        # The environment's settings are checked before the config is read or anything runs.
        checked.append(RunSettings.from_env(os.environ).with_jobs(jobs))
        app.preload()

    plan = planned(ctx, file_, verbose, quiet, ref, sha, images, only, skip, before=before)
    settings = checked[0]
    paths = [Path(report_file)] if report_file else []
    if plan.config.outputs.report:
        paths.append(plan.root / plan.config.outputs.report)
    plan = plan.writing(paths)  # what the run writes never counts as a build input
    report = app.run(plan, settings=settings, dry_run=dry_run, report_paths=paths, force=force)
    click.echo(text.run_summary(report))
    if report.status == "blocked":
        # what to fix before the release can go, where CI logs show errors
        click.echo(report.blocking, err=True)
        ctx.exit(int(ExitCode.GATE_BLOCKED))
    if report.status != "ok":
        ctx.exit(int(ExitCode.STAGE_FAILED))
