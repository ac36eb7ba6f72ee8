"""GitOps write-back against real repositories: commit, push, races, second runs, safety."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from pipeline import log as masking
from pipeline.adapters.gitops import Checkout, GitRepositories
from pipeline.config.schema import ManifestTarget
from pipeline.gitops.deploy import deploy_manifest
from tests.integration.gitops.conftest import DEPLOYMENT, KUSTOMIZATION, REPO, clone, log, show
from tests.unit.gitrepo import GitRepo

D = "sha256:" + "d" * 64
PINNED = f"{REPO}@{D}"
FILES = ["deploy/prod/kustomization.yaml", "deploy/prod/deployment.yaml"]


def target(repo: str, **extra: Any) -> ManifestTarget:
    values: dict[str, Any] = {
        "type": "manifest",
        "image": "backend",
        "repo": repo,
        "branch": "main",
        "files": FILES,
        "commit_message": "deploy {{image}} {{version}} ({{sha}}) {{digest}}",
    }
    values.update(extra)
    return ManifestTarget.model_validate(values)


def deploy(settings: ManifestTarget, base: Path, tag: str | None = None, **kw: Any) -> Any:
    return deploy_manifest(
        settings, f"{REPO}:sha-abc1234", D, "1.4.0", "abc1234", tag, GitRepositories(base), **kw
    )


def leftovers() -> set[str]:
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("pipeline-gitops-")}


def test_a_git_url_is_cloned_edited_committed_and_pushed(remote: Path, tmp_path: Path) -> None:
    before = leftovers()
    result = deploy(target(f"file://{remote}"), tmp_path)
    assert result.status == "completed", result.message
    assert (result.type, result.target, result.image) == (
        "manifest",
        f"file://{remote}:main",
        PINNED,
    )
    # the kustomization's `newTag: "1.0.0"` and the Deployment's image are one reference
    assert result.previous == f"{REPO}:1.0.0"
    assert log(remote)[0] == f"deploy backend 1.4.0 (abc1234) {D}"
    assert show(remote, FILES[0]) == KUSTOMIZATION.replace('newTag: "1.0.0"', f"digest: {D}")
    assert show(remote, FILES[1]) == DEPLOYMENT.replace(f"'{REPO}:1.0.0'", f"'{PINNED}'")
    assert leftovers() == before


def test_a_second_run_with_the_same_image_commits_nothing(remote: Path, tmp_path: Path) -> None:
    deploy(target(f"file://{remote}"), tmp_path)
    commits = log(remote)
    again = deploy(target(f"file://{remote}"), tmp_path)
    assert again.status == "skipped"
    assert again.message.startswith("nothing to change")
    assert log(remote) == commits


def test_an_immutable_tag_keeps_a_newtag_file_pinned_by_tag(remote: Path, tmp_path: Path) -> None:
    result = deploy(target(f"file://{remote}"), tmp_path, tag="1.4.0")
    assert result.status == "completed"
    assert show(remote, FILES[0]) == KUSTOMIZATION.replace('"1.0.0"', '"1.4.0"')


class Racing:
    """Repositories whose checkout finds the branch moved on by someone else at push time."""

    def __init__(self, inner: GitRepositories, race: Any, times: int = 1) -> None:
        self.inner = inner
        self.race = race
        self.times = times
        self.pushes = 0

    def open(self, repo: str, branch: str | None, push: bool) -> Checkout:
        checkout = self.inner.open(repo, branch, push)
        original = checkout.push

        def push_after_race() -> bool:
            self.pushes += 1
            if self.pushes <= self.times:
                self.race(self.pushes)
            return original()

        checkout.push = push_after_race  # type: ignore[method-assign]
        return checkout


def test_a_non_fast_forward_push_is_redone_on_the_new_tip(remote: Path, tmp_path: Path) -> None:
    other = clone(remote, tmp_path / "other")

    def someone_else_pushes(n: int) -> None:
        # the same file, another entry: a rebase of our change must keep theirs
        path = other.path / FILES[0]
        path.write_text(re.sub(r"newTag: v1\.3\d", f"newTag: v1.3{n}", path.read_text()))
        other.git("commit", "-qam", f"bump envoy {n}")
        other.git("push", "-q", "origin", "main")

    ports = Racing(GitRepositories(tmp_path), someone_else_pushes, times=2)
    result = deploy_manifest(
        target(f"file://{remote}"), f"{REPO}:x", D, "1.4.0", "abc1234", None, ports
    )
    assert result.status == "completed", result.message
    assert ports.pushes == 3
    assert log(remote)[:3] == [
        f"deploy backend 1.4.0 (abc1234) {D}",
        "bump envoy 2",
        "bump envoy 1",
    ]
    expected = KUSTOMIZATION.replace('newTag: "1.0.0"', f"digest: {D}")
    assert show(remote, FILES[0]) == expected.replace("newTag: v1.30", "newTag: v1.32")


def test_a_branch_that_keeps_moving_fails_after_bounded_attempts(
    remote: Path, tmp_path: Path
) -> None:
    other = clone(remote, tmp_path / "other")

    def someone_else_pushes(n: int) -> None:
        other.commit(f"unrelated {n}", file=f"notes/{n}.txt")
        other.git("push", "-q", "origin", "main")

    ports = Racing(GitRepositories(tmp_path), someone_else_pushes, times=100)
    result = deploy_manifest(target(f"file://{remote}"), REPO, D, None, None, None, ports)
    assert result.status == "failed"
    assert "the push was refused 5 times" in result.message
    assert not any(line.startswith("deploy") for line in log(remote))


def test_the_new_tip_already_deployed_means_nothing_more_to_do(
    remote: Path, tmp_path: Path
) -> None:
    def same_deploy_lands_first(n: int) -> None:
        # another run (another commit of the app, same image) pushes first
        first = deploy_manifest(
            target(f"file://{remote}"), REPO, D, "1.4.0", "fff0000", None, GitRepositories(tmp_path)
        )
        assert first.status == "completed"

    ports = Racing(GitRepositories(tmp_path), same_deploy_lands_first)
    result = deploy_manifest(target(f"file://{remote}"), REPO, D, "1.4.0", "abc1234", None, ports)
    assert result.status == "skipped"
    assert len([s for s in log(remote) if s.startswith("deploy")]) == 1


def test_a_local_repository_is_pushed_without_touching_its_work_tree(
    remote: Path, tmp_path: Path
) -> None:
    work = clone(remote, tmp_path / "work")
    (work.path / "deploy/prod/deployment.yaml").write_text(DEPLOYMENT + "# my local edit\n")
    (work.path / "scratch.txt").write_text("untracked\n")
    head = work.head()
    status = work.git("status", "--porcelain")
    result = deploy(target("work"), tmp_path)
    assert result.status == "completed", result.message
    assert result.target == "work:main"
    assert log(remote)[0].startswith("deploy backend")
    # the caller's checkout is exactly as it was: HEAD, index, files, no extra worktree
    assert (work.head(), work.git("status", "--porcelain")) == (head, status)
    assert (work.path / FILES[0]).read_text() == KUSTOMIZATION
    assert len(work.git("worktree", "list", "--porcelain").split("\n\n")) == 1


def test_a_detached_ci_checkout_deploys_to_the_named_branch(remote: Path, tmp_path: Path) -> None:
    work = clone(remote, tmp_path / "ci")
    work.detach()
    result = deploy(target("ci"), tmp_path)
    assert result.status == "completed", result.message
    missing = deploy(target("ci", branch=None), tmp_path)
    assert missing.status == "failed" and "detached HEAD: set `branch:`" in missing.message


def test_the_checked_out_branch_is_found_when_a_tag_has_its_name(
    remote: Path, tmp_path: Path
) -> None:
    # `symbolic-ref --short` says heads/main when a tag is also named main
    work = clone(remote, tmp_path / "work")
    work.tag("main")
    result = deploy(target("work", branch=None, push=False), tmp_path)
    assert result.status == "completed", result.message
    assert result.target == "work:main"
    assert work.git("log", "-1", "--format=%s").startswith("deploy backend")


def test_files_are_relative_to_the_repo_path_inside_a_larger_repository(
    remote: Path, tmp_path: Path
) -> None:
    clone(remote, tmp_path / "mono")
    settings = target("mono/deploy", files=["prod/kustomization.yaml"])
    result = deploy(settings, tmp_path)
    assert result.status == "completed", result.message
    assert f"digest: {D}" in show(remote, FILES[0])


def test_push_false_commits_to_the_checked_out_branch_by_fast_forward(
    remote: Path, tmp_path: Path
) -> None:
    work = clone(remote, tmp_path / "work")
    before = log(remote)
    result = deploy(target("work", push=False), tmp_path)
    assert result.status == "completed" and "not pushed" in result.message
    assert log(remote) == before
    assert work.git("log", "-1", "--format=%s").startswith("deploy backend")
    assert f"digest: {D}" in (work.path / FILES[0]).read_text()
    assert work.git("status", "--porcelain") == ""


def test_push_false_moves_a_branch_that_is_not_checked_out(remote: Path, tmp_path: Path) -> None:
    work = clone(remote, tmp_path / "work")
    work.git("checkout", "-q", "-b", "feature")
    result = deploy(target("work", push=False), tmp_path)
    assert result.status == "completed", result.message
    assert work.git("log", "-1", "--format=%s", "main").startswith("deploy backend")
    assert work.git("rev-parse", "--abbrev-ref", "HEAD") == "feature"


def test_push_false_with_a_url_is_refused(remote: Path, tmp_path: Path) -> None:
    result = deploy(target(f"file://{remote}", push=False), tmp_path)
    assert result.status == "failed" and "temporary clone" in result.message


def test_dry_run_shows_the_diff_and_commits_nothing(
    remote: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="pipeline")
    result = deploy(target(f"file://{remote}"), tmp_path, dry_run=True)
    assert result.status == "skipped" and result.message.startswith("dry run: would change")
    assert log(remote) == ["initial"]
    assert f"+    digest: {D}" in caplog.text and '-    newTag: "1.0.0"' in caplog.text


def test_a_symlink_out_of_the_repository_is_refused(remote: Path, tmp_path: Path) -> None:
    work = clone(remote, tmp_path / "work")
    outside = tmp_path / "secret.yaml"
    outside.write_text(f"image: {REPO}:1\n")
    (work.path / "deploy/evil.yaml").symlink_to(outside)
    work.git("add", "deploy/evil.yaml")
    work.git("commit", "-qm", "link")
    work.git("push", "-q", "origin", "main")
    for files in (["deploy/evil.yaml"], ["../secret.yaml"]):
        result = deploy(target(f"file://{remote}", files=files), tmp_path)
        assert result.status == "failed"
        assert "outside the repository" in result.message
    assert outside.read_text() == f"image: {REPO}:1\n"


def test_a_missing_file_fails_and_names_it(remote: Path, tmp_path: Path) -> None:
    result = deploy(target(f"file://{remote}", files=["deploy/nope.yaml"]), tmp_path)
    assert result.status == "failed" and "deploy/nope.yaml does not exist" in result.message


def test_credentials_in_a_url_never_reach_a_message(tmp_path: Path) -> None:
    before = leftovers()
    url = "https://deploy-bot:s3cr3t-t0ken@127.0.0.1:9/acme/gitops.git"
    result = deploy(target(url), tmp_path)
    assert result.status == "failed"
    assert "s3cr3t-t0ken" not in result.message + result.target
    assert result.target == "https://***@127.0.0.1:9/acme/gitops.git:main"
    assert masking.redact("token s3cr3t-t0ken") == "token ***"
    assert leftovers() == before


def test_without_a_git_identity_commits_are_made_as_pipeline(
    remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{who}_NAME")
        monkeypatch.delenv(f"GIT_{who}_EMAIL")
    result = deploy(target(f"file://{remote}"), tmp_path)
    assert result.status == "completed", result.message
    assert GitRepo(remote).git("log", "-1", "--format=%an <%ae>") == (
        "pipeline <pipeline@users.noreply.localhost>"
    )


def test_url_credentials_reach_git_itself_but_not_its_argv_or_config(tmp_path: Path) -> None:
    """An HTTP server that asks for Basic auth sees the URL's credentials; nothing else does."""
    import base64
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            auth = self.headers.get("Authorization")
            if auth is None:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            seen.append(base64.b64decode(auth.removeprefix("Basic ")).decode())
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    spawned: list[list[str]] = []
    import git

    original = git.Git.execute

    def recording(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        spawned.append([str(c) for c in command])
        return original(self, command, *args, **kwargs)

    try:
        port = server.server_address[1]
        url = f"http://deploy-bot:s3cr3t-t0ken@127.0.0.1:{port}/acme/gitops.git"
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(git.Git, "execute", recording)
            result = deploy(target(url), tmp_path)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    assert seen and seen[0] == "deploy-bot:s3cr3t-t0ken"
    assert result.status == "failed"
    assert "s3cr3t-t0ken" not in result.message
    assert spawned and not any("s3cr3t-t0ken" in arg for cmd in spawned for arg in cmd)
