"""Which repositories a run needs, against the fake repository admin: the missing ones are
created when the config allows it (and reported, so nothing in them is looked up), else
the run stops naming them; other registries have no admin."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

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
