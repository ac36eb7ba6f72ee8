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
from tests.unit.tag_worlds import (
    W,
    World,
    broken_config,
    codebuild_at_base,
    codebuild_checkout,
    codebuild_pr_checkout,
    detached_many,
    detached_rc_and_stable,
    detached_untagged,
    dirty,
    nested_tag,
    no_commits,
    no_git,
    on_main,
    pull_request,
    pull_request_base,
    pull_request_head,
    rc_then_release,
    shallow,
    shallow_checkout_fetch_tags,
    shallow_only_head_release,
    shallow_tags_fetched,
    shallow_unreachable_origin,
    shallow_without_origin,
    tag_named_like_the_branch,
    tagged,
    tagged_at_base,
    tagged_ids,
    untracked_only,
)

pytestmark = pytest.mark.usefixtures("clean_environment")

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
    Case(
        "a tag with the branch's name does not change the branch's name",
        tag_named_like_the_branch,
        expect={"ref": "refs/heads/main", "branch": "main", "tag": "main", "sha": "{head}"},
    ),
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
        "github pull_request on GitHub's merge commit: refused, with the checkout fix",
        pull_request,
        {
            **GH,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REF": "refs/pull/7/merge",
            "GITHUB_SHA": "{merge}",
        },
        PR_PAYLOAD,
        error="`ref: ${{ github.event.pull_request.head.sha }}` in actions/checkout",
    ),
    Case(
        "github pull_request_target on the base tip: refused",
        pull_request_base,
        {
            **GH,
            "GITHUB_EVENT_NAME": "pull_request_target",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_SHA": "{base_tip}",
        },
        PR_PAYLOAD,
        error="this pull_request_target run is for PR #7, whose head is",
    ),
    Case(
        "github pull_request on the PR head: the PR head, never the merge commit in GITHUB_SHA",
        pull_request_head,
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
        pull_request_head,
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
        pull_request_head,
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
            "GITHUB_SHA": "{head}",
        },
        {"inputs": {}, "ref": "refs/heads/release/2.x", "repository": REPO_PAYLOAD},
        expect={"event": "workflow_dispatch", "branch": "release/2.x", "sha": "{head}"},
    ),
    Case(
        "github push whose GITHUB_SHA is not the checked-out commit: refused",
        on_main,
        {
            **GH,
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_SHA": "{base}",
        },
        error="GITHUB_SHA is",
    ),
    Case(
        "github workflow_dispatch on a tag",
        tagged_at_base,
        {
            **GH,
            "GITHUB_EVENT_NAME": "workflow_dispatch",
            "GITHUB_REF": "refs/tags/v1.0.0",
            "GITHUB_SHA": "{base}",
        },
        expect={
            "tag": "v1.0.0",
            "tag_event": True,
            "branch": None,
            "sha": "{base}",
            "head_tags": ("v1.0.0",),
        },
    ),
    Case(
        "github tag push of an rc onto a released commit: the pushed tag is the tag",
        rc_then_release,
        {
            **GH,
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/tags/v2.0.0-rc.1",
            "GITHUB_SHA": "{head}",
        },
        expect={
            "tag": "v2.0.0-rc.1",
            "tag_event": True,
            "head_tags": ("v2.0.0", "v2.0.0-rc.1"),
        },
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
        codebuild_pr_checkout,
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
        codebuild_pr_checkout,
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
        "codebuild whose resolved commit is not the checked-out one: refused",
        codebuild_checkout,
        {**CB, "CODEBUILD_RESOLVED_SOURCE_VERSION": "{base}"},
        error="CODEBUILD_RESOLVED_SOURCE_VERSION is",
    ),
    Case(
        "codebuild start-build --source-version with a tag name",
        codebuild_at_base,
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
            "tag_event": False,
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
        "shallow clone lacking a release tag origin has: the tags are unknown, and why",
        shallow,
        expect={
            "shallow": True,
            "branch": "trunk",
            "default_branch": "trunk",
            "tag": "v2.0.0",
            "head_tags": ("v2.0.0",),
            "repo_tags": None,
            "repo_tags_note": W("missing_v1"),
            "source_url": None,
        },
    ),
    Case(
        "shallow clone after git fetch --tags: every tag, no history needed",
        shallow_tags_fetched,
        expect={"shallow": True, "repo_tags": ("v1.0.0", "v2.0.0"), "repo_tags_note": None},
    ),
    Case(
        "shallow clone from actions/checkout with fetch-tags: every tag",
        shallow_checkout_fetch_tags,
        expect={"shallow": True, "tag": "v2.0.0", "repo_tags": ("v1.0.0", "v2.0.0")},
    ),
    Case(
        "shallow clone whose origin has no other release: origin asked, tags complete",
        shallow_only_head_release,
        expect={"shallow": True, "repo_tags": ("v2.0.0",), "repo_tags_note": None},
    ),
    Case(
        "shallow clone whose origin cannot be asked: the tags are unknown, and why",
        shallow_unreachable_origin,
        expect={"repo_tags": None, "repo_tags_note": W("origin_unreachable")},
    ),
    Case(
        "shallow clone without an origin",
        shallow_without_origin,
        expect={"repo_tags": None, "repo_tags_note": W("no_origin")},
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
            "tag_event": True,
            "sha": "{head}",
            "repo_tags": None,
            "repo_tags_note": providers.NO_REPOSITORY_NOTE,
            "dirty": False,
            "origins": (("ref", "--ref"), ("sha", "--sha")),
        },
    ),
    Case(
        "--sha of another commit is refused: the tree is the commit",
        tagged,
        flags={"sha": "v1.0.0"},
        error="--sha v1.0.0 names commit",
    ),
    Case(
        "--sha of a commit this clone lacks is refused",
        tagged,
        flags={"sha": "0123456789abcdef0123456789abcdef01234567"},
        error="names a commit that is not in this clone",
    ),
    Case(
        "--sha naming HEAD by a tag name: the commit, and HEAD's branch applies",
        tagged,
        flags={"sha": "v1.1.0"},
        expect={"sha": "{head}", "ref": "refs/heads/main", "branch": "main", "tag": "v1.1.0"},
    ),
    Case(
        "--sha with an annotated tag's object id is peeled to its commit",
        tagged_ids,
        flags={"sha": "{v1_1_0_object}"},
        expect={"sha": "{head}", "tag": "v1.1.0"},
    ),
    Case(
        "--sha with another commit's annotated tag id is refused, not a traceback",
        tagged_ids,
        flags={"sha": "{v1_0_0_object}"},
        error="but the checked-out HEAD is",
    ),
    Case(
        "--ref with a bare tag name, --sha its commit (checked out)",
        tagged_at_base,
        flags={"ref": "v1.0.0", "sha": "{base}"},
        expect={"ref": "refs/tags/v1.0.0", "tag": "v1.0.0", "tag_event": True, "sha": "{base}"},
    ),
    Case(
        "--sha that looks like an option never reaches git as one",
        tagged,
        flags={"sha": "--output=x"},
        error="--sha '--output=x': not a commit id",
    ),
    Case(
        "--ref that looks like an option never reaches git as one",
        tagged,
        flags={"ref": "--output=x"},
        error="--ref '--output=x': no such tag or branch",
    ),
    Case(
        "--sha without git must be a full commit id",
        no_git,
        flags={"ref": "refs/heads/main", "sha": "abc1234"},
        error="the commit must be given as its full id",
    ),
    Case(
        "--sha alone without git: the missing repository, and every fix",
        no_git,
        flags={"sha": "{head}"},
        error="Full clone",
    ),
    Case(
        "--ref with a bare name without git: give a full ref",
        no_git,
        flags={"ref": "main", "sha": "{head}"},
        error="there is no git repository to look it up",
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
        pull_request_head,
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


NOTE_FIX = providers.FETCH_TAGS
NOTES = {
    "missing_v1": "this clone is shallow and lacks release tags that origin has (v1.0.0); "
    + NOTE_FIX,
    "no_origin": "this clone is shallow and has no origin to ask for its tags; " + NOTE_FIX,
}


def _resolve(case: Case, tmp_path: Path) -> tuple[World, Context | ContextError]:
    world = case.world(tmp_path)
    world.update(NOTES)
    world["origin_unreachable"] = _Prefix("this clone is shallow, and origin could not be asked")
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


class _Prefix(str):
    """Equal to any text that starts with it (git's own words follow)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith(str.__str__(self))

    __hash__ = str.__hash__


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
