"""The GitOps ports' contract (Repositories, Workspace): the fake the write-back's unit
tests use (a branch in memory, checkouts in a folder) and the git adapter (against a
bare repository in a temporary folder as the remote, and a clone of it as the local
repository) answer the same cases the same way: a checkout of the branch, commits that
land on it when pushed, a push refused once someone else pushed first (non-fast-forward)
and accepted after a sync, `push: false` on a local repository, and the files, branches
and repositories that are not there refused by name, with no credentials in a message."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.adapters.gitops import GitRepositories
from pipeline.deployment import DeployError
from pipeline.gitops.ports import Repositories, Workspace
from tests.unit.gitops.fakes import FakeBranch, FakeRepos
from tests.unit.gitrepo import ISOLATION, GitRepo, leaked_git_vars

APP = "deploy/app.yaml"
OTHER = "deploy/other.yaml"
FILES = {APP: "image: r.example/app:1.0\n", OTHER: "replicas: 2\n"}
COMMIT_ID = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class World:
    """One side of the contract: the port, how `repo:` names the remote (a URL, cloned)
    and the local repository (a path: `push: false` works there), and the branch as
    the remote or the local repository holds it."""

    repos: Repositories
    url: str
    local: str
    #: someone else pushes (file, text, message) on the remote's main
    move: Callable[[str, str, str], None]
    #: (which: "remote" or "local", file) -> its text at main's tip
    show: Callable[[str, str], str]
    #: which -> main's commit messages, newest first
    log: Callable[[str], list[str]]


def _fake(tmp_path: Path) -> World:
    url = f"file://{tmp_path}/fake-remote.git"
    remote = FakeBranch(FILES)
    held = {"remote": remote, "local": FakeBranch(FILES, local=True, origin=remote)}
    repos = FakeRepos(branches={url: held["remote"], "local": held["local"]}, scratch=tmp_path)
    return World(
        repos,
        url,
        "local",
        lambda path, text, message: held["remote"].move({path: text}, message),
        lambda which, path: held[which].files[path],
        lambda which: list(held[which].log),
    )


def _real(tmp_path: Path) -> World:
    bare = tmp_path / "remote.git"
    GitRepo(tmp_path).git("init", "-q", "--bare", "-b", "main", str(bare))
    seed = GitRepo.init(tmp_path / "seed")
    for path, text in FILES.items():
        (seed.path / path).parent.mkdir(parents=True, exist_ok=True)
        (seed.path / path).write_text(text)
    seed.git("add", ".")
    seed.git("commit", "-q", "-m", "initial")
    seed.git("push", "-q", str(bare), "main")
    GitRepo(tmp_path).git("clone", "-q", f"file://{bare}", str(tmp_path / "local"))
    where = {"remote": GitRepo(bare), "local": GitRepo(tmp_path / "local")}

    def move(path: str, text: str, message: str) -> None:
        (seed.path / path).write_text(text)
        seed.git("commit", "-qam", message)
        seed.git("push", "-q", str(bare), "main")

    return World(
        GitRepositories(tmp_path),
        f"file://{bare}",
        "local",
        move,
        lambda which, path: where[which].git("show", f"main:{path}") + "\n",
        lambda which: where[which].git("log", "--format=%s", "main").splitlines(),
    )


@pytest.fixture(params=["fake", "git"])
def world(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    # git under test sees no global/system config and none of the caller's GIT_*
    for name in list(leaked_git_vars(os.environ)):
        monkeypatch.delenv(name)
    for name, value in ISOLATION.items():
        monkeypatch.setenv(name, value)
    return _fake(tmp_path) if request.param == "fake" else _real(tmp_path)


@pytest.fixture
def clone(world: World) -> Iterator[Workspace]:
    workspace = world.repos.open(world.url, "main", True)
    yield workspace
    workspace.close()


def _edit(workspace: Workspace, path: str, text: str) -> Path:
    target = workspace.base / path
    target.write_text(text)
    return target.resolve()


def test_a_clone_holds_the_branch_s_files_and_is_named_repo_and_branch(world: World) -> None:
    workspace = world.repos.open(world.url, None, True)  # no branch: the remote's default
    try:
        assert workspace.label == f"{world.url}:main"
        assert workspace.base == workspace.top
        assert {p: (workspace.top / p).read_text() for p in FILES} == FILES
    finally:
        workspace.close()
    assert not workspace.top.exists()  # nothing is left behind


def test_a_commit_returns_its_id_and_a_push_lands_it_on_the_branch(
    world: World, clone: Workspace
) -> None:
    changed = _edit(clone, APP, "image: r.example/app@sha256:1\n")
    commit = clone.commit([changed], "deploy app")
    assert COMMIT_ID.match(commit), commit
    assert world.show("remote", APP) == FILES[APP]  # nothing reaches the remote before push
    assert clone.push() is True
    assert world.show("remote", APP) == "image: r.example/app@sha256:1\n"
    assert world.show("remote", OTHER) == FILES[OTHER]
    assert world.log("remote") == ["deploy app", "initial"]


def test_a_push_after_someone_else_pushed_is_refused_and_changes_nothing_there(
    world: World, clone: Workspace
) -> None:
    clone.commit([_edit(clone, APP, "image: r.example/app@sha256:1\n")], "deploy app")
    world.move(OTHER, "replicas: 3\n", "scale up")
    assert clone.push() is False  # non-fast-forward: not an error, the caller syncs
    assert world.log("remote") == ["scale up", "initial"]
    assert world.show("remote", APP) == FILES[APP]


def test_a_sync_starts_again_from_the_new_tip_and_the_next_push_lands(
    world: World, clone: Workspace
) -> None:
    clone.commit([_edit(clone, APP, "image: r.example/app@sha256:1\n")], "deploy app")
    world.move(OTHER, "replicas: 3\n", "scale up")
    assert clone.push() is False
    clone.sync()
    # our commit is dropped: the checkout is the remote's tip, their change included
    assert (clone.base / APP).read_text() == FILES[APP]
    assert (clone.base / OTHER).read_text() == "replicas: 3\n"
    clone.commit([_edit(clone, APP, "image: r.example/app@sha256:1\n")], "deploy app again")
    assert clone.push() is True
    assert world.log("remote") == ["deploy app again", "scale up", "initial"]
    assert world.show("remote", OTHER) == "replicas: 3\n"
    assert world.show("remote", APP) == "image: r.example/app@sha256:1\n"


def test_a_sync_drops_a_commit_that_was_not_pushed(world: World, clone: Workspace) -> None:
    clone.commit([_edit(clone, APP, "image: r.example/app@sha256:1\n")], "deploy app")
    clone.sync()
    assert (clone.base / APP).read_text() == FILES[APP]
    assert clone.push() is True  # nothing of ours left to land
    assert world.log("remote") == ["initial"]


def test_committing_a_file_that_does_not_exist_is_refused_and_named(
    world: World, clone: Workspace
) -> None:
    with pytest.raises(DeployError, match=r"missing\.yaml"):
        clone.commit([clone.top.resolve() / "deploy" / "missing.yaml"], "deploy app")
    assert world.log("remote") == ["initial"]


def test_committing_a_file_outside_the_repository_is_refused_and_named(
    world: World, clone: Workspace, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("image: r.example/app@sha256:1\n")
    with pytest.raises(DeployError, match=r"outside\.yaml"):
        clone.commit([outside.resolve()], "deploy app")


def test_committing_files_that_did_not_change_is_refused(world: World, clone: Workspace) -> None:
    with pytest.raises(DeployError):
        clone.commit([(clone.base / APP).resolve()], "deploy app")
    assert world.log("remote") == ["initial"]


def test_a_branch_the_remote_does_not_have_is_refused_and_named(world: World) -> None:
    with pytest.raises(DeployError, match="no-such-branch"):
        world.repos.open(world.url, "no-such-branch", True)


def test_push_false_with_a_url_is_refused(world: World) -> None:
    with pytest.raises(DeployError, match="push: false"):
        world.repos.open(world.url, "main", False)


def test_a_folder_that_is_not_there_is_refused_and_named(world: World) -> None:
    with pytest.raises(DeployError, match="no-such-folder"):
        world.repos.open("no-such-folder", None, False)


def test_an_unreachable_remote_is_refused_without_its_credentials(world: World) -> None:
    # port 1 on loopback: nothing listens there, so the connection is refused at once
    url = "http://bot:s3cr3t-t0ken@127.0.0.1:1/manifests.git"
    with pytest.raises(DeployError) as refused:
        world.repos.open(url, "main", True)
    assert "s3cr3t-t0ken" not in str(refused.value)
    assert "127.0.0.1:1" in str(refused.value)


def test_push_false_advances_the_local_repository_s_branch(world: World) -> None:
    workspace = world.repos.open(world.local, None, False)
    try:
        assert workspace.label == f"{world.local}:main"
        workspace.commit([_edit(workspace, APP, "image: r.example/app@sha256:2\n")], "pin app")
        assert world.show("local", APP) == FILES[APP]  # not before publish_locally
        workspace.publish_locally()
    finally:
        workspace.close()
    assert not workspace.top.exists()
    assert world.show("local", APP) == "image: r.example/app@sha256:2\n"
    assert world.log("local") == ["pin app", "initial"]
    assert world.log("remote") == ["initial"]  # nothing was pushed


def test_a_local_repository_is_pushed_to_its_remote_and_its_own_branch_left_alone(
    world: World,
) -> None:
    workspace = world.repos.open(world.local, "main", True)
    try:
        assert workspace.label == f"{world.local}:main"
        workspace.commit([_edit(workspace, APP, "image: r.example/app@sha256:3\n")], "pin app")
        assert workspace.push() is True
    finally:
        workspace.close()
    assert world.show("remote", APP) == "image: r.example/app@sha256:3\n"
    assert world.log("remote") == ["pin app", "initial"]
    assert world.show("local", APP) == FILES[APP]  # the caller's branch is as it was
    assert world.log("local") == ["initial"]


def test_a_clone_s_commit_cannot_stay_local(world: World, clone: Workspace) -> None:
    clone.commit([_edit(clone, APP, "image: r.example/app@sha256:1\n")], "deploy app")
    with pytest.raises(DeployError, match="push it"):
        clone.publish_locally()
    assert world.log("remote") == ["initial"]


def test_closing_a_checkout_removes_it(world: World) -> None:
    for repo, push in ((world.url, True), (world.local, False)):
        workspace = world.repos.open(repo, "main", push)
        top = workspace.top
        assert top.is_dir()
        workspace.close()
        assert not top.exists()
