"""ReverseProxy against a local upstream: streaming, framing, Location, and hooks."""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pipeline.sandbox.proxy import ReverseProxy
from pipeline.sandbox.verdicts import Answer, Request, Reset, Response, Stall, Verdict
from pipeline.sandbox.wire import read_chunked, read_exactly

MIB = 1024 * 1024


class _Upstream(BaseHTTPRequestHandler):
    """Echoes what it received; serves chunked and length-less bodies on request."""

    protocol_version = "HTTP/1.1"
    calls: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _json(self, status: int, payload: dict[str, Any], *headers: tuple[str, str]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _receive(self) -> None:
        self.calls.append(f"{self.command} {self.path}")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "")
        if chunked:
            pieces = read_chunked(self.rfile, MIB)
        else:
            pieces = read_exactly(self.rfile, int(self.headers.get("Content-Length") or 0), MIB)
        digest, size = hashlib.sha256(), 0
        for piece in pieces:
            digest.update(piece)
            size += len(piece)
        host = ":".join(map(str, self.server.server_address[:2]))
        seen = {"size": size, "sha256": digest.hexdigest(), "chunked": chunked}
        seen["host"] = self.headers.get("Host")
        self._json(202, seen, ("Location", f"http://{host}/v2/x/blobs/uploads/1?_state=s"))

    do_PATCH = do_PUT = do_POST = _receive

    def do_GET(self) -> None:
        self.calls.append(f"GET {self.path}")
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for n in range(3):
                piece = bytes([65 + n]) * 1000
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/until-close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"no length, ends at close")
            self.close_connection = True
        else:
            self._json(200, {"path": self.path, "agent": self.headers.get("User-Agent")})

    def do_HEAD(self) -> None:
        self.calls.append(f"HEAD {self.path}")
        self.send_response(200)
        self.send_header("Content-Length", "123456")
        self.send_header("Docker-Content-Digest", "sha256:abc")
        self.end_headers()


@pytest.fixture
def upstream() -> Iterator[tuple[str, list[str]]]:
    calls: list[str] = []
    handler = type("Upstream", (_Upstream,), {"calls": calls})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", calls
    server.shutdown()
    server.server_close()


class _Hook:
    def __init__(self, verdict: Verdict = None) -> None:
        self.verdict = verdict
        self.seen: list[tuple[str, int]] = []

    def before(self, request: Request) -> Verdict:
        return self.verdict

    def after(self, request: Request, response: Response) -> None:
        self.seen.append((request.target, response.status))


def _conn(proxy: ReverseProxy) -> http.client.HTTPConnection:
    host, _, port = proxy.address.rpartition(":")
    return http.client.HTTPConnection(host, int(port), timeout=10)


def _body(size: int) -> Iterator[bytes]:
    block = bytes(range(256)) * 1021  # an odd size, so pieces straddle buffers
    sent = 0
    while sent < size:
        piece = block[: size - sent]
        sent += len(piece)
        yield piece


def test_requests_pass_through_on_one_kept_alive_connection(
    upstream: tuple[str, list[str]],
) -> None:
    address, calls = upstream
    hook = _Hook()
    with ReverseProxy(address, [hook]) as proxy:
        conn = _conn(proxy)
        for path in ("/v2/", "/v2/a?n=1"):
            conn.request("GET", path, headers={"User-Agent": "test/1"})
            response = conn.getresponse()
            assert json.loads(response.read()) == {"path": path, "agent": "test/1"}
        conn.close()
    assert calls == ["GET /v2/", "GET /v2/a?n=1"]
    assert hook.seen == [("/v2/", 200), ("/v2/a?n=1", 200)]


