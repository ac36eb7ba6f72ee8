"""The ImagePusher port's contract: the fake the unit tests use (FakeEngine) and the Docker
Engine adapter (dockerd pushing to the sandbox registry) answer the same cases the same
way: a push returns the digest the registry then holds under the tag, a second tag of the
same image has the same digest, a tag that is not there locally fails without retries,
rejected credentials ask for new ones (Kind.REAUTH), and the local image id is known."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from pipeline.adapters.credentials import Static
from pipeline.adapters.docker_engine import Engine
from pipeline.adapters.ports import Credentials, ImagePusher, Registry
from pipeline.adapters.registry_http import RegistryClient
from pipeline.retry import Kind, RegistryFailure
from tests.integration.run.support import Token
from tests.integration.sandbox.support import Images
from tests.unit.fakes import FakeEngine, FakeRegistry


@dataclass
class World:
    """One side of the contract: the pusher, the registry it pushes to (read through the
    Registry port), its credentials, and how an image comes to be local under a tag."""

    port: ImagePusher
    reader: Registry
    host: str
    credentials: Credentials
    local: Callable[[str, str], str]  # (repository path, tag) -> the local image id
    lines: list[str] = field(default_factory=list)

    def push(self, path: str, tag: str, credentials: Credentials | None = None) -> str:
        creds = credentials or self.credentials
        return self.port.push(f"{self.host}/{path}", tag, creds, self.lines.append)

    def digest(self, path: str, tag: str) -> str | None:
        manifest = self.reader.manifest(path, tag)
        return None if manifest is None else manifest.digest


def _fake() -> World:
    registry = FakeRegistry(password="pw-1")
    engine = FakeEngine(registry, host="reg.example")

    def local(path: str, tag: str) -> str:
        image_id = f"sha256:{uuid.uuid4().hex * 2}"
        engine.local[f"reg.example/{path}:{tag}"] = image_id
        return image_id

    creds = Credentials("AWS", "pw-1", "reg.example")
    return World(engine, registry, "reg.example", creds, local)


def _real(sandbox: dict[str, str], token: Token, docker_client: Any, images: Images) -> World:
    host = sandbox["PIPELINE_REGISTRY_HOST"]
    creds = Credentials(token.username, token.password, host)

    def local(path: str, tag: str) -> str:
        image = images.build()
        image.tag(f"{host}/{path}", tag)
        return str(image.id)

    reader = RegistryClient(host, Static(creds))
    return World(Engine(docker_client), reader, host, creds, local)


@pytest.fixture
def images(docker_client: Any, sandbox: dict[str, str], token: Token) -> Iterator[Images]:
    auth = {"username": token.username, "password": token.password}
    made = Images(docker_client, sandbox["PIPELINE_REGISTRY_HOST"], auth)
    yield made
    made.remove_all()  # only the images this test built


@pytest.fixture(params=["fake", "docker-engine"])
def world(
    request: pytest.FixtureRequest,
    sandbox: dict[str, str],
    token: Token,
    docker_client: Any,
    images: Images,
) -> Iterator[World]:
    made = _fake() if request.param == "fake" else _real(sandbox, token, docker_client, images)
    yield made
    made.port.close()


@pytest.fixture
def repository(ecr: Any) -> str:
    name = f"contract/push-{uuid.uuid4().hex[:8]}"
    ecr.create_repository(repositoryName=name)
    return name


def test_a_push_returns_the_digest_the_registry_holds_under_the_tag(
    world: World, repository: str
) -> None:
    world.local(repository, "sha-1111111")
    digest = world.push(repository, "sha-1111111")
    assert digest.startswith("sha256:")
    assert world.digest(repository, "sha-1111111") == digest
    assert any(digest in line for line in world.lines)  # the push's own words reach the sink


def test_a_second_tag_of_the_same_image_has_the_same_digest(world: World, repository: str) -> None:
    image_id = world.local(repository, "sha-2222222")
    first = world.push(repository, "sha-2222222")
    ref = f"{world.host}/{repository}"
    assert world.port.image_id(f"{ref}:sha-2222222") == image_id
    if isinstance(world.port, FakeEngine):
        world.port.local[f"{ref}:1.0.0"] = image_id
    else:
        world.port.client.api.tag(image_id, ref, "1.0.0")  # type: ignore[attr-defined]
    assert world.push(repository, "1.0.0") == first
    assert world.digest(repository, "1.0.0") == first


def test_a_tag_that_is_not_there_locally_fails_without_retries(
    world: World, repository: str
) -> None:
    with pytest.raises(RegistryFailure) as failed:
        world.push(repository, "sha-0000000")
    assert failed.value.kind is Kind.FATAL
    assert world.digest(repository, "sha-0000000") is None


def test_rejected_credentials_ask_for_new_ones(world: World, repository: str) -> None:
    world.local(repository, "sha-3333333")
    wrong = Credentials(world.credentials.username, "not-the-password", world.host)
    with pytest.raises(RegistryFailure) as failed:
        world.push(repository, "sha-3333333", wrong)
    assert failed.value.kind is Kind.REAUTH
    assert "not-the-password" not in str(failed.value)
    assert world.digest(repository, "sha-3333333") is None


def test_the_local_image_id_is_known_and_an_unknown_ref_is_none(
    world: World, repository: str
) -> None:
    image_id = world.local(repository, "sha-4444444")
    assert world.port.image_id(f"{world.host}/{repository}:sha-4444444") == image_id
    assert world.port.image_id(f"{world.host}/{repository}:never-{uuid.uuid4().hex[:6]}") is None
