"""The proxy's connection handler: hooks first, then a streamed round trip upstream.

Bodies move in CHUNK-sized pieces both ways and are never held whole. Each
client connection keeps its own upstream connection, which keeps request
order and needs no pool.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import struct
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from pipeline.sandbox import wire
from pipeline.sandbox.verdicts import (
    Answer,
    Hook,
    Request,
    Reset,
    Response,
    Stall,
    error_answer,
)

LOG = logging.getLogger("pipeline.sandbox.proxy")
CHUNK = 1 << 20
# Never forwarded: they describe one hop (RFC 9110 7.6.1), or, like Expect, were
# already answered here.
_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "expect",
    )
)


class Relayed(Protocol):
    """What a connection's handler needs of the proxy it serves (proxy.ReverseProxy)."""

    @property
    def upstream(self) -> str: ...
    @property
    def hooks(self) -> Sequence[Hook]: ...
    @property
    def address(self) -> str: ...
    @property
    def timeout(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # docker opens several upload connections at once

    def __init__(self, address: tuple[str, int], handler: type[Handler]) -> None:
        self.live: set[socket.socket] = set()
        self.live_lock = threading.Lock()
        super().__init__(address, handler)

    def drop_connections(self) -> None:
        """Wake threads parked on idle keep-alive connections, so `stop` leaves none."""
        with self.live_lock:
            for sock in self.live:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _ClientGone(Exception):
    """The client closed its connection while we were reading its body."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: Relayed
    server: Server
    _upstream: http.client.HTTPConnection | None = None
    _buffer: memoryview | None = None  # one per connection, reused for every answer

    def setup(self) -> None:
        super().setup()
        with self.server.live_lock:
            self.server.live.add(self.connection)

    def handle(self) -> None:
        # A client that resets between requests (or a connection `stop` drops)
        # is not an error worth a traceback in the log.
        with contextlib.suppress(ConnectionError):
            super().handle()

    def finish(self) -> None:
        with self.server.live_lock:
            self.server.live.discard(self.connection)
        self._drop_upstream()
        with contextlib.suppress(OSError):  # the socket is gone (a reset, or the client left)
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        LOG.debug("%s %s", self.address_string(), format % args)

    def _serve(self) -> None:
        request = Request(self.command, self.path, self.headers)
        try:
            for hook in self.proxy.hooks:
                verdict = hook.before(request)
                if isinstance(verdict, Stall):
                    self.proxy.sleep(verdict.seconds)
                elif isinstance(verdict, Reset):
                    if verdict.after_body:
                        for _ in self._body(request):
                            pass
                    self._reset()
                    return
                elif isinstance(verdict, Answer):
                    self._answer(request, verdict)
                    return
            self._forward(request)
        except (_ClientGone, ConnectionError):
            # The client left (or a reset was asked for): nobody to answer.
            self.close_connection = True
            self._drop_upstream()

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def _forward(self, request: Request) -> None:
        try:
            upstream = self._send_upstream(request)
        except (OSError, http.client.HTTPException) as err:
            self._drop_upstream()
            LOG.warning(
                "upstream %s failed on %s %s: %s", self.proxy.upstream, *_line(request), err
            )
            answer = error_answer(502, "UNAVAILABLE", f"upstream registry unreachable: {err}")
            self._answer(request, answer, close=True)
            return
        response = Response(upstream.status, upstream.msg)
        for hook in self.proxy.hooks:
            hook.after(request, response)
        self._relay(request, upstream)

    def _send_upstream(self, request: Request) -> http.client.HTTPResponse:
        # A request without a body can be sent again if the kept-alive upstream
        # connection turns out to be closed; one with a body was consumed already.
        attempts = 1 if request.has_body else 2
        for attempt in range(attempts):
            conn = self._connection()
            try:
                conn.putrequest(
                    request.method, request.target, skip_host=True, skip_accept_encoding=True
                )
                for name, value in request.headers.items():
                    if name.lower() not in _HOP:
                        conn.putheader(name, value)
                if request.chunked:
                    conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                for piece in self._body(request):
                    if request.chunked:
                        conn.send(b"%x\r\n" % len(piece))
                        conn.send(piece)
                        conn.send(b"\r\n")
                    else:
                        conn.send(piece)
                if request.chunked:
                    conn.send(b"0\r\n\r\n")
                return conn.getresponse()
            except (ConnectionError, http.client.RemoteDisconnected):
                self._drop_upstream()
                if attempt + 1 == attempts:
                    raise
        raise AssertionError("unreachable")

    def _relay(self, request: Request, upstream: http.client.HTTPResponse) -> None:
        status = upstream.status
        has_body = request.method != "HEAD" and status >= 200 and status not in (204, 304)
        rechunk = has_body and upstream.getheader("Content-Length") is None
        self.send_response_only(status, upstream.reason)
        for name, value in upstream.msg.items():
            if name.lower() in _HOP:
                continue
            if name.lower() == "location":
                value = self._local_location(request, value)
            self.send_header(name, value)
        if rechunk:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self._buffer is None:
            self._buffer = memoryview(bytearray(CHUNK))
        buffer = self._buffer
        while has_body and (n := upstream.readinto(buffer)):
            if rechunk:
                self.wfile.write(b"%x\r\n" % n)
            self.wfile.write(buffer[:n])
            if rechunk:
                self.wfile.write(b"\r\n")
        if rechunk:
            self.wfile.write(b"0\r\n\r\n")
        if not has_body:
            upstream.read()  # nothing to read, but it frees the connection for reuse
        if upstream.will_close or not upstream.isclosed():
            self._drop_upstream()

    def _local_location(self, request: Request, location: str) -> str:
        """The registry's absolute upload URLs must point back at us, not past us."""
        parts = urlsplit(location)
        if parts.netloc != self.proxy.upstream:
            return location
        host = request.headers.get("Host") or self.proxy.address
        return urlunsplit(parts._replace(netloc=host))

    def _answer(self, request: Request, answer: Answer, close: bool = False) -> None:
        # An unread request body would be parsed as the next request: hang up instead.
        close = close or request.has_body
        self.send_response_only(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if request.method != "HEAD":
            self.wfile.write(answer.body)

    def _reset(self) -> None:
        self.close_connection = True
        sock = self.connection
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # rfile holds a reference to the descriptor: until it is closed too,
        # close() would not release it and no RST would go out.
        self.rfile.close()
        sock.close()

    def _body(self, request: Request) -> Iterator[bytes]:
        try:
            if request.chunked:
                yield from wire.read_chunked(self.rfile, CHUNK)
            else:
                yield from wire.read_exactly(
                    self.rfile, int(request.headers.get("Content-Length") or 0), CHUNK
                )
        except (OSError, EOFError, ValueError) as err:
            raise _ClientGone from err

    def _connection(self) -> http.client.HTTPConnection:
        if self._upstream is None:
            host, _, port = self.proxy.upstream.rpartition(":")
            self._upstream = http.client.HTTPConnection(host, int(port), timeout=self.proxy.timeout)
        return self._upstream

    def _drop_upstream(self) -> None:
        if self._upstream is not None:
            self._upstream.close()
            self._upstream = None


def _line(request: Request) -> tuple[str, str]:
    return request.method, request.target


def handler_for(proxy: Relayed, timeout: float) -> type[Handler]:
    """A handler class bound to `proxy` (http.server builds one handler per connection)."""

    class BoundHandler(Handler):
        pass

    BoundHandler.proxy = proxy
    BoundHandler.timeout = timeout
    return BoundHandler
