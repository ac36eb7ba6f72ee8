"""`pipeline run`: parsing only; the work happens in app (the composition root) and runner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.cli_options import State, common, planned, selection_options, source_options

if TYPE_CHECKING:
    from pipeline.plan import Plan
    from pipeline.report.run_report import RunReport
    from pipeline.runner import Progress


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
@click.option(
    "--from-report",
    "from_reports",
    multiple=True,
    metavar="FILE..",
    help="Fan-out's final job: promote and deploy what these runners' reports published,"
    " only if every one passed its gate (with --only promote,deploy or --only deploy).",
)
@click.argument("more_reports", nargs=-1, metavar="[REPORT]...")
@click.pass_context
def run(
    ctx: click.Context,
    file_: str | None,
    verbose: int,
    quiet: int,
    ref: str | None,
    sha: str | None,
    only: Sequence[str],
    skip: Sequence[str],
    images: Sequence[str],
    dry_run: bool,
    report_file: str | None,
    jobs: int | None,
    force: bool,
    from_reports: Sequence[str],
    more_reports: Sequence[str],
) -> None:
    """Build -> push -> scan -> gate -> promote -> deploy (exit 3: the gate blocked).

    REPORT...: more files for --from-report (so `--from-report reports/*.json` works).
    """
    import os
    import sys

    from pipeline import app
    from pipeline.console import choose
    from pipeline.errors import ExitCode
    from pipeline.settings import RunSettings

    checked: list[RunSettings] = []

    def before() -> None:
        # The environment's settings are checked before the config is read or anything runs.
        checked.append(RunSettings.from_env(os.environ).with_jobs(jobs))
        choose.mode(os.environ, sys.stderr)
        app.preload()

    reports = _reports(from_reports, more_reports)
    plan = planned(
        ctx,
        file_,
        verbose,
        quiet,
        ref,
        sha,
        images,
        only,
        skip,
        before=before,
        from_reports=reports,
    )
    settings = checked[0]
    paths = [Path(report_file)] if report_file else []
    if plan.config.outputs.report:
        paths.append(plan.root / plan.config.outputs.report)
    _check_writable(paths)
    plan = plan.writing(paths)  # what the run writes never counts as a build input
    config_file = Path(file_ or ctx.ensure_object(State).file or "pipeline.yaml")

    def go(progress: Progress) -> RunReport:
        return app.run(
            plan,
            settings=settings,
            dry_run=dry_run,
            report_paths=paths,
            force=force,
            progress=progress,
        )

    report = _watched(plan, config_file, dry_run, go)
    if report.status == "blocked":
        # what to fix before the release can go, where CI logs show errors
        click.echo(report.blocking, err=True)
        ctx.exit(int(ExitCode.GATE_BLOCKED))
    if report.status != "ok":
        ctx.exit(int(ExitCode.STAGE_FAILED))


def _check_writable(paths: Sequence[Path]) -> None:
    """A report that cannot be written is refused before anything runs (exit 2), not
    found after the push, when the summary has already said the run was ok."""
    from pipeline.errors import UsageError

    for path in paths:
        why = _cannot_write(path)
        if why:
            raise UsageError(f"cannot write the report {path}: {why}; nothing was run")


def _cannot_write(path: Path) -> str | None:
    import os

    if path.is_dir():
        return "it is a folder"
    if path.exists():
        return None if os.access(path, os.W_OK) else "it is not writable"
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the folders that are missing are created; this one decides
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    return None


def _reports(flagged: Sequence[str], more: Sequence[str]) -> list[str]:
    """`--from-report a.json b.json`: the files after the flag (a shell glob) belong to it."""
    from pipeline.errors import UsageError

    if more and not flagged:
        raise UsageError(
            f"unexpected argument {more[0]!r}: `pipeline run` takes files only after --from-report"
        )
    return [*flagged, *more]


def _watched(
    plan: Plan, config_file: Path, dry_run: bool, run: Callable[[Progress], RunReport]
) -> RunReport:
    """The run with its terminal (pipeline/console): live progress, plain lines or GitHub's
    folds, then the summary table, also for a run that failed or was interrupted."""
    import os
    import sys

    from pipeline import log, runner
    from pipeline.console import choose
    from pipeline.report import run_report

    terminal = choose.open_terminal(
        plan,
        verbosity=log.verbosity(),
        env=os.environ,
        out=sys.stdout,
        err=sys.stderr,
        config_file=config_file,
    )
    progress = runner.Progress(terminal)
    try:
        report = run(progress)
    except BaseException:
        if progress.result.timings:  # it started: the summary says how far it got
            report = run_report.compose(plan, progress.result, dry_run=dry_run)
            terminal.finish(report, progress.result)
        raise
    else:
        terminal.finish(report, progress.result)
    finally:
        terminal.close()
    return report
