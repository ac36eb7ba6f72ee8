"""`pipeline matrix`, `pipeline iam-policy`, `pipeline outputs`: parsing and printing only."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import click

from pipeline.cli_options import common, setup


def _note(text: str) -> None:
    click.echo(f"pipeline: note: {text}", err=True)


@click.command()
@common
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["github", "json", "codebuild"]),
    default="json",
    show_default=True,
    help="github: {include: [...]}, also to $GITHUB_OUTPUT; codebuild: a batch build-graph.",
)
@click.option(
    "--level",
    type=click.IntRange(min=0),
    help="Only the Nth wave of depends_on, counted from 0 (images that depend on nothing).",
)
@click.pass_context
def matrix(
    ctx: click.Context, file_: str | None, verbose: int, quiet: int, fmt: str, level: int | None
) -> None:
    """One entry per image, for fanning out across CI runners; no side effects."""
    from pipeline import app
    from pipeline.ci import matrix as fanout
    from pipeline.ci import outputs

    path = setup(ctx, file_, verbose, quiet)
    config = app.load_config(app.Source(path))
    selected = fanout.entries(config, level)
    count = fanout.wave_count(config)
    if fmt == "codebuild":
        import yaml

        # the whole graph ends in the build that promotes and deploys; one wave does not
        graph = fanout.codebuild(selected, final=level is None)
        click.echo(yaml.safe_dump(graph, sort_keys=False), nl=False)
    elif fmt == "json":
        click.echo(fanout.as_json(selected, count))
    else:
        text = fanout.github(selected)
        click.echo(text)
        target = os.environ.get("GITHUB_OUTPUT")
        if target:
            outputs.write_github(Path(target), {"matrix": text, "levels": str(count)})


@click.command("iam-policy")
@common
@click.option(
    "--role",
    "roles",
    multiple=True,
    metavar="ARN",
    help="Task or execution role that deploys may pass to ECS (repeatable); default: any role.",
)
@click.pass_context
def iam_policy(
    ctx: click.Context, file_: str | None, verbose: int, quiet: int, roles: Sequence[str]
) -> None:
    """Print the least-privilege IAM policy the config needs; no side effects."""
    from pipeline import app
    from pipeline.ci import iam

    path = setup(ctx, file_, verbose, quiet)
    iam.check_roles(roles)
    config = app.load_config(app.Source(path))
    result = iam.policy(iam.needs(config, os.environ), roles)
    click.echo(result.text())
    for note in result.notes:
        _note(note)


@click.command("outputs")
@click.option(
    "--report",
    "report_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="The run's JSON report.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["github", "env"]),
    default="github",
    show_default=True,
    help="github: append to $GITHUB_OUTPUT; env: print `export` lines (CodeBuild).",
)
def outputs_command(report_file: str, fmt: str) -> None:
    """Step outputs from a run report: digests, image URIs, tags, the report path."""
    from pipeline.ci import outputs
    from pipeline.errors import UsageError

    path = Path(report_file)
    report = outputs.read_report(path)
    if fmt == "env":
        click.echo(outputs.exports(report, str(path)), nl=False)
        return
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        raise UsageError("GITHUB_OUTPUT is not set: --format github runs inside GitHub Actions")
    outputs.write_github(Path(target), outputs.from_report(report, str(path)))
