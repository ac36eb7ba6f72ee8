"""The Retagger port's contract: the fake the unit tests use (`FakeRegistry.tag`), ECR's
PutImage and the registry's own manifest PUT (against the sandbox) answer the same cases
the same way: a new tag names the manifest, a tag moves in a mutable repository, an
immutable repository refuses to move one (Kind.IMMUTABLE), and retagging a manifest
with the tag it already has changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from pipeline.adapters import ecr as ecr_adapter
from pipeline.adapters.credentials import Static
from pipeline.adapters.ports import Credentials, Manifest, Registry, Retagger
from pipeline.adapters.registry_http import RegistryClient
from pipeline.retry import Kind, RegistryFailure
from tests.integration.contract.images import seed_fake, seed_real
from tests.integration.run.support import ACCOUNT, Token
from tests.integration.sandbox.support import RegistryHttp
from tests.unit.fakes import FakeRegistry


@dataclass
class World:
    """One side of the contract: the port, how a repository and an image come to be in
    its registry, and how a tag is read back (through the Registry port)."""

    port: Retagger
    reader: Registry
    repository: Callable[[bool], str]  # immutable? -> a new repository's name
    seed: Callable[[str, str, dict[str, str]], Manifest]

    def digest(self, repository: str, tag: str) -> str | None:
        manifest = self.reader.manifest(repository, tag)
        return None if manifest is None else manifest.digest


def _name() -> str:
    return f"contract/retag-{uuid.uuid4().hex[:8]}"


def _fake() -> World:
    registry = FakeRegistry()

    def repository(immutable: bool) -> str:
        registry.immutable = immutable
        return _name()

    return World(
        registry,
        registry,
        repository,
        lambda repo, tag, labels: seed_fake(registry, repo, tag, labels),
    )


def _real(kind: str, sandbox: dict[str, str], ecr: Any, token: Token) -> World:
    host = sandbox["PIPELINE_REGISTRY_HOST"]
    raw = RegistryHttp(host, token.username, token.password)
    client = RegistryClient(host, Static(Credentials(token.username, token.password, host)))

    def repository(immutable: bool) -> str:
        name = _name()
        mode = "IMMUTABLE" if immutable else "MUTABLE"
        ecr.create_repository(repositoryName=name, imageTagMutability=mode)
        return name

    port: Retagger = client
    if kind == "ecr-put-image":
        port = ecr_adapter.PutImageRetagger(
            sandbox["AWS_REGION"], ACCOUNT, connect=lambda _service, _region: ecr
        )
    return World(
        port,
        client,
        repository,
        lambda repo, tag, labels: seed_real(raw, host, repo, tag, labels),
    )


@pytest.fixture(params=["fake", "ecr-put-image", "registry-put"])
def world(request: pytest.FixtureRequest, sandbox: dict[str, str], ecr: Any, token: Token) -> World:
    if request.param == "fake":
        return _fake()
    return _real(request.param, sandbox, ecr, token)


def test_a_new_tag_names_the_manifest(world: World) -> None:
    repository = world.repository(False)
    manifest = world.seed(repository, "sha-1111111", {"n": "1"})
    world.port.tag(repository, "1.2.3", manifest)
    assert world.digest(repository, "1.2.3") == manifest.digest
    assert world.digest(repository, "sha-1111111") == manifest.digest


def test_retagging_with_the_tag_it_has_changes_nothing(world: World) -> None:
    repository = world.repository(False)
    manifest = world.seed(repository, "sha-2222222", {})
    world.port.tag(repository, "sha-2222222", manifest)
    assert world.digest(repository, "sha-2222222") == manifest.digest


def test_a_tag_moves_in_a_mutable_repository(world: World) -> None:
    repository = world.repository(False)
    first = world.seed(repository, "latest", {"n": "1"})
    second = world.seed(repository, "sha-3333333", {"n": "2"})
    world.port.tag(repository, "latest", second)
    assert world.digest(repository, "latest") == second.digest != first.digest


def test_an_immutable_repository_refuses_to_move_a_tag(world: World) -> None:
    repository = world.repository(True)
    first = world.seed(repository, "1.0.0", {"n": "1"})
    second = world.seed(repository, "sha-4444444", {"n": "2"})
    with pytest.raises(RegistryFailure) as refused:
        world.port.tag(repository, "1.0.0", second)
    assert refused.value.kind is Kind.IMMUTABLE
    assert "1.0.0" in str(refused.value)
    assert world.digest(repository, "1.0.0") == first.digest  # unchanged


def test_an_immutable_repository_takes_a_new_tag(world: World) -> None:
    repository = world.repository(True)
    manifest = world.seed(repository, "sha-5555555", {})
    world.port.tag(repository, "2.0.0", manifest)
    assert world.digest(repository, "2.0.0") == manifest.digest
