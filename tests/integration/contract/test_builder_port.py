"""The Builder port's contract: the fake the unit tests use, the BuildKit client (buildx
or `DOCKER_BUILDKIT=1 docker build`) and the classic builder (the Engine API), on the
machine's dockerd, answer the same cases the same way: a build tags every reference
with the image it returns and streams its output; a failing build is a BuildError named
after the image and tags nothing; after a cancel no build starts. A stoppable builder
also never starts a stopped image, ends one in flight, and discards what it built."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pipeline.adapters import builders
from pipeline.adapters.docker_engine import Engine
from pipeline.adapters.ports import Builder, BuildRequest, BuildResult
from pipeline.errors import BuildError
from tests.integration.build.cold import forget_build_cache
from tests.unit.fakes import FakeBuilder, FakeEngine, FakeRegistry

KINDS = ["fake", "buildkit-client", "classic"]
STOPPABLE = ["fake", "buildkit-client"]


@dataclass
class World:
    """One side of the contract: the builder, the image store it builds into, and how a
    request is made to succeed, fail, or run until stopped."""

    port: Builder
    image_id: Callable[[str], str | None]
    folder: Path
    nonce: str = field(default_factory=lambda: f"contract{uuid.uuid4().hex[:12]}")
    on_fail: Callable[[BuildRequest], None] = lambda _r: None
    on_slow: Callable[[BuildRequest], None] = lambda _r: None
    made: list[BuildRequest] = field(default_factory=list)

    def request(self, name: str, step: str) -> BuildRequest:
        context = self.folder / name
        context.mkdir()
        (context / "Dockerfile").write_text(f"FROM local/busybox:1\nRUN echo {self.nonce} {step}\n")
        refs = (f"{self.nonce}/{name}:1", f"{self.nonce}/{name}:sha-abc1234")
        made = BuildRequest(name, refs, context, context / "Dockerfile")
        self.made.append(made)
        return made

    def good(self, name: str) -> BuildRequest:
        return self.request(name, "> /ok")

    def failing(self, name: str) -> BuildRequest:
        made = self.request(name, "&& false")
        self.on_fail(made)
        return made

    def slow(self, name: str) -> BuildRequest:
        made = self.request(name, "&& sleep 120")
        self.on_slow(made)
        return made


def _fake(folder: Path) -> World:
    builder = FakeBuilder(FakeEngine(FakeRegistry()))

    def fail(request: BuildRequest) -> None:
        builder.fail = request.name

    def slow(_request: BuildRequest) -> None:
        builder.hold.clear()  # runs until released (stop, cancel) or 5 s

    return World(builder, builder.engine.image_id, folder, on_fail=fail, on_slow=slow)


def _real(kind: str, folder: Path, docker_client: Any) -> World:
    engine = Engine(docker_client)
    env = dict(os.environ)
    if kind == "classic":
        port: Builder = builders.ClassicBuilder(engine, env)
    else:
        found = builders.choose(env)
        assert found.kind in ("buildx", "buildkit"), f"no BuildKit client here: {found}"
        port = builders.make(found, engine, env)
    return World(port, engine.image_id, folder)


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path, docker_client: Any) -> Iterator[World]:
    made = (
        _fake(tmp_path)
        if request.param == "fake"
        else _real(request.param, tmp_path, docker_client)
    )
    yield made
    if request.param != "fake":  # only what this test built, on the shared engine
        for built in made.made:
            for ref in built.refs:
                if made.image_id(ref):
                    docker_client.images.remove(ref, force=True)
        forget_build_cache(made.nonce)


def _lines() -> tuple[list[str], Callable[[str], None]]:
    seen: list[str] = []
    return seen, seen.append


@pytest.mark.parametrize("world", KINDS, indirect=True)
def test_a_build_tags_every_reference_with_the_image_it_returns(world: World) -> None:
    request = world.good("app")
    seen, sink = _lines()
    result = world.port.build(request, sink)
    assert isinstance(result, BuildResult) and result.image_id.startswith("sha256:")
    assert [world.image_id(ref) for ref in request.refs] == [result.image_id] * 2
    assert seen  # the build's output reached the sink


@pytest.mark.parametrize("world", KINDS, indirect=True)
def test_a_failing_build_is_a_build_error_named_after_the_image(world: World) -> None:
    request = world.failing("broken")
    with pytest.raises(BuildError, match=r"^broken: "):
        world.port.build(request, lambda _line: None)
    assert [world.image_id(ref) for ref in request.refs] == [None, None]


@pytest.mark.parametrize("world", KINDS, indirect=True)
def test_after_a_cancel_no_build_starts(world: World) -> None:
    request = world.good("late")
    world.port.cancel()
    with pytest.raises(BuildError, match=r"^late: "):
        world.port.build(request, lambda _line: None)
    assert world.image_id(request.refs[0]) is None


@pytest.mark.parametrize("world", KINDS, indirect=True)
def test_the_builder_says_what_it_is(world: World) -> None:
    assert world.port.name and world.port.description
    assert isinstance(world.port.stoppable, bool)


@pytest.mark.parametrize("world", STOPPABLE, indirect=True)
def test_a_stopped_image_is_never_built(world: World) -> None:
    request = world.good("unneeded")
    world.port.stop("unneeded")
    with pytest.raises(BuildError, match=r"^unneeded: "):
        world.port.build(request, lambda _line: None)
    assert world.image_id(request.refs[0]) is None
    other = world.good("needed")  # stopping one image leaves the others alone
    assert world.port.build(other, lambda _line: None).image_id


@pytest.mark.parametrize("world", STOPPABLE, indirect=True)
def test_stop_ends_a_build_in_flight_and_tags_nothing(world: World) -> None:
    request = world.slow("slow")
    started = threading.Event()
    outcome: list[Exception | BuildResult] = []

    def sink(_line: str) -> None:
        started.set()

    def build() -> None:
        try:
            outcome.append(world.port.build(request, sink))
        except Exception as err:  # noqa: BLE001 (handed to the test's thread)
            outcome.append(err)

    worker = threading.Thread(target=build)
    worker.start()
    assert started.wait(60), "the build never started"
    world.port.stop("slow")
    worker.join(60)
    assert not worker.is_alive(), "the build did not stop"
    assert len(outcome) == 1 and isinstance(outcome[0], BuildError), outcome
    assert str(outcome[0]).startswith("slow: ")
    assert world.image_id(request.refs[0]) is None


@pytest.mark.parametrize("world", STOPPABLE, indirect=True)
def test_discard_untags_what_a_build_produced(world: World) -> None:
    request = world.good("early")
    world.port.build(request, lambda _line: None)
    world.port.discard(request)
    assert [world.image_id(ref) for ref in request.refs] == [None, None]
