"""The CredentialSource port's contract: the fake the unit tests use, ECR's token source
and static credentials (the adapters, against the sandbox) answer the same cases the
same way: credentials for the registry's host, the same ones until a refresh, the
refreshed ones afterwards, accepted by the registry, the password never in their text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from pipeline.adapters import ecr as ecr_adapter
from pipeline.adapters.credentials import Static
from pipeline.adapters.ports import Credentials, CredentialSource
from pipeline.adapters.registry_http import RegistryClient
from tests.integration.run.support import Token
from tests.unit.fakes import FakeCredentials, FakeRegistry


@dataclass
class World:
    """One side of the contract: the port, its registry's host, and whether that
    registry takes a given set of credentials."""

    port: CredentialSource
    host: str
    accepts: Callable[[Credentials], bool]


def _fake() -> World:
    source = FakeCredentials("reg.example")
    registry = FakeRegistry()

    def accepts(creds: Credentials) -> bool:  # the fake registry takes the latest ones
        return registry.accepts_credentials() and creds == source.current

    return World(source, source.host, accepts)


def _real(kind: str, sandbox: dict[str, str], ecr: Any, token: Token) -> World:
    host = sandbox["PIPELINE_REGISTRY_HOST"]

    def accepts(creds: Credentials) -> bool:
        return RegistryClient(host, Static(creds)).accepts_credentials()

    source: CredentialSource
    if kind == "ecr-token":
        fetch = ecr_adapter.private_token(
            sandbox["AWS_REGION"], host, connect=lambda _service, _region: ecr
        )
        source = ecr_adapter.TokenCredentials(fetch)
    else:
        source = Static(Credentials(token.username, token.password, host))
    return World(source, host, accepts)


@pytest.fixture(params=["fake", "ecr-token", "static"])
def world(request: pytest.FixtureRequest, sandbox: dict[str, str], ecr: Any, token: Token) -> World:
    return _fake() if request.param == "fake" else _real(request.param, sandbox, ecr, token)


def _current(creds: Credentials | None) -> Credentials:
    assert creds is not None
    assert creds.username and creds.password
    if creds.expires_at is not None:
        assert creds.expires_at > dt.datetime.now(dt.timezone.utc)
    return creds


def test_credentials_name_the_registry_host_and_are_accepted(world: World) -> None:
    creds = _current(world.port.get())
    assert creds.host == world.host
    assert world.accepts(creds)


def test_the_same_credentials_until_a_refresh(world: World) -> None:
    assert _current(world.port.get()) == _current(world.port.get())


def test_a_refresh_gives_credentials_that_get_returns_afterwards(world: World) -> None:
    before = _current(world.port.get())
    fresh = _current(world.port.refresh())
    assert (fresh.host, fresh.username) == (before.host, before.username)
    assert world.port.get() == fresh
    assert world.accepts(fresh)


def test_the_password_is_never_in_their_text(world: World) -> None:
    creds = _current(world.port.get())
    assert creds.password not in f"{creds} {creds!r}"
