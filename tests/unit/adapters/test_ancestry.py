"""Ancestry asked of real git repositories, full and shallow, as CI clones them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.adapters.ancestry import GitAncestry
from tests.unit.gitrepo import ISOLATION, GitRepo, leaked_git_vars


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import os

    for name in list(leaked_git_vars(os.environ)):
        monkeypatch.delenv(name)
    for name, value in ISOLATION.items():
        monkeypatch.setenv(name, value)
    yield


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[GitRepo, list[str], str]:
    """main: c1..c6; side: branches off c2 with one commit; `old` points at c3."""
    repo = GitRepo.init(tmp_path / "upstream")
    commits = [repo.commit() for _ in range(6)]
    repo.git("branch", "old", commits[2])
    repo.git("checkout", "-q", "-b", "side", commits[1])
    side = repo.commit(file="side.txt")
    repo.checkout("main")
    return repo, commits, side


def test_full_clone_answers_both_ways(
    tmp_path: Path, upstream: tuple[GitRepo, list[str], str]
) -> None:
    repo, c, side = upstream
    clone = repo.clone(tmp_path / "full")
    git = GitAncestry(clone.path)
    assert git.is_ancestor(c[1], c[5]) is True
    assert git.is_ancestor(c[5], c[1]) is False
    assert git.is_ancestor(side, c[5]) is False  # diverged: not an ancestor


def test_shallow_clone_fetches_the_running_commit_and_deepens_to_decide(
    tmp_path: Path, upstream: tuple[GitRepo, list[str], str]
) -> None:
    repo, c, _ = upstream
    clone = repo.clone(tmp_path / "shallow", depth=1)  # HEAD = c6 only
    assert clone.git("rev-parse", "--is-shallow-repository") == "true"
    git = GitAncestry(clone.path)
    # c3 runs, c6 is deployed: c3 is missing here and beyond the shallow cut
    assert git.is_ancestor(c[5], c[2]) is False
    assert git.is_ancestor(c[2], c[5]) is True


def test_older_pipeline_in_a_shallow_clone_learns_it_is_older(
    tmp_path: Path, upstream: tuple[GitRepo, list[str], str]
) -> None:
    repo, c, _ = upstream
    clone = repo.clone(tmp_path / "old", depth=1, branch="old")  # HEAD = c3 only
    git = GitAncestry(clone.path)
    assert git.is_ancestor(c[2], c[5]) is True  # deploying c3 while c6 runs: backwards


def test_diverged_commits_in_a_shallow_clone_are_left_to_the_labels(
    tmp_path: Path, upstream: tuple[GitRepo, list[str], str]
) -> None:
    """Deepening back to the older commit's time does not reach a fork point older than both:
    rather than unshallow a whole history, git says it cannot tell."""
    repo, c, side = upstream
    clone = repo.clone(tmp_path / "shallow", depth=1)
    git = GitAncestry(clone.path)
    assert git.is_ancestor(side, c[5]) is None
    assert git.is_ancestor(c[5], side) is None
    full = repo.clone(tmp_path / "full")
    assert GitAncestry(full.path).is_ancestor(side, c[5]) is False


def test_a_commit_no_remote_has_cannot_be_told(
    tmp_path: Path, upstream: tuple[GitRepo, list[str], str]
) -> None:
    repo, c, _ = upstream
    clone = repo.clone(tmp_path / "full")
    assert GitAncestry(clone.path).is_ancestor("f" * 40, c[5]) is None


def test_no_repository_cannot_tell(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert GitAncestry(tmp_path / "plain").is_ancestor("a" * 40, "b" * 40) is None


@pytest.mark.parametrize("bad", ["--upload-pack=touch pwned", "HEAD", "abc123", "A" * 40, "a" * 39])
def test_only_full_commit_ids_reach_git(
    tmp_path: Path, upstream: tuple[GitRepo, list[str], str], bad: str
) -> None:
    repo, c, _ = upstream
    clone = repo.clone(tmp_path / "full")
    assert GitAncestry(clone.path).is_ancestor(bad, c[5]) is None
    assert not (clone.path / "pwned").exists()
