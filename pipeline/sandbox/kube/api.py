"""The HTTP side: routes, authentication, watches, and the service the sandbox runs.

    api = KubeApi(port=0).start()     # https on loopback, its own CA
    api.write_kubeconfig(path)        # for kubectl and the Python client
    api.fail_next("default", "web")   # the next rollout misses its deadline
    api.stop()

Served (everything else is 404, as for a resource a cluster does not have):
/version, /api, /apis, /apis/apps, /api/v1, /apis/apps/v1, /openapi/v3[/...],
namespaces (get, list, watch, create, patch labels and annotations, delete), Deployments (get, list,
watch, create, update, patch, delete; the scale subresource; status read
only) and ReplicaSets (get, list). Bodies are JSON, or protobuf for what
kubectl's typed commands send (protobuf.py). Server-side apply and dryRun are
not emulated and answer 415/400 saying so.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipeline.sandbox.kube import discovery, fields, protobuf, selectors, tables
from pipeline.sandbox.kube.auth import Rejected, check
from pipeline.sandbox.kube.cluster import PATCH_TYPES, Cluster, Gone
from pipeline.sandbox.kube.rollout import Timing
from pipeline.sandbox.kube.status import ApiError, bad_request, not_found, unauthorized
from pipeline.sandbox.kube.tls import Certificates, issue
from pipeline.sandbox.serving import ServerThread

LOG = logging.getLogger("pipeline.sandbox.kube")
TICK = 0.05  # how often the controller thread looks at the clock (real seconds)
WATCH_TIMEOUT = 1800.0  # a watch without timeoutSeconds ends after this long
MAX_BODY = 3 << 20  # a real API server refuses larger request bodies too

_NAMESPACES = re.compile(r"^/api/v1/namespaces(?:/(?P<name>[^/]+))?$")
_APPS = re.compile(
    r"^/apis/apps/v1/(?:namespaces/(?P<ns>[^/]+)/)?(?P<resource>deployments|replicasets)"
    r"(?:/(?P<name>[^/]+)(?:/(?P<sub>status|scale))?)?$"
)
_KINDS = {"deployments": "Deployment", "replicasets": "ReplicaSet", "namespaces": "Namespace"}


class KubeApi:
    """One emulated cluster behind an https port; a sandbox Service (has stop())."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Callable[[], float] = time.time,
        timing: Timing | None = None,
        tick: float | None = TICK,
        token: str | None = None,
        certificates: Certificates | None = None,
    ) -> None:
        self.cluster = Cluster(clock, timing)
        self.token = token or f"sandbox-{secrets.token_urlsafe(32)}"
        self.certificates = certificates or issue(host)
        self.host = host
        handler = type("Handler", (_Handler,), {"api": self})
        server = _TlsServer((host, port), handler, self.certificates.server_context())
        self._serving = ServerThread(server)
        self._tick = tick
        self._stop = threading.Event()
        self._controller: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._serving.server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def ca_data(self) -> str:
        """certificate-authority-data / EKS certificateAuthority.data: base64 of the PEM."""
        return base64.b64encode(self.certificates.ca_pem).decode()

    def start(self) -> KubeApi:
        self._serving.start("kube-api")
        if self._tick is not None:
            self._controller = threading.Thread(
                target=self._control, args=(self._tick,), name="kube-controller", daemon=True
            )
            self._controller.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.cluster.close()  # ends open watches, so shutdown does not wait for them
        self._serving.stop()
        if self._controller is not None:
            self._controller.join()
            self._controller = None

    def fail_next(self, namespace: str, deployment: str) -> None:
        """The next rollout of a new pod template never becomes available and ends in
        ProgressDeadlineExceeded; a rollout after it (a rollback) progresses normally."""
        self.cluster.fail_next(namespace, deployment)

    def kubeconfig(self, context: str = "sandbox", namespace: str = "default") -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": context,
                    "cluster": {"server": self.url, "certificate-authority-data": self.ca_data},
                }
            ],
            "users": [{"name": context, "user": {"token": self.token}}],
            "contexts": [
                {
                    "name": context,
                    "context": {"cluster": context, "user": context, "namespace": namespace},
                }
            ],
            "current-context": context,
        }

    def write_kubeconfig(self, path: Path) -> Path:
        """JSON (which YAML readers take as it is), readable by its owner only."""
        scratch = path.with_name(f".{path.name}.tmp")
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.kubeconfig(), handle, indent=2)
        os.replace(scratch, path)
        return path

    def _control(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.cluster.tick()
            except Exception:  # a bug in one pass must not stop every later rollout
                LOG.exception("the controller pass failed")


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Logged, not printed: a client that goes away mid-request is routine."""
        LOG.debug("request from %s ended with an error", client_address, exc_info=True)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        # The handshake happens in the handler's thread, so a slow client cannot
        # hold up accept().
        return self.context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), address


class _Handler(BaseHTTPRequestHandler):
    api: KubeApi
    protocol_version = "HTTP/1.1"
    timeout = 120  # an idle keep-alive connection closes after this long

    def handle(self) -> None:
        self.connection.settimeout(self.timeout)
        try:
            assert isinstance(self.connection, ssl.SSLSocket)
            self.connection.do_handshake()
        except (OSError, ssl.SSLError) as err:  # a port probe, or a client without TLS
            LOG.debug("TLS handshake failed: %s", err)
            return
        super().handle()

    def finish(self) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):  # the client is gone: nothing to flush
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        LOG.debug(format, *args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    # -- dispatch --------------------------------------------------------------------

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.warnings: list[str] = []
        try:
            if path in ("/healthz", "/livez", "/readyz"):
                self._text(200, "ok")
                return
            # Who asks, before any of the body is read.
            try:
                check(self.headers.get("Authorization"), self.api.token, self.api.cluster.clock())
            except Rejected as why:
                LOG.info("401 for %s %s: %s", method, path, why)
                raise unauthorized(str(why)) from None
            body = self._read_body()
            if self.query.get("dryRun"):
                raise bad_request("dryRun is not emulated by the sandbox's Kubernetes API")
            self._route(method, path, body)
        except ApiError as err:
            if err.code == 401 and (self.headers.get("Content-Length") or "0") != "0":
                self.close_connection = True  # its body was never read
            self._json(err.code, err.body())
        except Exception as err:  # the client gets a Status, the log the traceback
            LOG.exception("%s %s failed", method, path)
            self._json(500, ApiError(500, "InternalError", f"sandbox error: {err}").body())

    def _read_body(self) -> bytes:
        raw = self.headers.get("Content-Length") or "0"
        if not raw.isdigit():
            self.close_connection = True  # the body's end is unknown: no next request
            raise bad_request(f"Content-Length must be a number of bytes, not {raw!r}")
        if int(raw) > MAX_BODY:
            self.close_connection = True
            raise ApiError(
                413, "RequestEntityTooLarge", f"the request body is larger than {MAX_BODY} bytes"
            )
        return self.rfile.read(int(raw))

    def _route(self, method: str, path: str, body: bytes) -> None:
        static = _static(path, f"{self.api.host}:{self.api.port}")
        if static is not None and method == "GET":
            self._json(200, static)
            return
        found = _NAMESPACES.match(path)
        if found:
            self._namespaces(method, found["name"], body)
            return
        found = _APPS.match(path)
        if not found:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        resource, namespace, name, sub = found["resource"], found["ns"], found["name"], found["sub"]
        if resource == "replicasets":
            self._replica_sets(method, namespace, name)
        elif name is None:
            self._deployments(method, namespace, body)
        elif sub == "scale":
            self._scale(method, namespace, name, body)
        elif sub == "status":
            if method != "GET":
                raise _not_allowed(method, "deployments/status")
            self._json(200, self.api.cluster.get(namespace, name))
        else:
            self._deployment(method, namespace, name, body)

    # -- resources ---------------------------------------------------------------------

    def _namespaces(self, method: str, name: str | None, body: bytes) -> None:
        cluster = self.api.cluster
        if name is None and method == "GET":
            self._collection(
                "namespaces", None, lambda: (cluster.namespaces(), cluster.resource_version)
            )
        elif name is None and method == "POST":
            self._json(201, cluster.create_namespace(self._body(body), self._mode()))
        elif name is not None and method == "GET":
            self._one("namespaces", cluster.namespace(name))
        elif name is not None and method == "DELETE":
            self._json(200, cluster.delete_namespace(name))
        elif name is not None and method == "PATCH":
            kind = self._content_type()
            self._json(200, cluster.patch_namespace(name, kind, self._body(body, kind)))
        else:
            raise _not_allowed(method, "namespaces")

    def _deployments(self, method: str, namespace: str | None, body: bytes) -> None:
        cluster = self.api.cluster
        if method == "GET":
            self._collection("deployments", namespace, lambda: cluster.list_deployments(namespace))
        elif method == "POST" and namespace is not None:
            created = cluster.create(namespace, self._body(body), self._mode(), self.warnings)
            self._json(201, created)
        else:
            raise _not_allowed(method, "deployments")

    def _deployment(self, method: str, namespace: str | None, name: str, body: bytes) -> None:
        cluster = self.api.cluster
        if namespace is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if method == "GET":
            self._one("deployments", cluster.get(namespace, name))
        elif method == "PUT":
            self._json(
                200, cluster.replace(namespace, name, self._body(body), self._mode(), self.warnings)
            )
        elif method == "PATCH":
            kind = self._content_type()
            patch = self._body(body, kind)
            self._json(
                200, cluster.patch(namespace, name, kind, patch, self._mode(), self.warnings)
            )
        elif method == "DELETE":
            gone = cluster.delete(namespace, name)
            self._json(200, _deleted(gone))
        else:
            raise _not_allowed(method, "deployments")

    def _scale(self, method: str, namespace: str | None, name: str, body: bytes) -> None:
        cluster = self.api.cluster
        if namespace is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if method == "GET":
            self._json(200, cluster.scale(namespace, name))
        elif method == "PUT":
            self._json(200, cluster.set_scale(namespace, name, None, self._body(body)))
        elif method == "PATCH":
            kind = self._content_type()
            self._json(200, cluster.set_scale(namespace, name, kind, self._body(body, kind)))
        else:
            raise _not_allowed(method, "deployments/scale")

    def _replica_sets(self, method: str, namespace: str | None, name: str | None) -> None:
        if method != "GET" or self.query.get("watch") in ("true", "1"):
            raise _not_allowed("WATCH" if method == "GET" else method, "replicasets")
        items, rv = self.api.cluster.replica_sets(namespace)
        if name is None:
            self._collection("replicasets", namespace, lambda: (items, rv))
            return
        for item in items:
            if item["metadata"]["name"] == name:
                self._one("replicasets", item)
                return
        raise not_found("replicasets", "apps", name)

    # -- reading and writing -------------------------------------------------------------

    def _collection(
        self,
        resource: str,
        namespace: str | None,
        load: Callable[[], tuple[list[dict[str, Any]], str]],
    ) -> None:
        by_label = selectors.labels(self.query.get("labelSelector"))
        by_field = selectors.fields(self.query.get("fieldSelector"))

        def wanted(obj: dict[str, Any]) -> bool:
            return by_label((obj.get("metadata") or {}).get("labels") or {}) and by_field(obj)

        if self.query.get("watch") in ("true", "1"):
            self._watch(resource, namespace, wanted, load)
            return
        items, rv = load()
        items = [item for item in items if wanted(item)]
        if self._wants_table():
            now = self.api.cluster.clock()
            include = self.query.get("includeObject", "Metadata")
            self._json(200, tables.table(resource, items, rv, now, include))
            return
        group = "v1" if resource == "namespaces" else "apps/v1"
        self._json(
            200,
            {
                "kind": f"{_KINDS[resource]}List",
                "apiVersion": group,
                "metadata": {"resourceVersion": rv},
                "items": items,
            },
        )

    def _one(self, resource: str, obj: dict[str, Any]) -> None:
        if self._wants_table():
            now = self.api.cluster.clock()
            rv = obj["metadata"].get("resourceVersion", "")
            include = self.query.get("includeObject", "Metadata")
            self._json(200, tables.table(resource, [obj], rv, now, include))
        else:
            self._json(200, obj)

    def _watch(
        self,
        resource: str,
        namespace: str | None,
        wanted: Callable[[dict[str, Any]], bool],
        load: Callable[[], tuple[list[dict[str, Any]], str]],
    ) -> None:
        if resource == "replicasets":
            raise _not_allowed("WATCH", resource)
        cluster = self.api.cluster
        timeout = float(self.query.get("timeoutSeconds") or WATCH_TIMEOUT)
        deadline = time.monotonic() + timeout
        since_text = self.query.get("resourceVersion", "")
        if since_text and not since_text.isdigit():
            raise bad_request(f"invalid resource version: {since_text!r}")
        initial = self.query.get("sendInitialEvents") == "true"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        try:
            if since_text in ("", "0") or initial:
                items, rv = load()
                for item in items:
                    if wanted(item):
                        self._chunk({"type": "ADDED", "object": item})
                since = int(rv)
                if initial:
                    self._chunk(_bookmark(resource, rv, initial_end=True))
            else:
                since = int(since_text)
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    events = cluster.events(resource, namespace, since, min(remaining, 5.0))
                except Gone:
                    self._chunk(_expired(since, cluster.resource_version))
                    break
                if events is None:
                    break
                for event in events:
                    since = event.rv
                    if wanted(event.object):
                        self._chunk({"type": event.type, "object": event.object})
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            LOG.debug("a watch on %s ended with its client", resource)
        self.close_connection = True

    def _chunk(self, event: dict[str, Any]) -> None:
        data = json.dumps(event, separators=(",", ":")).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _body(self, raw: bytes, content_type: str | None = None) -> Any:
        kind = content_type or (self.headers.get("Content-Type") or "application/json")
        kind = kind.split(";")[0].strip().lower()
        if content_type is None and kind == protobuf.CONTENT_TYPE:
            try:
                return protobuf.decode_object(raw)
            except protobuf.ProtobufError as err:
                raise ApiError(415, "UnsupportedMediaType", str(err)) from None
        if content_type is None and kind not in ("application/json", ""):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types "
                f"include: application/json (not {kind})",
            )
        try:
            value, duplicates = fields.parse(raw)
        except fields.BodyError as err:
            raise bad_request(str(err)) from None
        if duplicates:
            listing = ", ".join(f'duplicate field "{d}"' for d in duplicates)
            if self._mode() == "Strict":
                raise bad_request(f"strict decoding error: {listing}")
            if self._mode() == "Warn":
                self.warnings.extend(f'duplicate field "{d}"' for d in duplicates)
        return value

    def _content_type(self) -> str:
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind not in PATCH_TYPES:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types "
                f"include: {', '.join(PATCH_TYPES)} (server-side apply is not emulated)",
            )
        return kind

    def _mode(self) -> str:
        mode = self.query.get("fieldValidation") or "Warn"
        if mode not in fields.MODES:
            raise bad_request(
                f"fieldValidation must be one of {', '.join(fields.MODES)}, not {mode!r}"
            )
        return mode

    def _wants_table(self) -> bool:
        accept = self.headers.get("Accept") or ""
        return "as=Table" in accept

    def _json(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for warning in getattr(self, "warnings", []):
            self.send_header("Warning", '299 - "' + warning.replace('"', '\\"') + '"')
        self.end_headers()
        self.wfile.write(data)

    def _text(self, code: int, text: str) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _static(path: str, address: str) -> dict[str, Any] | None:
    if path.startswith("/openapi/v3/"):
        documents = discovery.openapi_documents()
        doc = documents.get(path[len("/openapi/v3/") :])
        if doc is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return doc
    answers: dict[str, Callable[[], dict[str, Any]]] = {
        "/version": discovery.version,
        "/api": lambda: discovery.api_versions(address),
        "/apis": discovery.api_groups,
        "/apis/apps": discovery.apps_group,
        "/api/v1": discovery.core_resources,
        "/apis/apps/v1": discovery.apps_resources,
        "/openapi/v3": lambda: discovery.openapi_root(discovery.openapi_documents()),
    }
    answer = answers.get(path)
    return answer() if answer else None


def _not_allowed(method: str, resource: str) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource ({method} {resource})",
    )


def _deleted(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": obj["metadata"]["name"],
            "group": "apps",
            "kind": "deployments",
            "uid": obj["metadata"]["uid"],
        },
    }


def _bookmark(resource: str, rv: str, *, initial_end: bool) -> dict[str, Any]:
    kind = _KINDS[resource]
    meta: dict[str, Any] = {"resourceVersion": rv}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    group = "v1" if resource == "namespaces" else "apps/v1"
    return {"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": group, "metadata": meta}}


def _expired(since: int, current: str) -> dict[str, Any]:
    status = ApiError(410, "Expired", f"too old resource version: {since} ({current})").body()
    return {"type": "ERROR", "object": status}
