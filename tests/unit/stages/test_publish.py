"""Which repositories a run needs, against the fake repository admin: the missing ones are
created when the config allows it (and reported, so nothing in them is looked up), else
the run stops naming them; other registries have no admin."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pipeline.adapters.ports import TagMutability
from pipeline.errors import StageError
from pipeline.stages import publish
from tests.unit.fakes import FakeRepositories


def _plan(*repositories: str, create: bool) -> Any:
    """The two things `ensure_repositories` reads: the images' repositories and the switch."""
    return SimpleNamespace(
        images=[SimpleNamespace(repository=r) for r in repositories],
        config=SimpleNamespace(registry=SimpleNamespace(create_repositories=create)),
    )


def test_missing_repositories_are_created_once_and_reported() -> None:
    admin = FakeRepositories(existing=("team/api",))
    plan = _plan("team/web", "team/api", "team/web", create=True)
    assert publish.ensure_repositories(plan, lambda: admin) == {"team/web"}
    assert admin.created == ["team/web"]


def test_missing_repositories_stop_the_run_when_creating_is_off() -> None:
    admin = FakeRepositories(existing=("team/api",))
    with pytest.raises(StageError, match=r"missing: team/a, team/b; .*create_repositories"):
        publish.ensure_repositories(
            _plan("team/b", "team/api", "team/a", create=False), lambda: admin
        )
    assert admin.created == []


def test_nothing_is_created_when_all_are_there() -> None:
    admin = FakeRepositories(existing=("team/api",))
    assert publish.ensure_repositories(_plan("team/api", create=False), lambda: admin) == set()


def test_a_registry_without_an_admin_needs_nothing() -> None:
    assert publish.ensure_repositories(_plan("team/api", create=False), lambda: None) == set()


def _promoting(*images: tuple[str, tuple[str, ...]], stages: tuple[str, ...]) -> Any:
    """What `repositories` reads: each image's repository and mutable tags, and the stages."""
    return SimpleNamespace(
        images=[
            SimpleNamespace(repository=r, tags=SimpleNamespace(mutable=list(m))) for r, m in images
        ],
        config=SimpleNamespace(registry=SimpleNamespace(create_repositories=True)),
        stages=stages,
    )


def test_existing_repositories_report_their_mutability_when_promote_moves_tags() -> None:
    admin = FakeRepositories(
        existing=("team/web", "team/fixed"), modes={"team/api": TagMutability("IMMUTABLE")}
    )
    plan = _promoting(
        ("team/api", ("main",)),
        ("team/web", ("latest",)),
        ("team/new", ("main",)),
        ("team/fixed", ()),
        stages=("build", "push", "promote"),
    )
    repos = publish.repositories(plan, lambda: admin)
    assert repos.created == {"team/new"}  # created with the config's rules: not asked
    assert repos.mutability == {
        "team/api": TagMutability("IMMUTABLE"),
        "team/web": TagMutability("MUTABLE"),
    }


def test_mutability_is_not_read_when_no_tag_will_move() -> None:
    class Unasked(FakeRepositories):
        def mutability(self, names: list[str]) -> dict[str, TagMutability]:
            raise AssertionError(f"asked about {names}")

    admin = Unasked(existing=("team/api",))
    no_promote = _promoting(("team/api", ("main",)), stages=("build", "push"))
    assert publish.repositories(no_promote, lambda: admin) == publish.Repositories()
    nothing_moves = _promoting(("team/api", ()), stages=("build", "push", "promote"))
    assert publish.repositories(nothing_moves, lambda: admin) == publish.Repositories()
    assert publish.repositories(nothing_moves, lambda: None) == publish.Repositories()
