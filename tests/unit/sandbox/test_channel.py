"""The control channel: token first, bounded bodies, registered actions, clear errors."""

from __future__ import annotations

import json
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import SandboxError
from pipeline.sandbox import channel
from pipeline.sandbox.channel import ActionError, Channel, request

TOKEN = "sandbox-control-token"


@pytest.fixture
def served() -> Iterator[Channel]:
    made = Channel(TOKEN, "127.0.0.1", 0).start()
    try:
        yield made
    finally:
        made.stop()


def _call(served: Channel, action: str, payload: dict[str, Any], token: str = TOKEN) -> Any:
    return request("127.0.0.1", served.port, token, action, payload, timeout=5)


def test_an_action_reaches_its_handler(served: Channel) -> None:
    seen: list[dict[str, Any]] = []

    def handler(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(payload)
        return {"done": payload["n"] + 1}

    served.actions["fail-next/ecs"] = handler  # how a service registers an action
    assert _call(served, "fail-next/ecs", {"n": 1}) == {"done": 2}
    assert seen == [{"n": 1}]


def test_an_unregistered_kubernetes_action_says_the_emulation_is_not_running(
    served: Channel,
) -> None:
    with pytest.raises(SandboxError, match="the Kubernetes emulation is not running"):
        _call(served, "fail-next/eks", {"namespace": "ns", "deployment": "web"})
    with pytest.raises(SandboxError, match="unknown action 'nope'"):
        _call(served, "nope", {})


def test_handler_errors_reach_the_user(served: Channel) -> None:
    def refuses(payload: dict[str, Any]) -> None:
        raise ActionError("no ECR repository 'x' in the sandbox")

    def breaks(payload: dict[str, Any]) -> None:
        raise KeyError("oops")

    served.actions.update({"refuses": refuses, "breaks": breaks})
    with pytest.raises(SandboxError, match=r"^no ECR repository 'x' in the sandbox$"):
        _call(served, "refuses", {})
    with pytest.raises(SandboxError, match="internal error in breaks: KeyError"):
        _call(served, "breaks", {})


def test_a_wrong_token_is_refused_before_anything_runs(served: Channel) -> None:
    served.actions["findings"] = lambda payload: pytest.fail("ran without the token")
    for token in ("", "guess", TOKEN + "x"):
        with pytest.raises(SandboxError, match="wrong or missing control token"):
            _call(served, "findings", {}, token=token)


def _raw(port: int, head: str) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head_part, _, body = data.partition(b"\r\n\r\n")
    return int(head_part.split()[1]), json.loads(body), time.monotonic() - started


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ("Content-Length: 999999999999\r\n", 403),  # the token comes first
        (f"X-Sandbox-Control-Token: {TOKEN}\r\nContent-Length: -1\r\n", 400),
        (f"X-Sandbox-Control-Token: {TOKEN}\r\nContent-Length: 999999999999\r\n", 413),
        (f"X-Sandbox-Control-Token: {TOKEN}\r\nTransfer-Encoding: chunked\r\n", 411),
    ],
)
def test_bodies_are_bounded_and_never_awaited(served: Channel, headers: str, status: int) -> None:
    got, body, seconds = _raw(
        served.port, f"POST /actions/findings HTTP/1.1\r\nHost: x\r\n{headers}"
    )
    assert got == status
    assert body["error"]
    assert seconds < 2


@pytest.mark.parametrize(("body", "message"), [(b"[1]", "JSON object"), (b"{", "not JSON")])
def test_a_request_must_be_a_json_object(served: Channel, body: bytes, message: str) -> None:
    served.actions["findings"] = lambda payload: None
    head = (
        f"POST /actions/findings HTTP/1.1\r\nHost: x\r\nX-Sandbox-Control-Token: {TOKEN}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.split()[1] == b"400"
    assert message in json.loads(answer.partition(b"\r\n\r\n")[2])["error"]


def test_nothing_listens_says_so() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SandboxError, match=f"control channel on 127.0.0.1:{port} does not answer"):
        request("127.0.0.1", port, TOKEN, "findings", {}, timeout=2)


def test_the_token_file_is_ours_alone(tmp_path: Path) -> None:
    path = channel.write_token(tmp_path, "secret-token")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert channel.read_token(tmp_path) == "secret-token"
    with pytest.raises(SandboxError, match="cannot read the sandbox's control token"):
        channel.read_token(tmp_path / "missing")


def test_the_token_is_never_written_through_a_planted_symlink(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / channel.TOKEN_FILE).symlink_to(elsewhere)
    with pytest.raises(OSError):
        channel.write_token(tmp_path / "state", "secret-token")
    assert not elsewhere.exists()
