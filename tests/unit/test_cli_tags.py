"""`pipeline tags --json` end to end: real repositories, CI variables, the contract's JSON.

The process environment is cleaned by the clean_environment fixture (no GITHUB_*, CODEBUILD_*,
PIPELINE_*, AWS_*, GIT_* from the machine); each case sets only its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli
from tests.unit.gitrepo import GitRepo
from tests.unit.tag_worlds import (
    W,
    World,
    codebuild_checkout,
    codebuild_pr_checkout,
    detached_rc_and_stable,
    dirty,
    no_git,
    on_main,
    pull_request,
    pull_request_head,
    rc_then_release,
    shallow,
    shallow_tags_fetched,
    shallow_unreachable_origin,
    tagged,
    tagged_at_base,
)

pytestmark = pytest.mark.usefixtures("clean_environment")

CONTEXT_KEYS = {
    "provider",
    "event",
    "ref",
    "sha",
    "branch",
    "tag",
    "pr",
    "default_branch",
    "dirty",
    "shallow",
}
IMAGE_KEYS = {"name", "repository", "image", "tags", "version", "labels"}
OCI = "org.opencontainers.image."

GENERIC = "registry: {type: generic, url: registry.example.com/acme}"
ECR = 'registry: {type: ecr, account: "123456789012", region: eu-west-1}'
RULES = """
tags:
  - {type: semver, pattern: "{{version}}"}
  - {type: semver, pattern: "{{major}}.{{minor}}"}
  - {type: semver, pattern: "{{major}}"}
  - {type: branch}
  - {type: pr}
  - {type: schedule}
  - {type: sha}
"""
ONE_IMAGE = """
images:
  - name: backend
    repository: myapp/backend
"""
GH = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app"}
REPO_PAYLOAD = {"default_branch": "main", "license": {"spdx_id": "MIT"}}
PR_PAYLOAD = {
    "number": 7,
    "pull_request": {"number": 7, "head": {"sha": "{pr_head}", "ref": "feature"}},
    "repository": REPO_PAYLOAD,
}
CB = {"CODEBUILD_BUILD_ID": "app:1", "CODEBUILD_SOURCE_REPO_URL": "https://github.com/acme/app"}


def released(tmp: Path) -> World:
    """main: v1.0.0 on the first commit, annotated v1.2.3 on HEAD (the contract's example)."""
    r = GitRepo.init(tmp / "repo")
    r.commit()
    r.tag("v1.0.0")
    head = r.commit()
    r.tag("v1.2.3", annotated=True)
    return {"path": r.path, "head": head, "created": _created(r, head)}


def monorepo(tmp: Path) -> World:
    r = GitRepo.init(tmp / "repo")
    r.commit()
    r.tag("backend/v1.0.0")
    r.tag("frontend/v4.0.0")
    head = r.commit()
    r.tag("backend/v1.2.0")
    return {"path": r.path, "head": head}


def branch_latest(tmp: Path) -> World:
    """A branch someone named `latest`."""
    r = GitRepo.init(tmp / "repo", branch="latest")
    head = r.commit()
    return {"path": r.path, "head": head}


def _created(repo: GitRepo, rev: str) -> str:
    return repo.time_of(rev).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Case:
    id: str
    world: Callable[[Path], World]
    config: str  # the YAML after `version: 1`
    env: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] | None = None
    args: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    images: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int = 0
    stderr: str | None = None
    warning: str | None = None  # on stderr of a run that succeeds


