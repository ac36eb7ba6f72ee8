"""Command line: argument parsing only. Errors become exit codes in `main`.

Heavy imports (pydantic models, boto3, docker, kubernetes) happen inside the
commands so that `pipeline --help` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import click

from pipeline import __version__
from pipeline.cli_options import State as _State
from pipeline.cli_options import common as _common
from pipeline.cli_options import planned as _planned
from pipeline.cli_options import selection_options as _selection_options
from pipeline.cli_options import setup as _setup
from pipeline.cli_options import source_options as _source_options
from pipeline.errors import ConfigError, ExitCode, Interrupted, PipelineError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="pipeline")
@_common
@click.pass_context
def cli(ctx: click.Context, file_: str | None, verbose: int, quiet: int) -> None:
    """Build, tag, push, scan, gate, promote and deploy container images from one YAML file."""
    state = ctx.ensure_object(_State)
    state.file = file_
    state.verbosity = verbose - quiet


@cli.command()
@_common
@click.pass_context
def validate(ctx: click.Context, file_: str | None, verbose: int, quiet: int) -> None:
    """Load and validate the config; no side effects."""
    from pipeline import app

    path = _setup(ctx, file_, verbose, quiet)
    config = app.load_config(app.Source(path))
    names = ", ".join(i.name for i in config.images)
    click.echo(f"{path}: valid ({len(config.images)} image(s): {names})")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the config (for editors)."""
    from pipeline.config.jsonschema import schema as make_schema

    click.echo(json.dumps(make_schema(), indent=2))


@cli.command()
@_common
@_source_options
@click.option("--image", "images", multiple=True, help="Only this image (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["text", "json", "metadata-action"]),
    default=None,
    help="json is --json; metadata-action: docker/metadata-action's outputs for one image,"
    " also to $GITHUB_OUTPUT when set.",
)
@click.pass_context
def tags(
    ctx: click.Context,
    file_: str | None,
    verbose: int,
    quiet: int,
    ref: str | None,
    sha: str | None,
    images: Sequence[str],
    as_json: bool,
    format_: str | None,
) -> None:
    """Compute tags and labels from git and the CI environment."""
    from pipeline import app, log
    from pipeline.report import text

    path = _setup(ctx, file_, verbose, quiet)
    plan = app.make_plan(
        app.Source(path, ref, sha),
        images=images,
        stages=("build",),
        require_tags=False,
        check=False,
    )
    for line in plan.context.origin_lines():
        log.LOG.debug("%s", line)
    for warning in plan.warnings:
        log.LOG.warning("%s", warning)
    for image in plan.images:
        if not image.tags.tags:
            log.LOG.warning("image %s: no tag rule applies to this run", image.name)
    if as_json and format_ not in (None, "json"):
        raise click.UsageError(f"--json and --format {format_} ask for different outputs")
    if format_ == "metadata-action":
        from pipeline.ci import metadata_action, outputs

        values = metadata_action.outputs(plan.tags_json())
        if target := os.environ.get("GITHUB_OUTPUT"):
            outputs.write_github(Path(target), values)
        click.echo(metadata_action.text(values))
    elif as_json or format_ == "json":
        from pipeline.ci import metadata_action

        click.echo(json.dumps(metadata_action.with_shapes(plan.tags_json()), indent=2))
    else:
        click.echo(text.tags(plan))


@cli.command()
@_common
@_source_options
@_selection_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def plan(
    ctx: click.Context,
    file_: str | None,
    verbose: int,
    quiet: int,
    ref: str | None,
    sha: str | None,
    images: Sequence[str],
    only: Sequence[str],
    skip: Sequence[str],
    as_json: bool,
) -> None:
    """Everything `run` would do, resolved; no docker or AWS calls."""
    from pipeline import log
    from pipeline.report import text

    result = _planned(ctx, file_, verbose, quiet, ref, sha, images, only, skip)
    for line in result.context.origin_lines():
        log.LOG.debug("%s", line)
    for warning in result.warnings:
        log.LOG.warning("%s", warning)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo(text.plan(result))


def _register_extras() -> None:
    """Commands that live in their own modules (each imports only click at load)."""
    from pipeline.cli_run import run
    from pipeline.sandbox.cli import sandbox

    cli.add_command(run)
    cli.add_command(sandbox)
    _register_frontends()
    from pipeline.credhelper.cli import credential_helper

    cli.add_command(credential_helper)


