"""Which registry notifications become ECR records."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.sandbox.webhook import Webhook, handle

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


class _Bridge:
    def __init__(self) -> None:
        self.pushed_calls: list[tuple[str, str, str | None]] = []

    def pushed(self, name: str, digest: str, tag: str | None) -> bool:
        self.pushed_calls.append((name, digest, tag))
        return True


def _event(action: str = "push", media_type: str = MANIFEST, **extra: Any) -> dict[str, Any]:
    target = {"mediaType": media_type, "repository": "app/web", "digest": "sha256:1", **extra}
    return {"action": action, "target": target, "request": {"useragent": "docker/20.10"}}


@pytest.mark.parametrize(
    ("event", "recorded"),
    [
        (_event(tag="v1"), ("app/web", "sha256:1", "v1")),
        (_event(), ("app/web", "sha256:1", None)),  # by digest: an untagged image
        (_event("pull", tag="v1"), None),
        (_event("delete"), None),
        (_event(media_type="application/octet-stream"), None),  # a layer
    ],
)
def test_events(event: dict[str, Any], recorded: tuple[str, str, str | None] | None) -> None:
    bridge = _Bridge()
    assert handle(bridge, event) is (recorded is not None)  # type: ignore[arg-type]
    assert bridge.pushed_calls == ([recorded] if recorded else [])


def test_the_sandboxs_own_writes_are_not_echoed() -> None:
    event = _event(tag="v1")
    event["request"]["useragent"] = "pipeline-sandbox-sync/1 go"
    bridge = _Bridge()
    assert not handle(bridge, event)  # type: ignore[arg-type]
    assert bridge.pushed_calls == []


def _post(port: int, body: bytes, token: str | None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/vnd.docker.distribution.events.v1+json"}
    if token is not None:
        headers["X-Sandbox-Token"] = token
    conn.request("POST", "/events", body, headers)
    status = conn.getresponse().status
    conn.close()
    return status


def test_the_receiver_wants_the_shared_token() -> None:
    bridge = _Bridge()
    receiver = Webhook(bridge, "shared", "127.0.0.1", 0).start()  # type: ignore[arg-type]
    try:
        envelope = json.dumps({"events": [_event(tag="v1"), _event("pull")]}).encode()
        assert _post(receiver.port, envelope, None) == 403
        assert _post(receiver.port, envelope, "guess") == 403
        assert bridge.pushed_calls == []
        assert _post(receiver.port, b"not json", "shared") == 400
        assert _post(receiver.port, envelope, "shared") == 200
        assert bridge.pushed_calls == [("app/web", "sha256:1", "v1")]
    finally:
        receiver.stop()


def _raw(port: int, head: str, body: bytes = b"") -> tuple[int, float]:
    """Send a hand-made request; (status, seconds until the answer)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        answer = sock.recv(4096)
    return int(answer.split()[1]), time.monotonic() - started


@pytest.fixture
def receiver() -> Iterator[tuple[Webhook, _Bridge]]:
    bridge = _Bridge()
    made = Webhook(bridge, "shared", "127.0.0.1", 0).start()  # type: ignore[arg-type]
    try:
        yield made, bridge
    finally:
        made.stop()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        # The token is checked before the body: a huge declared body costs nothing.
        ("X-Sandbox-Token: guess\r\nContent-Length: 99999999999\r\n", 403),
        ("Content-Length: 99999999999\r\n", 403),
        # With the right token, lengths that would block or exhaust are refused unread.
        ("X-Sandbox-Token: shared\r\nContent-Length: -1\r\n", 400),
        ("X-Sandbox-Token: shared\r\nContent-Length: 99999999999\r\n", 413),
        ("X-Sandbox-Token: shared\r\n", 411),
        ("X-Sandbox-Token: shared\r\nTransfer-Encoding: chunked\r\n", 411),
        ("X-Sandbox-Token: \u00e9t\u00e9\r\nContent-Length: 2\r\n", 403),
    ],
)
def test_bad_requests_are_answered_at_once_without_reading_a_body(
    receiver: tuple[Webhook, _Bridge], headers: str, status: int
) -> None:
    made, bridge = receiver
    got, seconds = _raw(made.port, f"POST /events HTTP/1.1\r\nHost: x\r\n{headers}")
    assert (got, bridge.pushed_calls) == (status, [])
    assert seconds < 2  # nothing waited for a body that never comes


@pytest.mark.parametrize(
    "body", [b'{"events": "x"}', b'{"events": [1, "x", {"target": "x", "action": "push"}]}']
)
def test_envelopes_of_the_wrong_shape_are_no_traceback(
    receiver: tuple[Webhook, _Bridge], body: bytes
) -> None:
    made, bridge = receiver
    status = _post(made.port, body, "shared")
    assert status in (200, 400)
    assert bridge.pushed_calls == []