CASES = [
    Case(
        "local: the contract's example",
        released,
        GENERIC + RULES + ONE_IMAGE,
        context={
            "provider": "local",
            "event": "push",
            "ref": "refs/heads/main",
            "sha": "{head}",
            "branch": "main",
            "tag": "v1.2.3",
            "pr": None,
            "default_branch": None,
            "dirty": False,
            "shallow": False,
        },
        images=[
            {
                "name": "backend",
                "repository": "myapp/backend",
                "image": "registry.example.com/acme/myapp/backend",
                "tags": ["1.2.3", "1.2", "1", "main", "sha-{head7}", "latest"],
                "version": "1.2.3",
                "labels": {
                    OCI + "created": "{created}",
                    OCI + "revision": "{head}",
                    OCI + "title": "backend",
                    OCI + "version": "1.2.3",
                },
            }
        ],
    ),
    Case(
        "github tag push",
        tagged,
        ECR + RULES + ONE_IMAGE,
        {
            **GH,
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/tags/v1.1.0",
            "GITHUB_SHA": "{head}",
        },
        {"repository": REPO_PAYLOAD},
        context={
            "provider": "github",
            "ref": "refs/tags/v1.1.0",
            "branch": None,
            "tag": "v1.1.0",
            "default_branch": "main",
        },
        images=[
            {
                "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/myapp/backend",
                "tags": ["1.1.0", "1.1", "1", "sha-{head7}", "latest"],
                "labels": {
                    OCI + "licenses": "MIT",
                    OCI + "source": "https://github.com/acme/app",
                    OCI + "revision": "{head}",
                },
            }
        ],
    ),
    Case(
        "github pull_request on GitHub's merge commit: exit 2 with the checkout fix",
        pull_request,
        GENERIC + RULES + ONE_IMAGE,
        {
            **GH,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REF": "refs/pull/7/merge",
            "GITHUB_SHA": "{merge}",
        },
        PR_PAYLOAD,
        exit_code=2,
        stderr="ref: ${{ github.event.pull_request.head.sha }}",
    ),
    Case(
        "github pull_request on the PR head: PR head sha in tags, context and labels",
        pull_request_head,
        GENERIC + RULES + ONE_IMAGE,
        {
            **GH,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_REF": "refs/pull/7/merge",
            "GITHUB_SHA": "{merge}",
        },
        PR_PAYLOAD,
        context={"event": "pull_request", "sha": "{pr_head}", "pr": 7, "branch": None},
        images=[
            {
                "tags": ["pr-7", "sha-{pr_head7}"],
                "version": "pr-7",
                "labels": {OCI + "revision": "{pr_head}"},
            }
        ],
    ),
    Case(
        "github pull_request_target: never the base tip",
        pull_request_head,
        GENERIC + RULES + ONE_IMAGE,
        {
            **GH,
            "GITHUB_EVENT_NAME": "pull_request_target",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_SHA": "{base_tip}",
        },
        PR_PAYLOAD,
        context={"event": "pull_request_target", "sha": "{pr_head}", "pr": 7},
        images=[{"tags": ["pr-7", "sha-{pr_head7}"]}],
    ),
    Case(
        "github schedule: nightly and the branch",
        on_main,
        GENERIC + RULES + ONE_IMAGE,
        {
            **GH,
            "GITHUB_EVENT_NAME": "schedule",
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_SHA": "{head}",
        },
        {"schedule": "0 3 * * *", "repository": REPO_PAYLOAD},
        context={"event": "schedule", "branch": "main"},
        images=[{"tags": ["main", "nightly", "sha-{head7}"], "version": "main"}],
    ),
    Case(
        "github workflow_dispatch on a branch",
        on_main,
        GENERIC + RULES + ONE_IMAGE,
        {
            **GH,
            "GITHUB_EVENT_NAME": "workflow_dispatch",
            "GITHUB_REF": "refs/heads/hotfix/login#3",
            "GITHUB_SHA": "{head}",
        },
        context={"event": "workflow_dispatch", "branch": "hotfix/login#3"},
        images=[{"tags": ["hotfix-login-3", "sha-{head7}"]}],
    ),
    Case(
        "codebuild tag webhook",
        codebuild_checkout,
        ECR + RULES + ONE_IMAGE,
        {
            **CB,
            "CODEBUILD_WEBHOOK_TRIGGER": "tag/v1.1.0",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": "{head}",
        },
        context={"provider": "codebuild", "tag": "v1.1.0", "branch": None},
        images=[
            {
                "tags": ["1.1.0", "1.1", "1", "sha-{head7}", "latest"],
                "labels": {OCI + "source": "https://github.com/acme/app"},
            }
        ],
    ),
    Case(
        "codebuild pr webhook",
        codebuild_pr_checkout,
        GENERIC + RULES + ONE_IMAGE,
        {
            **CB,
            "CODEBUILD_WEBHOOK_TRIGGER": "pr/12",
            "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/feature",
            "CODEBUILD_WEBHOOK_BASE_REF": "refs/heads/main",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": "{pr_head}",
        },
        context={"event": "pull_request", "pr": 12, "sha": "{pr_head}"},
        images=[{"tags": ["pr-12", "sha-{pr_head7}"]}],
    ),
    Case(
        "codebuild branch webhook with edge and latest on the default branch",
        codebuild_checkout,
        GENERIC
        + "\ndefault_branch: main\nlatest: default_branch\n"
        + "tags: [{type: edge}, {type: branch}]"
        + ONE_IMAGE,
        {
            **CB,
            "CODEBUILD_WEBHOOK_TRIGGER": "branch/main",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": "{head}",
        },
        context={"branch": "main", "default_branch": "main"},
        images=[{"tags": ["edge", "main", "latest"]}],
    ),
    Case(
        "local detached HEAD with an rc and its release",
        detached_rc_and_stable,
        GENERIC + "\ntags: [{type: semver}]" + ONE_IMAGE,
        context={"ref": "refs/tags/v1.2.0", "tag": "v1.2.0", "branch": None},
        images=[{"tags": ["1.2.0", "latest"], "version": "1.2.0"}],
    ),
    Case(
        "local dirty tree: only the marked sha tag",
        dirty,
        GENERIC + RULES + ONE_IMAGE,
        context={"dirty": True},
        images=[{"tags": ["sha-{head7}-dirty"], "version": "sha-{head7}-dirty"}],
    ),
    Case(
        "local dirty tree with allow_dirty",
        dirty,
        GENERIC + "\nallow_dirty: true" + RULES + ONE_IMAGE,
        context={"dirty": True},
        images=[{"tags": ["main", "sha-{head7}"]}],
    ),
    Case(
        "local shallow clone: latest auto needs the tags",
        shallow,
        GENERIC + RULES + ONE_IMAGE,
        exit_code=2,
        stderr="lacks release tags that origin has (v1.0.0); fetch the tags (`git fetch --tags`",
    ),
    Case(
        "local shallow clone with its tags fetched: latest auto decides",
        shallow_tags_fetched,
        GENERIC + RULES + ONE_IMAGE,
        context={"shallow": True, "tag": "v2.0.0"},
        images=[{"tags": ["2.0.0", "2.0", "2", "trunk", "sha-{head7}", "latest"]}],
    ),
    Case(
        "local shallow clone whose origin cannot be asked: exit 2, and why",
        shallow_unreachable_origin,
        GENERIC + RULES + ONE_IMAGE,
        exit_code=2,
        stderr="origin could not be asked for its tags",
    ),
    Case(
        "local shallow clone with latest never",
        shallow,
        GENERIC + "\nlatest: never" + RULES + ONE_IMAGE,
        context={"shallow": True, "branch": "trunk", "default_branch": "trunk"},
        images=[{"tags": ["2.0.0", "2.0", "2", "trunk", "sha-{head7}"]}],
    ),
    Case(
        "monorepo: each image reads only its own prefix",
        monorepo,
        GENERIC
        + "\ntags: [{type: semver}, {type: sha}]\n"
        + "images:\n"
        + "  - {name: backend, tag_prefix: backend/}\n"
        + "  - {name: frontend, tag_prefix: frontend/}\n",
        images=[
            {"name": "backend", "tags": ["1.2.0", "sha-{head7}", "latest"], "version": "1.2.0"},
            {"name": "frontend", "tags": ["sha-{head7}"], "version": "sha-{head7}"},
        ],
    ),
    Case(
        "--sha and --ref: an older release, checked out, is built; latest stays",
        tagged_at_base,
        GENERIC + RULES + ONE_IMAGE,
        args=["--sha", "{base}", "--ref", "v1.0.0"],
        context={"sha": "{base}", "ref": "refs/tags/v1.0.0", "tag": "v1.0.0"},
        images=[{"tags": ["1.0.0", "1.0", "1", "sha-{base7}"]}],
    ),
    Case(
        "PIPELINE_REGISTRY_HOST replaces the host, keeps the namespace",
        on_main,
        GENERIC + "\ntags: [{type: branch}]" + ONE_IMAGE,
        {"PIPELINE_REGISTRY_HOST": "127.0.0.1:5000"},
        images=[{"image": "127.0.0.1:5000/acme/myapp/backend", "tags": ["main"]}],
    ),
    Case(
        "--sha of another commit than the checkout: exit 2, never its tags",
        tagged_at_base,
        GENERIC + RULES + ONE_IMAGE,
        args=["--sha", "{head}"],
        exit_code=2,
        stderr="check out that commit (`git checkout {head}`) or drop --sha",
    ),
    Case(
        "a tag event's ref is the version: an rc pushed onto a released commit",
        rc_then_release,
        GENERIC + RULES + ONE_IMAGE,
        {
            **GH,
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/tags/v2.0.0-rc.1",
            "GITHUB_SHA": "{head}",
        },
        context={"tag": "v2.0.0-rc.1", "ref": "refs/tags/v2.0.0-rc.1"},
        images=[{"tags": ["2.0.0-rc.1", "sha-{head7}"], "version": "2.0.0-rc.1"}],
    ),
    Case(
        "a tag event's ref is the version: --ref names the release",
        rc_then_release,
        GENERIC + RULES + ONE_IMAGE,
        args=["--ref", "refs/tags/v2.0.0"],
        context={"tag": "v2.0.0"},
        images=[{"tags": ["2.0.0", "2.0", "2", "sha-{head7}", "latest"], "version": "2.0.0"}],
    ),
    Case(
        "GITHUB_SHA that looks like an option: exit 2, git never runs with it",
        on_main,
        GENERIC + RULES + ONE_IMAGE,
        {**GH, "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": "--output=written"},
        exit_code=2,
        stderr="GITHUB_SHA='--output=written' is not a commit id",
    ),
    Case(
        "GITHUB_REF that is not a ref: exit 2",
        on_main,
        GENERIC + RULES + ONE_IMAGE,
        {**GH, "GITHUB_REF": "refs/heads/a..b", "GITHUB_SHA": "{head}"},
        exit_code=2,
        stderr="GITHUB_REF='refs/heads/a..b' is not a git ref",
    ),
    Case(
        "no git, --sha and --ref: taken as given",
        no_git,
        GENERIC + "\nlatest: never" + RULES + ONE_IMAGE,
        args=["--sha", "{head}", "--ref", "refs/tags/v1.2.3"],
        context={"sha": "{head}", "tag": "v1.2.3", "ref": "refs/tags/v1.2.3"},
        images=[{"tags": ["1.2.3", "1.2", "1", "sha-{head7}"]}],
    ),
    Case(
        "no git, --sha and --ref, latest auto: names the missing repository, not shallow history",
        no_git,
        GENERIC + RULES + ONE_IMAGE,
        args=["--sha", "{head}", "--ref", "refs/tags/v1.2.3"],
        exit_code=2,
        stderr="there is no git repository here, only the commit and ref that were given;"
        " `latest: never`, `always` and `default_branch` work without git",
    ),
    Case(
        "a branch named latest never takes latest",
        branch_latest,
        GENERIC + "\nlatest: never" + RULES + ONE_IMAGE,
        context={"branch": "latest"},
        images=[{"tags": ["sha-{head7}"], "mutable_tags": []}],
        warning="tag 'latest' from the branch rule is left out: `latest` is set by the",
    ),
    Case(
        "no git metadata: exit 2 with the fix",
        no_git,
        GENERIC + RULES + ONE_IMAGE,
        exit_code=2,
        stderr="Full clone",
    ),
]


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, W):
        return world[value.name]
    if isinstance(value, str):
        return value.format_map(world) if "{" in value and "{{" not in value else value
    if isinstance(value, dict):
        return {_fill(k, world): _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


def _files(root: Path) -> set[Path]:
    """Every file under `root`, but git's own bookkeeping (`git status` refreshes the index)."""
    return {p for p in root.rglob("*") if ".git" not in p.relative_to(root).parts}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_tags_json(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = case.world(tmp_path)
    world.update({f"{k}7": world[k][:7] for k in ("base", "head", "pr_head") if k in world})
    root: Path = world["path"]
    config = root / "pipeline.yaml"  # untracked: does not make the tree dirty
    (root / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")  # untracked too
    config.write_text("version: 1\n" + case.config, encoding="utf-8")
    for name, value in _fill(case.env, world).items():
        monkeypatch.setenv(name, value)
    if case.payload is not None:
        event = tmp_path / "event.json"
        event.write_text(json.dumps(_fill(case.payload, world)), encoding="utf-8")
        monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.chdir(root)

    before = _files(tmp_path)
    code = cli.main(["-f", str(config), "tags", "--json", *_fill(case.args, world)])
    out, err = capsys.readouterr()
    assert _files(tmp_path) == before, "`pipeline tags` wrote a file"

    assert code == case.exit_code, err
    if case.stderr is not None:
        assert _fill(case.stderr, world) in err
        assert "Traceback" not in err
        assert out == ""
        return
    if case.warning is not None:
        assert case.warning in err
    data = json.loads(out)
    assert set(data) == {"context", "images"}
    assert set(data["context"]) == CONTEXT_KEYS
    want_context = _fill(case.context, world)
    assert {k: data["context"][k] for k in want_context} == want_context
    assert len(data["images"]) == len(case.images)
    for got, want in zip(data["images"], _fill(case.images, world), strict=True):
        assert set(got) >= IMAGE_KEYS
        assert got["labels"][OCI + "revision"] == data["context"]["sha"]
        want_labels = want.pop("labels", {})
        if want_labels and OCI + "created" in want_labels:
            assert got["labels"] == want_labels
        else:
            assert {k: got["labels"].get(k) for k in want_labels} == want_labels
        assert {k: got[k] for k in want} == want
