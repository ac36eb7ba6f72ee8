"""The release git adapter on real repositories: remote tags, tag names, errors without secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.adapters.git_release import ReleaseError, ReleaseRepo, _said
from pipeline.errors import UsageError
from tests.unit.gitrepo import GitRepo

pytestmark = pytest.mark.usefixtures("clean_environment")


def repo_with_origin(tmp_path: Path) -> tuple[GitRepo, GitRepo]:
    origin = GitRepo.init(tmp_path / "origin")
    origin.commit()
    origin.tag("v1.0.0", annotated=True)
    origin.tag("nightly")
    clone = origin.clone(tmp_path / "clone")
    origin.commit()
    origin.tag("v2.0.0")  # only the remote has it
    return origin, clone


def test_remote_tags_lists_every_tag_without_fetching(tmp_path: Path) -> None:
    _, clone = repo_with_origin(tmp_path)
    repo = ReleaseRepo(clone.path)
    assert sorted(repo.remote_tags("origin")) == ["nightly", "v1.0.0", "v2.0.0"]
    assert sorted(repo.local_tags()) == ["nightly", "v1.0.0"]


def test_create_push_and_delete_a_tag(tmp_path: Path) -> None:
    origin, clone = repo_with_origin(tmp_path)
    repo = ReleaseRepo(clone.path)
    repo.create_tag("v1.0.1", clone.head(), "Release v1.0.1")
    repo.push_tag("v1.0.1", "origin")
    assert origin.git("rev-parse", "v1.0.1^{commit}") == clone.head()
    repo.delete_tag("v1.0.1")
    assert "v1.0.1" not in repo.local_tags()


@pytest.mark.parametrize("name", ["-rf", "a..b", "v1 .0", "x~1", "tag^", "end."])
def test_invalid_tag_names_are_usage_errors(tmp_path: Path, name: str) -> None:
    _, clone = repo_with_origin(tmp_path)
    with pytest.raises(UsageError, match="not a valid git tag name"):
        ReleaseRepo(clone.path).check_tag_name(name)


def test_an_existing_tag_cannot_be_created_again(tmp_path: Path) -> None:
    _, clone = repo_with_origin(tmp_path)
    with pytest.raises(ReleaseError, match=r"`git tag` failed: .*already exists"):
        ReleaseRepo(clone.path).create_tag("v1.0.0", clone.head(), "again")


def test_outside_a_repository_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not in a git repository"):
        ReleaseRepo(tmp_path)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "fatal: unable to access 'https://user:t0ken@host/x.git/': refused",
            "fatal: unable to access 'https://***@host/x.git/': refused",
        ),
        ("stderr: 'fatal: https://t0ken@host/x'", "fatal: https://***@host/x"),
        ("plain message", "plain message"),
    ],
)
def test_errors_never_show_url_credentials(text: str, shown: str) -> None:
    assert _said(text) == shown
