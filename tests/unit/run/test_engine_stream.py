"""How the Engine reads a push stream: errors in-band, the digest, dockerd's layer retries."""

from __future__ import annotations

import pytest

from pipeline.adapters import docker_engine
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


def test_a_cancelled_engine_starts_no_push() -> None:
    engine = docker_engine.Engine(client=object())
    engine.cancel()
    with pytest.raises(RegistryFailure, match="interrupted") as err:
        engine.push("reg.example/app", "v1", None, lambda _l: None)
    assert err.value.kind is Kind.FATAL
