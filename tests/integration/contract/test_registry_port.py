"""The Registry port's contract: the fake the unit tests use and the real HTTP adapter
(against the sandbox registry) answer the same cases the same way, so the fake cannot
drift from what a registry does (labels live in the config blob, not the manifest)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from pipeline.adapters.credentials import Static
from pipeline.adapters.ports import Credentials, Manifest, Registry
from pipeline.adapters.registry_http import RegistryClient
from pipeline.image_config import labels_of
from tests.integration.contract.images import seed_fake, seed_real
from tests.integration.run.support import Token
from tests.integration.sandbox.support import RegistryHttp
from tests.unit.fakes import FakeRegistry


@dataclass
class World:
    """One side of the contract: the port, and how an image gets into its registry."""

    port: Registry
    seed: Callable[[str, str, dict[str, str]], Manifest]


def _fake() -> World:
    registry = FakeRegistry()
    return World(registry, lambda repo, tag, labels: seed_fake(registry, repo, tag, labels))


def _real(sandbox: dict[str, str], token: Token) -> World:
    host = sandbox["PIPELINE_REGISTRY_HOST"]
    raw = RegistryHttp(host, token.username, token.password)
    creds = Static(Credentials(token.username, token.password, host))
    return World(
        RegistryClient(host, creds),
        lambda repo, tag, labels: seed_real(raw, host, repo, tag, labels),
    )


@pytest.fixture(params=["fake", "real"])
def world(
    request: pytest.FixtureRequest, sandbox: dict[str, str], ecr: Any, token: Token
) -> Iterator[World]:
    yield _fake() if request.param == "fake" else _real(sandbox, token)


@pytest.fixture
def repository(ecr: Any) -> str:
    name = f"contract/registry-{uuid.uuid4().hex[:8]}"
    ecr.create_repository(repositoryName=name)
    return name


def test_a_tag_that_is_not_there_is_none(world: World, repository: str) -> None:
    world.seed(repository, "other", {})
    assert world.port.manifest(repository, "sha-0000000") is None


def test_a_tag_and_its_digest_name_the_same_manifest(world: World, repository: str) -> None:
    seeded = world.seed(repository, "sha-1111111", {"a": "1"})
    by_tag = world.port.manifest(repository, "sha-1111111")
    assert by_tag is not None and by_tag.digest == seeded.digest
    by_digest = world.port.manifest(repository, seeded.digest)
    assert by_digest is not None and by_digest.digest == seeded.digest
    assert (
        json.loads(by_tag.body)["config"]["digest"] == json.loads(seeded.body)["config"]["digest"]
    )


def test_labels_come_from_the_config_blob(world: World, repository: str) -> None:
    labels = {"pipeline.input-digest": "sha256:" + "ab" * 32, "org.example": "x"}
    seeded = world.seed(repository, "sha-2222222", labels)
    manifest = world.port.manifest(repository, "sha-2222222")
    assert manifest is not None
    assert "pipeline.input-digest" not in manifest.body.decode()  # not in the manifest
    assert labels_of(world.port.config(repository, manifest)) == labels
    assert manifest.digest == seeded.digest


def test_put_manifest_adds_a_tag_to_the_same_digest(world: World, repository: str) -> None:
    seeded = world.seed(repository, "sha-3333333", {})
    stored = world.port.manifest(repository, "sha-3333333")
    assert stored is not None
    assert world.port.put_manifest(repository, "1.2.3", stored) == seeded.digest
    moved = world.port.manifest(repository, "1.2.3")
    assert moved is not None and moved.digest == seeded.digest


def test_a_tag_moves_to_another_manifest(world: World, repository: str) -> None:
    first = world.seed(repository, "latest", {"n": "1"})
    second = world.seed(repository, "sha-4444444", {"n": "2"})
    stored = world.port.manifest(repository, "sha-4444444")
    assert stored is not None
    world.port.put_manifest(repository, "latest", stored)
    now = world.port.manifest(repository, "latest")
    assert now is not None and now.digest == second.digest != first.digest


def test_our_credentials_are_accepted(world: World) -> None:
    assert world.port.accepts_credentials() is True


def test_a_digest_from_another_repository_is_not_found(world: World, ecr: Any) -> None:
    other = f"contract/registry-{uuid.uuid4().hex[:8]}"
    ecr.create_repository(repositoryName=other)
    elsewhere = world.seed(other, "sha-5555555", {"only": "there"})
    mine = f"contract/registry-{uuid.uuid4().hex[:8]}"
    ecr.create_repository(repositoryName=mine)
    world.seed(mine, "other", {})
    assert world.port.manifest(mine, elsewhere.digest) is None
