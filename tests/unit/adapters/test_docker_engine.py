"""How the Engine reads a push stream: errors in-band, the digest, dockerd's layer retries."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from pipeline import log, retry
from pipeline.adapters import docker_engine
from pipeline.adapters.ports import Credentials
from pipeline.console import events
from pipeline.poll import Deadline
from pipeline.retry import Kind, RegistryFailure


def test_an_error_chunk_is_a_failure_with_the_registrys_words() -> None:
    chunk = {"errorDetail": {"message": "name unknown: no such repository"}, "error": "x"}
    with pytest.raises(RegistryFailure, match="name unknown") as err:
        docker_engine._read_chunk(chunk, lambda _l: None)
    assert err.value.kind is Kind.FATAL


def test_the_digest_comes_from_the_aux_chunk() -> None:
    chunk = {"aux": {"Tag": "v1", "Digest": "sha256:" + "a" * 64, "Size": 527}}
    assert docker_engine._read_chunk(chunk, lambda _l: None) == "sha256:" + "a" * 64


def test_a_layer_dockerd_would_retry_fails_the_push_at_once() -> None:
    """dockerd waits 5-20 s before it tries a layer again; our policy retries sooner."""
    chunk = {"status": "Retrying in 5 seconds", "progressDetail": {}, "id": "968a2d0a1135"}
    with pytest.raises(RegistryFailure, match="layer 968a2d0a1135 failed") as err:
        docker_engine._read_chunk(chunk, lambda _l: None)
    assert err.value.kind is Kind.TRANSIENT


def test_progress_lines_are_shown_and_finished_layers_count_as_progress() -> None:
    lines: list[str] = []
    for chunk in (
        {"status": "Preparing", "id": "a"},
        {"status": "Pushed", "id": "a"},
        {"status": "Mounted from team/base", "id": "b"},
    ):
        assert docker_engine._read_chunk(chunk, lines.append) is None
    assert lines == ["a: Pushed", "b: Mounted from team/base"]
    assert docker_engine._layer_done({"status": "Pushed", "id": "a"})
    assert docker_engine._layer_done({"status": "Mounted from team/base", "id": "b"})
    assert not docker_engine._layer_done({"status": "Layer already exists", "id": "c"})
    assert not docker_engine._layer_done({"status": "Pushing", "id": "d"})


def test_each_layer_message_reaches_the_terminal_with_its_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    heard: list[events.Event] = []
    monkeypatch.setattr(events, "emit", lambda event, text=None: heard.append(event))
    ref = "reg.example/app:v1"
    for chunk in (
        {"status": "Preparing", "id": "a"},
        {"status": "Pushing", "id": "a", "progressDetail": {"current": 512, "total": 2048}},
        {"status": "Pushing", "id": "a", "progressDetail": {"current": True, "total": -1}},
        {"status": "Pushed", "id": "a"},
        {"status": "The push refers to repository [reg.example/app]"},  # no layer: no event
    ):
        docker_engine._read_chunk(chunk, lambda _l: None, ref)
    assert heard == [
        events.LayerProgress(ref, "a", "Preparing"),
        events.LayerProgress(ref, "a", "Pushing", 512, 2048),
        events.LayerProgress(ref, "a", "Pushing", None, None),  # nonsense is no count
        events.LayerProgress(ref, "a", "Pushed"),
    ]


def test_a_cancelled_engine_starts_no_push() -> None:
    engine = docker_engine.Engine(client=object())
    engine.cancel()
    with pytest.raises(RegistryFailure, match="interrupted") as err:
        engine.push("reg.example/app", "v1", None, lambda _l: None)
    assert err.value.kind is Kind.FATAL


class FakeSocket:
    def __init__(self, hung_up: threading.Event) -> None:
        self.hung_up = hung_up

    def shutdown(self, _how: int) -> None:
        self.hung_up.set()


class FakeResponse:
    """dockerd's push stream: some JSON lines, then (with `stall`) nothing until hung up."""

    status_code = 200
    reason = "OK"

    def __init__(self, lines: list[dict[str, object]], stall: bool = False) -> None:
        self.lines = lines
        self.stall = stall
        self.hung_up = threading.Event()
        self.raw = SimpleNamespace(connection=SimpleNamespace(sock=FakeSocket(self.hung_up)))

    def iter_lines(self) -> Iterator[bytes]:
        for line in self.lines:
            yield json.dumps(line).encode()
        if self.stall:
            self.hung_up.wait(10)
            raise OSError("connection shut down")
        self.raw.connection = None  # a finished stream releases its connection

    def close(self) -> None:
        pass


class FakeApi:
    base_url = "http+docker://localhost"
    api_version = "1.41"
    timeout = 600

    def __init__(self, response: FakeResponse) -> None:
        self.response = response
        self.headers: dict[str, object] = {}
        self.timeouts: list[float] = []

    def post(self, url: str, **kwargs: object) -> FakeResponse:
        self.headers = dict(kwargs["headers"])  # type: ignore[call-overload]
        self.timeouts.append(float(kwargs["timeout"]))  # type: ignore[arg-type]
        return self.response


CREDS = Credentials("AWS", "pw", "reg.example")
DIGEST = {"aux": {"Tag": "v1", "Digest": "sha256:" + "b" * 64, "Size": 1}}


def test_the_x_registry_auth_header_is_masked_and_never_logged() -> None:
    api = FakeApi(FakeResponse([{"status": "Pushed", "id": "a"}, DIGEST]))
    engine = docker_engine.Engine(client=SimpleNamespace(api=api))
    creds = Credentials("AWS", "ecr-password-77", "reg.example")
    lines: list[str] = []
    assert engine.push("reg.example/app", "v1", creds, lines.append) == "sha256:" + "b" * 64
    header = api.headers["X-Registry-Auth"]
    text = header.decode() if isinstance(header, bytes) else str(header)
    assert json.loads(base64.urlsafe_b64decode(text))["password"] == "ecr-password-77"
    assert log.redact(f"header {text}") == "header ***"


def test_a_stalled_push_is_hung_up_at_the_tries_deadline() -> None:
    response = FakeResponse([{"status": "Pushing", "id": "a"}], stall=True)
    api = FakeApi(response)
    engine = docker_engine.Engine(client=SimpleNamespace(api=api))
    started = time.monotonic()
    with (
        retry.deadline(Deadline(time.monotonic, 0.3)),
        pytest.raises(RegistryFailure, match="not done within the time left") as err,
    ):
        engine.push("reg.example/app", "v1", CREDS, lambda _l: None)
    assert time.monotonic() - started < 5
    assert response.hung_up.is_set()  # dockerd sees us leave and cancels the push
    assert err.value.kind is Kind.TRANSIENT
    assert api.timeouts[0] <= 0.3  # the request itself was given no more than the time left


def test_a_stream_that_ends_without_a_digest_is_transient() -> None:
    api = FakeApi(FakeResponse([{"status": "Pushing", "id": "a"}]))
    engine = docker_engine.Engine(client=SimpleNamespace(api=api))
    with pytest.raises(RegistryFailure, match="ended without a digest") as err:
        engine.push("reg.example/app", "v1", CREDS, lambda _l: None)
    assert err.value.kind is Kind.TRANSIENT
