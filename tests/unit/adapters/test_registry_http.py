"""The registry client against a small scripted HTTP server on loopback: auth, token
services, errors as our classes, size limits and the try's deadline."""

from __future__ import annotations

import base64
import http.server
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from pipeline import image_config, log, retry
from pipeline.adapters import registry_http
from pipeline.adapters.credentials import Static
from pipeline.adapters.ports import Credentials
from pipeline.adapters.registry_http import RegistryClient
from pipeline.poll import Deadline
from pipeline.retry import Kind, RegistryFailure

MEDIA = "application/vnd.docker.distribution.manifest.v2+json"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    authorization: str | None


class _QuietServer(http.server.ThreadingHTTPServer):
    """A client that gave up (the timeout cases) is no traceback on a later test's stderr."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class Server:
    """Answers each path with a scripted Reply (a function of the request's path)."""

    def __init__(self, answer: Callable[[str, Server], Reply]) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.seen.append(Seen(self.path, self.headers.get("Authorization")))
                reply = owner.answer(self.path, owner)
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_PUT = do_GET

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[str, Server], Reply]], Server]]:
    servers: list[Server] = []

    def start(answer: Callable[[str, Server], Reply]) -> Server:
        servers.append(Server(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


CREDS = Static(Credentials("ci-user", "Pa55-w0rd-xyz", "reg"))


def challenge(realm: str) -> Reply:
    return Reply(
        401,
        b'{"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}',
        {"WWW-Authenticate": f'Bearer realm="{realm}",service="reg",scope="repository:a:pull"'},
    )


def manifest_reply() -> Reply:
    return Reply(200, b'{"schemaVersion": 2}', {"Content-Type": MEDIA})


def test_bearer_token_from_the_registrys_own_host_gets_our_credentials(serve) -> None:  # type: ignore[no-untyped-def]
    def answer(path: str, server: Server) -> Reply:
        if path.startswith("/token"):
            return Reply(200, b'{"token": "bearer-tok-123"}')
        if server.seen[-1].authorization == "Bearer bearer-tok-123":
            return manifest_reply()
        return challenge(f"http://{server.host}/token")

    server = serve(answer)
    client = RegistryClient(server.host, CREDS)
    assert client.manifest("a", "v1") is not None
    token_request = next(s for s in server.seen if s.path.startswith("/token"))
    expected = base64.b64encode(b"ci-user:Pa55-w0rd-xyz").decode()
    assert token_request.authorization == f"Basic {expected}"
    assert log.redact("bearer-tok-123") == "***"  # the token is masked once fetched
    assert log.redact(f"Basic {expected}") == "Basic ***"


def test_credentials_never_go_to_a_plain_http_realm_on_another_host(
    serve,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    realm = serve(lambda path, _s: Reply(200, b'{"token": "anon-tok-456"}'))

    def answer(path: str, server: Server) -> Reply:
        if server.seen[-1].authorization == "Bearer anon-tok-456":
            return manifest_reply()
        # `localhost` is the same machine but not the registry's host name
        return challenge(f"http://localhost:{realm.host.split(':')[1]}/token")

    registry = serve(answer)
    log.LOG.propagate = True
    try:
        assert RegistryClient(registry.host, CREDS).manifest("a", "v1") is not None
    finally:
        log.LOG.propagate = False
    assert [s.authorization for s in realm.seen] == [None]
    assert "without our credentials" in caplog.text


@pytest.mark.parametrize(
    ("realm", "host", "allowed"),
    [
        ("https://auth.example/token", "reg.example", True),
        ("https://auth.example:8443/token", "127.0.0.1:5000", True),
        ("http://127.0.0.1:5001/token", "127.0.0.1:5000", True),  # same host, loopback
        ("http://reg.example/token", "reg.example:443", True),
        ("http://auth.example/token", "reg.example", False),
        ("http://127.0.0.2/token", "127.0.0.1:5000", False),
        ("ftp://reg.example/token", "reg.example", False),
        ("file:///etc/passwd", "reg.example", False),
    ],
)
def test_which_token_services_may_see_credentials(realm: str, host: str, allowed: bool) -> None:
    assert registry_http.realm_may_see_credentials(realm, host) is allowed


def test_an_unreachable_token_service_is_a_transient_registry_failure(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve(lambda path, s: challenge("http://127.0.0.1:9/token"))  # nothing listens on 9
    with pytest.raises(RegistryFailure) as err:
        RegistryClient(server.host, CREDS).manifest("a", "v1")
    assert err.value.kind is Kind.TRANSIENT
    assert "token service 127.0.0.1:9" in str(err.value)
    assert "refused" in str(err.value)


def test_a_token_service_answering_html_is_a_clear_failure(serve) -> None:  # type: ignore[no-untyped-def]
    def answer(path: str, server: Server) -> Reply:
        if path.startswith("/token"):
            return Reply(200, b"<html>Sign in</html>", {"Content-Type": "text/html"})
        return challenge(f"http://{server.host}/token")

    server = serve(answer)
    with pytest.raises(RegistryFailure, match="holds no token") as err:
        RegistryClient(server.host, CREDS).manifest("a", "v1")
    assert err.value.kind is Kind.FATAL


def test_a_token_service_failing_with_503_is_transient(serve) -> None:  # type: ignore[no-untyped-def]
    def answer(path: str, server: Server) -> Reply:
        if path.startswith("/token"):
            return Reply(503, b"busy")
        return challenge(f"http://{server.host}/token")

    server = serve(answer)
    with pytest.raises(RegistryFailure) as err:
        RegistryClient(server.host, CREDS).manifest("a", "v1")
    assert err.value.kind is Kind.TRANSIENT


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply(503, b'{"errors": [{"code": "UNAVAILABLE", "message": "busy"}]}'), Kind.TRANSIENT),
        (Reply(429, b""), Kind.TRANSIENT),
        (Reply(401, b""), Kind.REAUTH),
        (Reply(403, b'{"errors": [{"code": "DENIED", "message": "denied"}]}'), Kind.FATAL),
        (
            Reply(403, b'{"errors": [{"code": "DENIED", "message": "token has expired"}]}'),
            Kind.EXPIRED,
        ),
        (Reply(400, b"not json"), Kind.FATAL),
    ],
)
def test_statuses_become_failures_of_their_class(serve, reply: Reply, kind: Kind) -> None:  # type: ignore[no-untyped-def]
    server = serve(lambda path, s: reply)
    with pytest.raises(RegistryFailure) as err:
        RegistryClient(server.host, None).manifest("a", "v1")
    assert err.value.kind is kind
    assert f"HTTP {reply.status}" in str(err.value)


def test_a_missing_manifest_is_none(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve(lambda path, s: Reply(404, b""))
    assert RegistryClient(server.host, None).manifest("a", "v1") is None


def test_an_oversized_manifest_is_refused(serve) -> None:  # type: ignore[no-untyped-def]
    big = Reply(200, b" " * (registry_http.MAX_MANIFEST + 10), {"Content-Type": MEDIA})
    server = serve(lambda path, s: big)
    with pytest.raises(RegistryFailure, match="larger than") as err:
        RegistryClient(server.host, None).manifest("a", "v1")
    assert err.value.kind is Kind.FATAL


def test_a_manifest_that_is_not_json_is_a_failure_not_a_crash(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve(lambda path, s: Reply(200, b"\x00garbage", {}))
    with pytest.raises(RegistryFailure, match="other than JSON"):
        RegistryClient(server.host, None).manifest("a", "v1")


def test_a_config_of_the_wrong_shape_reads_as_no_labels(serve) -> None:  # type: ignore[no-untyped-def]
    def answer(path: str, server: Server) -> Reply:
        return Reply(200, json.dumps({"config": ["not", "a", "dict"]}).encode(), {})

    server = serve(answer)
    client = RegistryClient(server.host, None)
    manifest = client.manifest("a", "v1")
    assert manifest is not None
    assert client.config("a", manifest) == {}
    assert image_config.labels_of({"config": {"Labels": "x"}}) == {}


def test_a_stalled_registry_is_cut_off_at_the_tries_deadline(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve(lambda path, s: Reply(200, b"{}", {"Content-Type": MEDIA}, delay=5))
    client = RegistryClient(server.host, None)
    started = time.monotonic()
    with (
        retry.deadline(Deadline(time.monotonic, 0.5)),
        pytest.raises(RegistryFailure) as err,
    ):
        client.manifest("a", "v1")
    assert time.monotonic() - started < 3
    assert err.value.kind is Kind.TRANSIENT


@pytest.mark.parametrize(
    ("host", "forced", "scheme"),
    [
        ("127.0.0.1:5000", None, "http"),
        ("localhost:5000", None, "http"),
        ("[::1]:5000", None, "http"),
        ("reg.example", None, "https"),
        ("10.0.0.1:5000", None, "https"),
        ("reg.example", "http", "http"),
        ("127.0.0.1:5000", "https", "https"),
    ],
)
def test_scheme(host: str, forced: str | None, scheme: str) -> None:
    assert registry_http.scheme_for(host, forced) == scheme
