"""deploy_manifest against a fake workspace: messages, the push loop, results."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pipeline.config.schema import ManifestTarget
from pipeline.deployment import DeployError
from pipeline.gitops.deploy import PUSH_ATTEMPTS, deploy_manifest
from tests.unit.gitops.fakes import FakeBranch, FakeRepos, FakeWorkspace

REPO = "r.example.com/team/backend"
D = "sha256:" + "1" * 64


def settings(**extra: Any) -> ManifestTarget:
    values: dict[str, Any] = {
        "type": "manifest",
        "image": "backend",
        "repo": "https://git.example.com/acme/gitops.git",
        "branch": "main",
        "files": ["app.yaml"],
    }
    values.update(extra)
    return ManifestTarget.model_validate(values)


@pytest.fixture
def ws(tmp_path: Path) -> FakeWorkspace:
    branch = FakeBranch({"app.yaml": f"image: {REPO}:1.0  # app\n"})
    return FakeWorkspace(tmp_path / "checkout", branch, "gitops:main")


@pytest.mark.parametrize(
    ("template", "version", "sha", "tag", "message"),
    [
        ("deploy {{image}} {{tag}}", "1.2.3", "abc1234", "1.2.3", "deploy backend 1.2.3"),
        ("{{repository}}@{{digest}}", None, None, None, f"{REPO}@{D}"),
        (
            "deploy {{version}} ({{sha}})",
            None,
            "abc1234",
            "sha-abc1234",
            "deploy sha-abc1234 (abc1234)",
        ),
        ("deploy {{ version }}", None, "abc1234", None, "deploy abc1234"),
        ("deploy {{tag}} {{sha}}", "1.0.0", None, None, "deploy 1.0.0"),
    ],
)
def test_the_commit_message_fills_every_placeholder(
    ws: FakeWorkspace,
    template: str,
    version: str | None,
    sha: str | None,
    tag: str | None,
    message: str,
) -> None:
    result = deploy_manifest(
        settings(commit_message=template), f"{REPO}:x", D, version, sha, tag, FakeRepos(ws)
    )
    assert result.status == "completed", result.message
    assert ws.commits == [(["app.yaml"], message)]


def test_a_completed_write_back_reports_the_pin_and_what_it_replaced(ws: FakeWorkspace) -> None:
    result = deploy_manifest(settings(), REPO, D, None, None, None, FakeRepos(ws))
    assert (result.type, result.target, result.image) == ("manifest", "gitops:main", f"{REPO}@{D}")
    assert (result.previous, result.status) == (f"{REPO}:1.0", "completed")
    assert result.message == "pushed 000000000000 (app.yaml)"
    assert ws.branch.files["app.yaml"] == f"image: {REPO}@{D}  # app\n"
    assert ws.closed


def test_refused_pushes_start_again_from_the_new_tip(ws: FakeWorkspace) -> None:
    ws.refusals = 2
    ws.racer_files = {"app.yaml": f"image: {REPO}:1.1  # app, bumped upstream\n"}
    result = deploy_manifest(settings(), REPO, D, None, None, None, FakeRepos(ws))
    assert result.status == "completed"
    assert (ws.pushes, ws.syncs, len(ws.commits)) == (3, 2, 3)
    assert ws.branch.files["app.yaml"] == f"image: {REPO}@{D}  # app, bumped upstream\n"


def test_a_branch_that_never_stops_moving_fails_after_the_bound(ws: FakeWorkspace) -> None:
    ws.refusals = 10**6
    result = deploy_manifest(settings(), REPO, D, None, None, None, FakeRepos(ws))
    assert result.status == "failed"
    assert ws.pushes == PUSH_ATTEMPTS
    assert ws.closed


def test_nothing_to_change_is_skipped_without_a_commit(ws: FakeWorkspace) -> None:
    (ws.base / "app.yaml").write_text(f"image: {REPO}@{D}\n")
    result = deploy_manifest(settings(), REPO, D, None, None, None, FakeRepos(ws))
    assert (result.status, ws.commits, ws.pushes) == ("skipped", [], 0)
    assert result.message == f"nothing to change: app.yaml already at {REPO}@{D}"


def test_push_false_publishes_locally(ws: FakeWorkspace) -> None:
    ws.branch.local = True
    result = deploy_manifest(settings(push=False), REPO, D, None, None, None, FakeRepos(ws))
    assert result.status == "completed" and result.message.endswith("not pushed")
    assert ws.published and ws.pushes == 0
    assert ws.branch.files["app.yaml"] == f"image: {REPO}@{D}  # app\n"


def test_dry_run_writes_and_commits_nothing(ws: FakeWorkspace) -> None:
    before = dict(ws.branch.files)
    result = deploy_manifest(settings(), REPO, D, None, None, None, FakeRepos(ws), dry_run=True)
    assert result.status == "skipped" and result.message == "dry run: would change app.yaml"
    assert ws.branch.files == before and ws.branch.log == ["initial"]
    assert ws.commits == [] and ws.pushes == 0


def test_the_same_file_named_twice_is_edited_once(ws: FakeWorkspace) -> None:
    result = deploy_manifest(
        settings(files=["app.yaml", "./app.yaml"]), REPO, D, None, None, None, FakeRepos(ws)
    )
    assert result.status == "completed"
    assert ws.commits[0][0] == ["app.yaml"]


def test_a_file_outside_the_repository_is_refused(ws: FakeWorkspace, tmp_path: Path) -> None:
    inner = tmp_path / "repo"
    inner.mkdir()
    ws.base = ws.top = inner
    (inner / "link.yaml").symlink_to(tmp_path / "app.yaml")
    for name in ("link.yaml", "../app.yaml"):
        result = deploy_manifest(settings(files=[name]), REPO, D, None, None, None, FakeRepos(ws))
        assert result.status == "failed" and "outside the repository" in result.message
    assert ws.commits == []


def test_failures_to_open_are_failed_results_with_a_masked_target() -> None:
    repos = FakeRepos(None, DeployError("cloning https://***@git.example.com/x.git: denied"))
    url = "https://bot:tok3n-value@git.example.com/x.git"
    result = deploy_manifest(settings(repo=url), REPO, D, None, None, None, repos)
    assert result.status == "failed"
    assert result.target == "https://***@git.example.com/x.git:main"
    assert "tok3n-value" not in result.message


@pytest.mark.parametrize(("image", "digest"), [("not an image", D), (REPO, "latest")])
def test_an_image_without_a_digest_is_refused_before_git(image: str, digest: str) -> None:
    repos = FakeRepos(None)
    result = deploy_manifest(settings(), image, digest, None, None, None, repos)
    assert result.status == "failed" and repos.opened == []


def test_a_crlf_file_keeps_its_line_endings_byte_for_byte(tmp_path: Path) -> None:
    branch = FakeBranch({"app.yaml": f"# app\r\nimage: {REPO}:1.0  # app\r\nreplicas: 2\r\n"})
    ws = FakeWorkspace(tmp_path / "checkout", branch, "gitops:main")
    result = deploy_manifest(settings(), REPO, D, None, None, None, FakeRepos(ws))
    assert result.status == "completed", result.message
    assert branch.files["app.yaml"] == f"# app\r\nimage: {REPO}@{D}  # app\r\nreplicas: 2\r\n"


def test_a_listed_file_that_never_names_the_image_fails_and_names_the_file(
    ws: FakeWorkspace,
) -> None:
    (ws.base / "other.yaml").write_text("image: someone/else:1\n")
    result = deploy_manifest(
        settings(files=["app.yaml", "other.yaml"]), REPO, D, None, None, None, FakeRepos(ws)
    )
    assert result.status == "failed"
    assert result.message.startswith(f"other.yaml has nothing to set for {REPO}")
    assert ws.commits == [] and ws.pushes == 0


def test_a_file_without_the_image_is_not_reported_as_already_deployed(ws: FakeWorkspace) -> None:
    (ws.base / "app.yaml").write_text("kind: ConfigMap\n")
    result = deploy_manifest(settings(), REPO, D, None, None, None, FakeRepos(ws))
    assert result.status == "failed"
    assert "already at" not in result.message


def test_the_guard_sees_what_the_files_point_at_and_can_refuse_before_any_commit(
    tmp_path: Path,
) -> None:
    files = {
        "app.yaml": f"image: {REPO}:1.0  # app\n",
        "kustomization.yaml": f"images:\n  - name: {REPO}\n    digest: sha256:{'2' * 64}\n",
    }
    branch = FakeBranch(files)
    ws = FakeWorkspace(tmp_path / "checkout", branch, "gitops:main")
    seen: list[tuple[str, ...]] = []

    def guard(running: Sequence[str]) -> None:
        seen.append(tuple(running))
        raise DeployError("refused: older; pass --force to deploy it anyway")

    target = settings(files=["app.yaml", "kustomization.yaml"])
    result = deploy_manifest(target, REPO, D, None, None, None, FakeRepos(ws), guard=guard)
    assert (result.status, result.message) == (
        "failed",
        "refused: older; pass --force to deploy it anyway",
    )
    assert seen == [(f"{REPO}:1.0", f"{REPO}@sha256:{'2' * 64}")]
    assert ws.commits == [] and ws.pushes == 0
    assert branch.files == files and branch.log == ["initial"]


def test_the_guard_is_asked_again_on_the_tip_a_refused_push_fetched(ws: FakeWorkspace) -> None:
    ws.refusals = 1  # someone else pushes 2.0 just before our first push
    ws.racer_files = {"app.yaml": f"image: {REPO}:2.0\n"}
    calls: list[tuple[str, ...]] = []
    result = deploy_manifest(
        settings(), REPO, D, None, None, None, FakeRepos(ws), guard=lambda r: calls.append(tuple(r))
    )
    assert result.status == "completed"
    assert calls == [(f"{REPO}:1.0",), (f"{REPO}:2.0",)]
    assert ws.branch.files["app.yaml"] == f"image: {REPO}@{D}\n"


def test_previous_names_whole_references_even_where_a_file_holds_only_a_tag(
    ws: FakeWorkspace,
) -> None:
    (ws.base / "kustomization.yaml").write_text(f"images:\n  - name: {REPO}\n    newTag: '0.9'\n")
    target = settings(files=["kustomization.yaml", "app.yaml"])
    result = deploy_manifest(target, REPO, D, None, None, None, FakeRepos(ws))
    assert result.status == "completed", result.message
    assert result.previous == f"{REPO}:0.9, {REPO}:1.0"
