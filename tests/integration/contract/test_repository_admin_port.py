"""The RepositoryAdmin port's contract: the fake and ECR's control plane (the adapter
against the sandbox) answer the same cases the same way: which of the named repositories
are missing, creating one (again, too) makes it exist, and what each existing one lets a
tag do (its tag mutability, as a repository made outside the run has it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from pipeline.adapters import ecr as ecr_adapter
from pipeline.adapters.ports import RepositoryAdmin, TagMutability
from tests.integration.run.support import ACCOUNT
from tests.unit.fakes import FakeRepositories


@dataclass
class World:
    """One side of the contract: the port, and a repository made outside the port."""

    port: RepositoryAdmin
    make: Callable[[str], None]
    #: a repository made outside the port with this tag mutability
    make_with: Callable[[str, TagMutability], None]


@pytest.fixture(params=["fake", "ecr"])
def world(request: pytest.FixtureRequest, sandbox: dict[str, str], ecr: Any) -> World:
    if request.param == "fake":
        fake = FakeRepositories()

        def made_with(name: str, mode: TagMutability) -> None:
            fake.existing.add(name)
            fake.modes[name] = mode

        return World(fake, fake.existing.add, made_with)
    rules = ecr_adapter.RepositoryRules(scan_on_push=False)
    admin = ecr_adapter.Repositories(
        sandbox["AWS_REGION"], ACCOUNT, rules, None, connect=lambda _service, _region: ecr
    )

    def make_with(name: str, mode: TagMutability) -> None:
        extra: dict[str, Any] = {}
        if mode.filters:
            extra["imageTagMutabilityExclusionFilters"] = [
                {"filterType": "WILDCARD", "filter": f} for f in mode.filters
            ]
        ecr.create_repository(repositoryName=name, imageTagMutability=mode.mode, **extra)

    return World(admin, lambda name: ecr.create_repository(repositoryName=name), make_with)


def _names(n: int) -> list[str]:
    prefix = f"contract/admin-{uuid.uuid4().hex[:8]}"
    return [f"{prefix}/r{i}" for i in range(n)]


def test_only_the_repositories_that_are_not_there_are_missing(world: World) -> None:
    a, b, c = _names(3)
    world.make(b)
    assert world.port.missing([a, b, c]) == [a, c]  # in the order asked


def test_nothing_is_missing_when_all_are_there(world: World) -> None:
    names = _names(2)
    for name in names:
        world.make(name)
    assert world.port.missing(names) == []
    assert world.port.missing([]) == []


def test_a_created_repository_is_no_longer_missing(world: World) -> None:
    a, b = _names(2)
    world.port.create(a)
    assert world.port.missing([a, b]) == [b]


def test_creating_a_repository_that_exists_is_not_an_error(world: World) -> None:
    (a,) = _names(1)
    world.make(a)
    world.port.create(a)  # another job created it meanwhile
    world.port.create(a)
    assert world.port.missing([a]) == []


def test_each_existing_repository_reports_its_tag_mutability(world: World) -> None:
    a, b, c, d, e = _names(5)
    world.make(a)
    world.make_with(b, TagMutability("IMMUTABLE"))
    world.make_with(c, TagMutability("IMMUTABLE_WITH_EXCLUSION", ("latest", "v*")))
    world.make_with(d, TagMutability("MUTABLE_WITH_EXCLUSION", ("release-*",)))
    assert world.port.missing([a, b, c, d, e]) == [e]
    assert world.port.mutability([a, b, c, d, e]) == {  # the missing one is left out
        a: TagMutability("MUTABLE"),
        b: TagMutability("IMMUTABLE"),
        c: TagMutability("IMMUTABLE_WITH_EXCLUSION", ("latest", "v*")),
        d: TagMutability("MUTABLE_WITH_EXCLUSION", ("release-*",)),
    }
    assert world.port.mutability([]) == {}


def test_a_repository_the_port_created_reports_its_mutability(world: World) -> None:
    (a,) = _names(1)
    assert world.port.missing([a]) == [a]
    world.port.create(a)  # with the default rules: MUTABLE
    assert world.port.mutability([a]) == {a: TagMutability("MUTABLE")}