def _register_frontends() -> None:
    """Where users run it: CI fan-out, the IAM policy, step outputs, releases."""
    from pipeline.ci.cli import iam_policy, matrix, outputs_command
    from pipeline.release.cli import release

    for command in (matrix, iam_policy, outputs_command, release):
        cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    from pipeline import log

    _register_extras()
    log.setup(0)  # until the command sets its own verbosity
    try:
        # Without standalone mode click *returns* the code of a `ctx.exit(code)`
        # instead of raising it; dropping that value turned failed runs into exit 0.
        code = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="pipeline",
            standalone_mode=False,
        )
    except BaseException as err:  # noqa: BLE001 - the one place errors become exit codes
        return handle(err)
    return code if isinstance(code, int) else int(ExitCode.OK)


def exit_code(err: BaseException) -> int:
    """The contract's exit code for any exception that ends a command."""
    if isinstance(err, click.exceptions.Exit):
        return int(err.exit_code)
    if isinstance(err, SystemExit):
        return err.code if isinstance(err.code, int) else int(err.code is not None)
    if isinstance(err, (KeyboardInterrupt, click.exceptions.Abort)):
        return int(ExitCode.INTERRUPTED)
    if isinstance(err, PipelineError):
        return int(err.exit_code)
    if isinstance(err, click.ClickException):
        return int(ExitCode.USAGE)
    return int(ExitCode.STAGE_FAILED)  # a bug, or a closed output pipe


_QUIET = (click.exceptions.Exit, SystemExit, BrokenPipeError)


def handle(err: BaseException) -> int:
    """Say what ended the command, in one line on stderr (a config error: one line per
    problem), and return its exit code. The traceback is shown only with -vv."""
    from pipeline.log import redact, verbosity

    def say(text: str) -> None:
        click.echo(redact(text), err=True)

    if isinstance(err, BrokenPipeError):
        _silence_stdout()  # the reader went away (`| head`): nothing more to say
    elif not isinstance(err, _QUIET) and verbosity() >= 2:
        say("".join(traceback.format_exception(type(err), err, err.__traceback__)).rstrip())
    if isinstance(err, (KeyboardInterrupt, click.exceptions.Abort, Interrupted)):
        say("pipeline: interrupted")
    elif isinstance(err, ConfigError):
        for problem in err.problems:
            say(problem.render())
        _annotate(err)
    elif isinstance(err, PipelineError):
        say(f"pipeline: error: {err}")
    elif isinstance(err, click.ClickException):
        err.show()
    elif isinstance(err, Exception) and not isinstance(err, _QUIET):
        say(f"pipeline: internal error, please report: {_describe(err)}")
    return exit_code(err)


def _annotate(err: ConfigError) -> None:
    """In GitHub Actions, each problem also becomes an annotation at its place in the file."""
    from pipeline.console import github

    if github.active(os.environ):
        for command in github.config_errors(err.problems, os.environ):
            click.echo(command, err=True)


def _describe(err: BaseException) -> str:
    """The exception's type, where it was raised in our code, and its first line."""
    where = ""
    for frame in reversed(traceback.extract_tb(err.__traceback__)):
        if "pipeline" in Path(frame.filename).parts:
            where = f" at {Path(frame.filename).name}:{frame.lineno}"
            break
    first = (str(err).splitlines() or [""])[0][:200]
    more = "" if _verbosity_is_high() else " (run with -vv for the traceback)"
    return f"{type(err).__name__}{where}{': ' + first if first else ''}{more}"


def _verbosity_is_high() -> bool:
    from pipeline.log import verbosity

    return verbosity() >= 2


def _silence_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def entry() -> None:
    """The console command: `main`, then a quick exit.

    Finalising an interpreter that has loaded boto3 and the Docker SDK takes
    about 0.15 s, a tenth of the overhead a run has over the raw docker
    commands. Nothing is left to clean up by then (reports are written and
    closed, pools shut down), so flush what was printed and leave. After an
    interruption, worker threads may still be tidying up: then exit normally.
    """
    code = main()
    if code == ExitCode.INTERRUPTED:
        sys.exit(code)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
