"""`pipeline release`: parse, check everything, tag, push, then run the pipeline for the tag."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from pipeline.cli_options import common, setup
from pipeline.release.version import BUMPS

REMOTE = "origin"


def _say(text: str) -> None:
    click.echo(f"release: {text}", err=True)


def run_command() -> click.Command:
    """The `pipeline run` command the release hands over to (a test swaps it for a fake)."""
    from pipeline.cli_run import run

    return run


def start_run(
    ctx: click.Context,
    *,
    file_: str | None,
    ref: str,
    images: Sequence[str],
    report_file: str | None,
    force: bool,
) -> Any:
    """`pipeline run --ref refs/tags/<tag>`, exactly as if it had been typed."""
    kwargs: dict[str, Any] = {"file_": file_, "ref": ref, "images": tuple(images)}
    if report_file:
        kwargs["report_file"] = report_file
    if force:
        kwargs["force"] = True
    return ctx.invoke(run_command(), **kwargs)


def _run_takes_force() -> bool:
    return any(p.name == "force" for p in run_command().params)


@click.command()
@common
@click.option("--bump", type=click.Choice(BUMPS), required=True, help="Which part to raise.")
@click.option(
    "--image",
    "images",
    multiple=True,
    help="Release the tag prefix of this image (needed when images use different prefixes).",
)
@click.option("--push", is_flag=True, help="Push the tag to origin before the run.")
@click.option(
    "--no-run", is_flag=True, help="Tag (and with --push, push) only: CI builds pushed tags."
)
@click.option("--allow-dirty", is_flag=True, help="Release even with uncommitted changes.")
@click.option("--allow-branch", is_flag=True, help="Release from a branch other than the default.")
@click.option(
    "--force", is_flag=True, help="For the run: deploy even a commit older than the running one."
)
@click.option("--dry-run", is_flag=True, help="Print the tag that would be made; change nothing.")
@click.option(
    "--report", "report_file", type=click.Path(dir_okay=False), help="For the run: the JSON report."
)
@click.pass_context
def release(
    ctx: click.Context,
    file_: str | None,
    verbose: int,
    quiet: int,
    bump: str,
    images: Sequence[str],
    push: bool,
    no_run: bool,
    allow_dirty: bool,
    allow_branch: bool,
    force: bool,
    dry_run: bool,
    report_file: str | None,
) -> None:
    """Create the next annotated semver tag (--push: push it), then run the pipeline for it."""
    from pipeline import app
    from pipeline.adapters.git_release import ReleaseRepo
    from pipeline.errors import UsageError
    from pipeline.release.prepare import prepare

    path = setup(ctx, file_, verbose, quiet)
    runs = not no_run
    if (force or report_file) and not runs:
        raise UsageError("--force and --report are for the run that follows the tag (no --no-run)")
    if force and not _run_takes_force():
        raise UsageError("--force: this version's `pipeline run` has no --force")
    source = app.Source(path)
    config = app.load_config(source)
    context = app.resolve_context(source, config)
    repo = ReleaseRepo(source.root)
    if push and not repo.has_remote(REMOTE):
        raise UsageError(f"--push: the repository has no remote named {REMOTE}")
    plan = prepare(
        config,
        context,
        bump=bump,
        images=images,
        allow_dirty=allow_dirty,
        allow_branch=allow_branch,
        remote_tags=(lambda: repo.remote_tags(REMOTE)) if push else tuple,
    )
    repo.check_tag_name(plan.tag)
    if dry_run:
        _say(f"dry-run: would create {plan.describe()}")
        if push:
            _say(f"dry-run: would push {plan.tag} to {REMOTE}")
        if runs:
            _say(f"dry-run: would run the pipeline for {plan.ref}")
        click.echo(plan.tag)
        return
    repo.create_tag(plan.tag, plan.sha, f"Release {plan.tag}")
    _say(f"created annotated tag {plan.describe()}")
    click.echo(plan.tag)
    if push:
        try:
            repo.push_tag(plan.tag, REMOTE)
        except Exception:
            # Nothing half-done: a tag that never reached the remote would only
            # make the next attempt skip a version.
            repo.delete_tag(plan.tag)
            _say(f"removed the local tag {plan.tag} again")
            raise
        _say(f"pushed {plan.tag} to {REMOTE}")
    else:
        _say(f"the tag is local; to publish it: `git push {REMOTE} {plan.ref}`")
    if runs:
        start_run(
            ctx,
            file_=file_,
            ref=plan.ref,
            images=plan.images,
            report_file=report_file,
            force=force,
        )