@pytest.mark.parametrize("chunked", [True, False])
def test_uploads_stream_and_locations_point_back_at_the_proxy(
    upstream: tuple[str, list[str]], chunked: bool
) -> None:
    size = 5 * MIB + 7
    expected = hashlib.sha256(b"".join(_body(size))).hexdigest()
    with ReverseProxy(upstream[0]) as proxy:
        conn = _conn(proxy)
        body: Any = _body(size) if chunked else b"".join(_body(size))
        conn.request("PATCH", "/v2/x/blobs/uploads/1", body, encode_chunked=chunked)
        response = conn.getresponse()
        seen = json.loads(response.read())
        location = response.getheader("Location")
    assert seen == {"size": size, "sha256": expected, "chunked": chunked, "host": proxy.address}
    assert location == f"http://{proxy.address}/v2/x/blobs/uploads/1?_state=s"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/chunked", b"A" * 1000 + b"B" * 1000 + b"C" * 1000),
        ("/until-close", b"no length, ends at close"),
    ],
)
def test_bodies_without_a_length_are_rechunked(
    upstream: tuple[str, list[str]], path: str, body: bytes
) -> None:
    with ReverseProxy(upstream[0]) as proxy:
        conn = _conn(proxy)
        for _ in range(2):  # the client connection survives either way
            conn.request("GET", path)
            response = conn.getresponse()
            assert response.getheader("Transfer-Encoding") == "chunked"
            assert response.read() == body


def test_head_keeps_the_length_and_sends_no_body(upstream: tuple[str, list[str]]) -> None:
    with ReverseProxy(upstream[0]) as proxy:
        conn = _conn(proxy)
        conn.request("HEAD", "/v2/x/blobs/sha256:abc")
        response = conn.getresponse()
        assert response.getheader("Content-Length") == "123456"
        assert response.read() == b""
        conn.request("GET", "/after-head")  # framing intact: the next answer parses
        assert json.loads(conn.getresponse().read())["path"] == "/after-head"


def test_an_answer_replaces_the_upstream(upstream: tuple[str, list[str]]) -> None:
    address, calls = upstream
    answer = Answer(418, b"teapot", (("X-Why", "hook"),))
    with ReverseProxy(address, [_Hook(answer)]) as proxy:
        conn = _conn(proxy)
        conn.request("GET", "/v2/")
        response = conn.getresponse()
        assert (response.status, response.read(), response.getheader("X-Why")) == (
            418,
            b"teapot",
            "hook",
        )
    assert calls == []


def test_reset_before_the_body_is_a_tcp_reset(upstream: tuple[str, list[str]]) -> None:
    address, calls = upstream
    with ReverseProxy(address, [_Hook(Reset())]) as proxy:
        conn = _conn(proxy)
        # Far more than the socket buffers hold: the upload itself breaks off.
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            conn.request("PUT", "/v2/x", b"x" * (48 * MIB))
        conn.close()
        conn = _conn(proxy)
        conn.request("GET", "/v2/")
        with pytest.raises(ConnectionResetError):
            conn.getresponse()
    assert calls == []


def test_reset_after_the_body_reads_it_first(upstream: tuple[str, list[str]]) -> None:
    address, calls = upstream
    with ReverseProxy(address, [_Hook(Reset(after_body=True))]) as proxy:
        conn = _conn(proxy)
        conn.request("PUT", "/v2/x", b"x" * (48 * MIB))  # all of it is read: no error here
        with pytest.raises(ConnectionResetError):
            conn.getresponse()
    assert calls == []


def test_a_stall_waits_then_forwards(upstream: tuple[str, list[str]]) -> None:
    waits: list[float] = []
    with ReverseProxy(upstream[0], [_Hook(Stall(2.5)), _Hook()], sleep=waits.append) as proxy:
        conn = _conn(proxy)
        conn.request("GET", "/v2/")
        assert conn.getresponse().status == 200
    assert waits == [2.5]


def test_an_unreachable_upstream_is_a_502(upstream: tuple[str, list[str]]) -> None:
    with ReverseProxy("127.0.0.1:1") as proxy:
        conn = _conn(proxy)
        conn.request("GET", "/v2/")
        response = conn.getresponse()
        assert response.status == 502
        assert json.loads(response.read())["errors"][0]["code"] == "UNAVAILABLE"


def test_stop_closes_idle_connections(upstream: tuple[str, list[str]]) -> None:
    proxy = ReverseProxy(upstream[0]).start()
    conn = _conn(proxy)
    conn.request("GET", "/v2/")
    conn.getresponse().read()
    proxy.stop()
    conn.request("GET", "/v2/")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
