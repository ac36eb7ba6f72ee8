"""Context from flags, GitHub Actions, CodeBuild and git: one table, real repositories.

Each case names a repository state (built with the git CLI), an environment
(always an explicit dict, never os.environ), an optional GitHub event payload
and flags, and the Context fields it must produce. `{name}` in strings and
`W("name")` anywhere stand for facts of the built repository (shas, dates).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pipeline import providers
from pipeline.context import Context
from pipeline.errors import ContextError
from tests.unit.tags.worlds import (
    W,
    World,
    broken_config,
    codebuild_checkout,
    detached_many,
    detached_rc_and_stable,
    detached_untagged,
    dirty,
    nested_tag,
    no_commits,
    no_git,
    on_main,
    pull_request,
    shallow,
    tagged,
    untracked_only,
)

NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.timezone.utc)

# --------------------------------------------------------------------------- environments

GH = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app"}
REPO_PAYLOAD = {
    "default_branch": "main",
    "html_url": "https://github.com/acme/app",
    "description": "The app",
    "license": {"spdx_id": "Apache-2.0"},
}
PR_PAYLOAD = {
    "number": 7,
    "pull_request": {
        "number": 7,
        "head": {"sha": "{pr_head}", "ref": "feature"},
        "base": {"sha": "{base_tip}", "ref": "main"},
    },
    "repository": REPO_PAYLOAD,
}
CB = {
    "CODEBUILD_BUILD_ID": "app:0b6e7c1e",
    "CODEBUILD_SOURCE_REPO_URL": "https://github.com/acme/app.git",
}


@dataclass(frozen=True)
class Case:
    id: str
    world: Callable[[Path], World]
    env: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] | None = None
    flags: dict[str, str] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # a fragment of the ContextError message


CASES = [
    # ----------------------------------------------------------------- GitHub Actions
    Case(
        "github push to a branch",
        on_main,
        {
            **GH,
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_SHA": "{head}",
        },
        {"repository": REPO_PAYLOAD},
        expect={
            "provider": "github",
            "event": "push",
            "ref": "refs/heads/main",
            "sha": "{head}",
            "branch": "main",
            "tag": None,
            "pr": None,
            "default_branch": "main",
            "source_url": "https://github.com/acme/app",
            "description": "The app",
            "licenses": "Apache-2.0",
            "commit_time": W("head_time"),
            "dirty": False,
            "shallow": False,
        },
    ),
    Case(
        "github push of a tag",
        tagged,
        {
            **GH,
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/tags/v1.1.0",
            "GITHUB_SHA": "{head}",
        },
        {"repository": REPO_PAYLOAD},
        expect={
            "ref": "refs/tags/v1.1.0",
            "branch": None,
            "tag": "v1.1.0",
            "head_tags": ("v1.1.0",),
            "repo_tags": ("v1.0.0", "v1.1.0"),
        },
    ),
    Case(
        "github tag push whose tag the checkout did not fetch",
        on_main,
        {
            **GH,
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/tags/v3.0.0",
            "GITHUB_SHA": "{head}",
        },
        expect={"tag": "v3.0.0", "head_tags": ("v3.0.0",), "branch": None},
    ),
    Case(
        "github tag ref that git has on another commit is refused",
        tagged,
        {
            **GH,
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/tags/v1.0.0",
            "GITHUB_SHA": "{head}",
        },
        error="GITHUB_REF names tag v1.0.0",
    ),
    Case(
        "github pull_request: the PR head, never the merge commit in GITHUB_SHA",
        pull_request,
        {
            **GH,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REF": "refs/pull/7/merge",
            "GITHUB_SHA": "{merge}",
            "GITHUB_HEAD_REF": "feature",
            "GITHUB_BASE_REF": "main",
        },
        PR_PAYLOAD,
        expect={
            "event": "pull_request",
            "sha": "{pr_head}",
            "ref": "refs/pull/7/head",
            "pr": 7,
            "branch": None,
            "tag": None,
            "base_ref": "main",
            "head_ref": "feature",
            "default_branch": "main",
            "commit_time": W("pr_head_time"),
        },
    ),
    Case(
        "github pull_request_target: the PR head, never the base tip",
        pull_request,
        {
            **GH,
            "GITHUB_EVENT_NAME": "pull_request_target",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_SHA": "{base_tip}",
            "GITHUB_HEAD_REF": "feature",
            "GITHUB_BASE_REF": "main",
        },
        PR_PAYLOAD,
        expect={
            "event": "pull_request_target",
            "sha": "{pr_head}",
            "pr": 7,
            "branch": None,
            "base_ref": "main",
        },
    ),
    Case(
        "github pull_request_review is a PR build too",
        pull_request,
        {
            **GH,
            "GITHUB_EVENT_NAME": "pull_request_review",
            "GITHUB_REF": "refs/pull/7/merge",
            "GITHUB_SHA": "{merge}",
        },
        PR_PAYLOAD,
        expect={"event": "pull_request_review", "sha": "{pr_head}", "pr": 7, "branch": None},
    ),
    Case(
        "github pull_request without its payload is an error, not the merge sha",
        pull_request,
        {**GH, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge"},
        error="GITHUB_EVENT_PATH",
    ),
    Case(
        "github schedule runs on the default branch",
        on_main,
        {
            **GH,
            "GITHUB_EVENT_NAME": "schedule",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_SHA": "{head}",
        },
        {"schedule": "0 3 * * *", "repository": REPO_PAYLOAD},
        expect={"event": "schedule", "branch": "main", "pr": None, "sha": "{head}"},
    ),
    Case(
        "github workflow_dispatch on a branch",
        on_main,
        {
            **GH,
            "GITHUB_EVENT_NAME": "workflow_dispatch",
            "GITHUB_REF": "refs/heads/release/2.x",
            "GITHUB_SHA": "{base}",
        },
        {"inputs": {}, "ref": "refs/heads/release/2.x", "repository": REPO_PAYLOAD},
        expect={"event": "workflow_dispatch", "branch": "release/2.x", "sha": "{base}"},
    ),
    Case(
        "github workflow_dispatch on a tag",
        tagged,
        {
            **GH,
            "GITHUB_EVENT_NAME": "workflow_dispatch",
            "GITHUB_REF": "refs/tags/v1.0.0",
            "GITHUB_SHA": "{base}",
        },
        expect={"tag": "v1.0.0", "branch": None, "sha": "{base}", "head_tags": ("v1.0.0",)},
    ),
    Case(
        "GITHUB_ACTIONS other than true is a local run",
        on_main,
        {"GITHUB_ACTIONS": "false", "GITHUB_REF": "refs/heads/other", "GITHUB_SHA": "{base}"},
        expect={"provider": "local", "ref": "refs/heads/main", "sha": "{head}"},
    ),
    # ----------------------------------------------------------------- CodeBuild
    Case(
        "codebuild branch webhook",
        codebuild_checkout,
        {
            **CB,
            "CODEBUILD_WEBHOOK_TRIGGER": "branch/feature/login",
            "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/feature/login",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": "{head}",
            "CODEBUILD_SOURCE_VERSION": "{head}",
        },
        expect={
            "provider": "codebuild",
            "event": "push",
            "ref": "refs/heads/feature/login",
            "branch": "feature/login",
            "sha": "{head}",
            "source_url": "https://github.com/acme/app",
        },
    ),
    Case(
        "codebuild tag webhook",
        codebuild_checkout,
        {
            **CB,
            "CODEBUILD_WEBHOOK_TRIGGER": "tag/v1.1.0",
            "CODEBUILD_WEBHOOK_HEAD_REF": "refs/tags/v1.1.0",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": "{head}",
        },
        expect={"ref": "refs/tags/v1.1.0", "tag": "v1.1.0", "branch": None, "sha": "{head}"},
    ),
    Case(
        "codebuild pr webhook",
        codebuild_checkout,
        {
            **CB,
            "CODEBUILD_WEBHOOK_TRIGGER": "pr/12",
            "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/feature",
            "CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/main",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": "{pr_head}",
            "CODEBUILD_SOURCE_VERSION": "pr/12",
        },
        expect={
            "event": "pull_request",
            "pr": 12,
            "ref": "refs/pull/12/head",
            "sha": "{pr_head}",
            "branch": None,
            "base_ref": "main",
            "head_ref": "feature",
        },
    ),
    Case(
        "codebuild source version pr/N without a webhook",
        codebuild_checkout,
        {
            **CB,
            "CODEBUILD_SOURCE_VERSION": "pr/5",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": "{pr_head}",
        },
        expect={"event": "pull_request", "pr": 5, "sha": "{pr_head}", "branch": None},
    ),
    Case(
        "codebuild source version as a full ref",
        codebuild_checkout,
        {
            **CB,
            "CODEBUILD_SOURCE_VERSION": "refs/heads/main",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": "{head}",
        },
        expect={"ref": "refs/heads/main", "branch": "main"},
    ),
    Case(
        "codebuild start-build --source-version with a branch name",
        codebuild_checkout,
        {**CB, "CODEBUILD_SOURCE_VERSION": "main", "CODEBUILD_RESOLVED_SOURCE_VERSION": "{head}"},
        expect={"ref": "refs/heads/main", "branch": "main", "sha": "{head}", "tag": "v1.1.0"},
    ),
    Case(
        "codebuild start-build --source-version with a tag name",
        codebuild_checkout,
        {**CB, "CODEBUILD_SOURCE_VERSION": "v1.0.0", "CODEBUILD_RESOLVED_SOURCE_VERSION": "{base}"},
        expect={"ref": "refs/tags/v1.0.0", "branch": None, "tag": "v1.0.0", "sha": "{base}"},
    ),
    Case(
        "codebuild with only a commit in CODEBUILD_SOURCE_VERSION: tags on it name the ref",
        codebuild_checkout,
        {**CB, "CODEBUILD_SOURCE_VERSION": "{head}"},
        expect={"sha": "{head}", "ref": "refs/tags/v1.1.0", "tag": "v1.1.0", "branch": None},
    ),
    Case(
        "codepipeline zip without .git is an error that says how to fix it",
        no_git,
        {
            **CB,
            "CODEBUILD_INITIATOR": "codepipeline/app",
            "CODEBUILD_SOURCE_VERSION": "arn:aws:s3:::codepipeline-bucket/app/SourceArti/x.zip",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": "{head}",
        },
        error="Full clone",
    ),
    # ----------------------------------------------------------------- local git
    Case(
        "local branch",
        on_main,
        expect={
            "provider": "local",
            "event": "push",
            "ref": "refs/heads/main",
            "branch": "main",
            "sha": "{head}",
            "tag": None,
            "default_branch": "main",
            "source_url": "https://github.com/acme/app",
            "head_tags": (),
            "repo_tags": (),
            "origins": (("ref", "git"),),
        },
    ),
    Case(
        "local branch with tags on HEAD",
        tagged,
        expect={"branch": "main", "tag": "v1.1.0", "head_tags": ("v1.1.0",)},
    ),
    Case(
        "local detached HEAD without tags",
        detached_untagged,
        expect={"ref": None, "branch": None, "tag": None, "sha": "{head}", "default_branch": None},
    ),
    Case(
        "local detached HEAD: the stable release beats its rc, whatever git's order",
        detached_rc_and_stable,
        expect={
            "ref": "refs/tags/v1.2.0",
            "tag": "v1.2.0",
            "branch": None,
            "head_tags": ("v1.2.0", "v1.2.0-rc.1"),
            "repo_tags": ("v1.1.0", "v1.2.0", "v1.2.0-rc.1"),
        },
    ),
    Case(
        "local detached HEAD: SemVer precedence, not text order",
        detached_many,
        expect={
            "tag": "v1.10.0",
            "head_tags": ("backend/v3.0.0", "nightly", "v1.10.0", "v1.10.0-rc.2", "v1.9.0"),
        },
    ),
    Case(
        "an annotated tag of an annotated tag still names the commit",
        nested_tag,
        expect={"head_tags": ("v2.0.0", "v2.0.0-again"), "tag": "v2.0.0"},
    ),
    Case("a changed tracked file makes the tree dirty", dirty, expect={"dirty": True}),
    Case("untracked files do not", untracked_only, expect={"dirty": False}),
    Case(
        "shallow clone: tags on HEAD are known, the repository's tags are not",
        shallow,
        expect={
            "shallow": True,
            "branch": "trunk",
            "default_branch": "trunk",
            "tag": "v2.0.0",
            "head_tags": ("v2.0.0",),
            "repo_tags": None,
            "source_url": None,
        },
    ),
    Case(
        "default_branch from config beats CI and origin/HEAD",
        on_main,
        {**GH, "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": "{head}"},
        {"repository": REPO_PAYLOAD},
        {"default_branch": "trunk"},
        expect={"default_branch": "trunk"},
    ),
    Case(
        "no git metadata at all is an error that says how to fix it",
        no_git,
        error="Full clone",
    ),
    Case("a repository without commits", no_commits, error="no commits yet"),
    Case(
        "git failing is reported in git's words, not as an empty repository",
        broken_config,
        error="failed: fatal: bad config line",
    ),
    # ----------------------------------------------------------------- flags
    Case(
        "--ref and --sha without git: a run from stated facts",
        no_git,
        flags={"ref": "refs/tags/v1.2.3", "sha": "{head}"},
        expect={
            "provider": "local",
            "tag": "v1.2.3",
            "sha": "{head}",
            "repo_tags": None,
            "dirty": False,
            "origins": (("ref", "--ref"), ("sha", "--sha")),
        },
    ),
    Case(
        "--sha (abbreviated) picks the commit; HEAD's branch does not apply to it",
        tagged,
        flags={"sha": "v1.0.0"},
        expect={"sha": "{base}", "ref": "refs/tags/v1.0.0", "branch": None, "tag": "v1.0.0"},
    ),
    Case(
        "--ref with a bare tag name, --sha its commit",
        tagged,
        flags={"ref": "v1.0.0", "sha": "{base}"},
        expect={"ref": "refs/tags/v1.0.0", "tag": "v1.0.0", "sha": "{base}"},
    ),
    Case(
        "--ref naming a tag on another commit is refused",
        tagged,
        flags={"ref": "refs/tags/v1.0.0"},
        error="--ref names tag v1.0.0",
    ),
    Case("--ref that git does not know", on_main, flags={"ref": "nope"}, error="no such tag"),
    Case(
        "--ref overrides GitHub: a branch ref turns a PR run into a push",
        pull_request,
        {
            **GH,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REF": "refs/pull/7/merge",
            "GITHUB_SHA": "{merge}",
        },
        PR_PAYLOAD,
        {"ref": "refs/heads/feature"},
        expect={
            "event": "push",
            "pr": None,
            "branch": "feature",
            "base_ref": None,
            "sha": "{pr_head}",
        },
    ),
    Case(
        "--ref refs/pull/N/head on a local run is a PR build",
        on_main,
        flags={"ref": "refs/pull/5/head"},
        expect={"event": "pull_request", "pr": 5, "branch": None},
    ),
]


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, W):
        return world[value.name]
    if isinstance(value, str):
        return value.format_map(world) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_fill(v, world) for v in value)
    return value


def _resolve(case: Case, tmp_path: Path) -> tuple[World, Context | ContextError]:
    world = case.world(tmp_path)
    env = _fill(case.env, world)
    if case.payload is not None:
        event = tmp_path / "event.json"
        event.write_text(json.dumps(_fill(case.payload, world)), encoding="utf-8")
        env["GITHUB_EVENT_PATH"] = str(event)
    try:
        ctx = providers.resolve(env, world["path"], now=NOW, **_fill(case.flags, world))
    except ContextError as err:
        return world, err
    return world, ctx


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_context(case: Case, tmp_path: Path) -> None:
    world, got = _resolve(case, tmp_path)
    if case.error is not None:
        assert isinstance(got, ContextError), f"expected an error, got {got}"
        assert case.error in str(got)
        return
    assert isinstance(got, Context), f"unexpected error: {got}"
    actual = {name: getattr(got, name) for name in case.expect}
    assert actual == _fill(case.expect, world)
    assert got.now == NOW


def test_no_git_message_names_every_fix(tmp_path: Path) -> None:
    with pytest.raises(ContextError) as err:
        providers.resolve({}, no_git(tmp_path)["path"])
    message = str(err.value)
    for fix in ("CODEBUILD_CLONE_REF", "git checkout", "--sha and --ref"):
        assert fix in message


def test_resolve_reads_no_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The env argument is the only environment: os.environ's CI variables are ignored."""
    world = on_main(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REF", "refs/heads/elsewhere")
    monkeypatch.setenv("CODEBUILD_BUILD_ID", "x")
    ctx = providers.resolve({}, world["path"])
    assert (ctx.provider, ctx.branch) == ("local", "main")
