"""Which repositories a run needs, against the fake repository admin: the missing ones are
created when the config allows it (and reported, so nothing in them is looked up), else
the run stops naming them; other registries have no admin."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pipeline.adapters.ports import TagMutability
from pipeline.errors import RegistryError, StageError, UsageError
from pipeline.retry import Kind, RegistryFailure
from pipeline.stages import publish, reuse
from tests.unit.fakes import FakeRegistry, FakeRepositories, manifest_for


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


def _image(name: str, repository: str, *mutable: str) -> Any:
    return SimpleNamespace(
        name=name,
        repository=repository,
        image=f"reg.example/{repository}",
        tags=SimpleNamespace(mutable=list(mutable)),
    )


def _reader(registry: FakeRegistry) -> Any:
    """The two things `refuse_collisions` uses of a pusher: its registry and its retries."""
    return SimpleNamespace(registry=registry, call=lambda _what, operation: operation())


def test_collisions_are_refused_with_one_line_per_repository_in_plan_order() -> None:
    registry = FakeRegistry()
    for repo, tag in [("team/web", "main"), ("team/api", "latest"), ("team/api", "main")]:
        registry.store(repo, tag, manifest_for("sha256:before"))
    plan = SimpleNamespace(
        images=[
            _image("web", "team/web", "main", "latest"),
            _image("api", "team/api", "main", "latest"),
            _image("worker", "team/api", "latest"),  # shares api's repository and tags
            _image("docs", "team/docs", "main"),  # MUTABLE: never read
        ]
    )
    modes = {
        "team/web": TagMutability("IMMUTABLE_WITH_EXCLUSION", ("latest",)),
        "team/api": TagMutability("IMMUTABLE"),
        "team/docs": TagMutability("MUTABLE"),
    }
    with pytest.raises(UsageError) as refused:
        publish.refuse_collisions(plan, _reader(registry), {}, modes)
    assert str(refused.value).splitlines() == [
        "ECR repository team/web is IMMUTABLE_WITH_EXCLUSION (filters: latest): tags 'main'"
        " move between commits, but already name another image and the repository will not"
        " move them; add an exclusion filter matching them to the repository, make it"
        " MUTABLE, or drop the rule",
        "ECR repository team/api is IMMUTABLE: tags 'main', 'latest' move between commits,"
        " but already name another image and the repository will not move them; add an"
        " exclusion filter matching them to the repository, make it MUTABLE, or drop the"
        " rule",
    ]


def test_a_tag_on_the_reused_image_passes_and_a_failed_read_is_named() -> None:
    registry = FakeRegistry()
    ours = manifest_for("sha256:ours")
    registry.store("team/api", "latest", ours)
    plan = SimpleNamespace(images=[_image("api", "team/api", "latest")])
    modes = {"team/api": TagMutability("IMMUTABLE")}
    reused = {"api": reuse.Reusable(ours, {"sha-abc1234"})}
    publish.refuse_collisions(plan, _reader(registry), reused, modes)  # a re-run: no error

    def unreachable(_what: str, _operation: Any) -> Any:
        raise RegistryFailure("connection refused", Kind.TRANSIENT)

    broken = SimpleNamespace(registry=registry, call=unreachable)
    with pytest.raises(RegistryError, match=r"^read reg.example/team/api:latest: "):
        publish.refuse_collisions(plan, broken, {}, modes)
