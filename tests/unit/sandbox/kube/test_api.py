"""The API over HTTPS: authentication, routes, content types, warnings, watches."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.sandbox.kube.api import KubeApi
from pipeline.sandbox.kube.rollout import Timing
from tests.unit.sandbox.kube.fakes import Clock, manifest

TIMING = Timing(observe=0.5, pod=1.0, deadline_scale=0.01)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock: Clock) -> Iterator[KubeApi]:
    server = KubeApi(port=0, clock=clock, timing=TIMING, tick=None).start()
    yield server
    server.stop()


class Client:
    def __init__(self, api: KubeApi, token: str | None) -> None:
        self.api = api
        self.token = token
        self.context = ssl.create_default_context(cadata=api.certificates.ca_pem.decode())

    def connect(self, timeout: float = 10) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            self.api.host, self.api.port, context=self.context, timeout=timeout
        )

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**auth, **(extra or {})}

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, http.client.HTTPMessage, Any]:
        conn = self.connect()
        try:
            data = None if body is None else json.dumps(body).encode()
            kind = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, path, data, self.headers({**kind, **(headers or {})}))
            response = conn.getresponse()
            raw = response.read()
            return response.status, response.msg, json.loads(raw) if raw.startswith(b"{") else raw
        finally:
            conn.close()


@pytest.fixture
def client(api: KubeApi) -> Client:
    return Client(api, api.token)


DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"


def test_requests_without_a_valid_token_are_401(api: KubeApi) -> None:
    for token in (None, "wrong"):
        status, _, body = Client(api, token).call("GET", "/version")
        assert status == 401
        assert body["reason"] == "Unauthorized"
    status, _, body = Client(api, None).call("GET", "/healthz")
    assert (status, body) == (200, b"ok")


def test_discovery_and_openapi(client: Client) -> None:
    assert client.call("GET", "/version")[2]["minor"] == "32"
    assert client.call("GET", "/api")[2]["versions"] == ["v1"]
    assert client.call("GET", "/apis")[2]["groups"][0]["name"] == "apps"
    assert client.call("GET", "/apis/apps/v1")[2]["groupVersion"] == "apps/v1"
    root = client.call("GET", "/openapi/v3")[2]
    doc = client.call("GET", root["paths"]["apis/apps/v1"]["serverRelativeURL"])[2]
    assert doc["openapi"] == "3.0.0"
    assert client.call("GET", "/openapi/v2")[0] == 404
    assert client.call("GET", "/api/v1/namespaces/default/pods")[0] == 404


def test_create_get_list_patch_delete(client: Client) -> None:
    status, _, created = client.call("POST", DEPLOYMENTS, manifest())
    assert status == 201 and created["metadata"]["generation"] == 1
    assert (
        client.call("GET", f"{DEPLOYMENTS}/web")[2]["metadata"]["uid"]
        == (created["metadata"]["uid"])
    )
    listed = client.call("GET", f"{DEPLOYMENTS}?fieldSelector=metadata.name%3Dweb")[2]
    assert listed["kind"] == "DeploymentList" and len(listed["items"]) == 1
    assert (
        client.call("GET", "/apis/apps/v1/deployments?labelSelector=app%3Dnone")[2]["items"] == []
    )
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}
    status, _, patched = client.call(
        "PATCH",
        f"{DEPLOYMENTS}/web",
        patch,
        {"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert status == 200
    images = [c["image"] for c in patched["spec"]["template"]["spec"]["containers"]]
    assert images == ["app:2", "envoy:1"]
    status, _, gone = client.call("DELETE", f"{DEPLOYMENTS}/web")
    assert (status, gone["status"]) == (200, "Success")
    status, _, missing = client.call("GET", f"{DEPLOYMENTS}/web")
    assert (status, missing["reason"]) == (404, "NotFound")


def test_unknown_fields_warn_by_default_and_fail_when_strict(client: Client) -> None:
    body = manifest()
    body["spec"]["replica"] = 3
    status, _, err = client.call("POST", f"{DEPLOYMENTS}?fieldValidation=Strict", body)
    assert status == 400 and 'unknown field "spec.replica"' in err["message"]
    status, headers, _ = client.call("POST", DEPLOYMENTS, body)
    assert status == 201
    assert headers.get_all("Warning") == ['299 - "unknown field \\"spec.replica\\""']


def test_unsupported_bodies_and_methods(client: Client) -> None:
    client.call("POST", DEPLOYMENTS, manifest())
    status, _, _ = client.call(
        "PATCH", f"{DEPLOYMENTS}/web", {}, {"Content-Type": "application/apply-patch+yaml"}
    )
    assert status == 415
    assert client.call("POST", f"{DEPLOYMENTS}?dryRun=All", manifest())[0] == 400
    assert client.call("PUT", "/apis/apps/v1/namespaces/default/replicasets/x", {})[0] == 405


def test_tables_for_kubectl_get(client: Client, clock: Clock, api: KubeApi) -> None:
    client.call("POST", DEPLOYMENTS, manifest())
    for step in (0.5, 2.5):  # observed, then two pods ready
        clock.now += step
        api.cluster.tick()
    accept = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}
    table = client.call("GET", DEPLOYMENTS, headers=accept)[2]
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"][:5]] == [
        "Name",
        "Ready",
        "Up-to-date",
        "Available",
        "Age",
    ]
    assert table["rows"][0]["cells"][:5] == ["web", "2/2", 2, 2, "3s"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def _read_events(response: http.client.HTTPResponse, count: int) -> list[dict[str, Any]]:
    events = []
    while len(events) < count:
        line = response.readline()
        if not line:
            break
        events.append(json.loads(line))
    return events


def test_a_watch_streams_events_after_its_resource_version(client: Client, api: KubeApi) -> None:
    client.call("POST", DEPLOYMENTS, manifest())
    listed = client.call("GET", DEPLOYMENTS)[2]
    conn = client.connect()
    path = (
        f"{DEPLOYMENTS}?watch=true&fieldSelector=metadata.name%3Dweb"
        f"&resourceVersion={listed['metadata']['resourceVersion']}&timeoutSeconds=5"
    )
    conn.request("GET", path, headers=client.headers())
    response = conn.getresponse()
    assert response.status == 200
    api.cluster.patch(
        "default", "web", "application/merge-patch+json", {"metadata": {"labels": {"n": "1"}}}
    )
    (event,) = _read_events(response, 1)
    assert event["type"] == "MODIFIED"
    assert event["object"]["metadata"]["labels"] == {"n": "1"}
    conn.close()


def test_a_watch_from_zero_lists_first_and_a_too_old_version_is_expired(
    client: Client, api: KubeApi
) -> None:
    client.call("POST", DEPLOYMENTS, manifest())
    conn = client.connect()
    conn.request("GET", f"{DEPLOYMENTS}?watch=1", headers=client.headers())
    (event,) = _read_events(conn.getresponse(), 1)
    assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "web")
    conn.close()
    for n in range(2100):
        api.cluster.patch(
            "default",
            "web",
            "application/merge-patch+json",
            {"metadata": {"labels": {"n": str(n)}}},
        )
    conn = client.connect()
    conn.request("GET", f"{DEPLOYMENTS}?watch=1&resourceVersion=2", headers=client.headers())
    (event,) = _read_events(conn.getresponse(), 2)
    assert event["type"] == "ERROR" and event["object"]["code"] == 410
    conn.close()


def test_stop_ends_open_watches(clock: Clock) -> None:
    server = KubeApi(port=0, clock=clock, timing=TIMING, tick=None).start()
    client = Client(server, server.token)
    conn = client.connect()
    conn.request("GET", f"{DEPLOYMENTS}?watch=1", headers=client.headers())
    response = conn.getresponse()
    stopped = threading.Thread(target=server.stop)
    stopped.start()
    stopped.join(10)
    assert not stopped.is_alive()
    assert response.read() == b""  # the stream ended cleanly
    conn.close()


def test_the_controller_thread_moves_status_on_the_injected_clock(clock: Clock) -> None:
    server = KubeApi(port=0, clock=clock, timing=TIMING, tick=0.01).start()
    try:
        created = server.cluster.create("default", manifest())
        since = int(created["metadata"]["resourceVersion"])
        assert server.cluster.events("deployments", "default", since, timeout=0.3) == []
        clock.now += 0.5  # the observe delay, on the fake clock only
        events = server.cluster.events("deployments", "default", since, timeout=10)
        assert events
        assert events[-1].object["status"]["observedGeneration"] == 1
    finally:
        server.stop()


def test_the_kubeconfig_is_private_and_names_the_server_ca_and_token(
    api: KubeApi, tmp_path: Path
) -> None:
    path = api.write_kubeconfig(tmp_path / "kubeconfig")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = json.loads(path.read_text())
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == f"https://127.0.0.1:{api.port}"
    assert cluster["certificate-authority-data"] == api.ca_data
    assert config["users"][0]["user"]["token"] == api.token
    assert config["contexts"][0]["context"]["namespace"] == "default"


def test_fail_next_is_exposed_on_the_service(api: KubeApi, clock: Clock) -> None:
    api.cluster.create("default", manifest())
    clock.now += 5
    api.cluster.tick()
    api.fail_next("default", "web")
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "bad"}]}}}}
    api.cluster.patch("default", "web", "application/strategic-merge-patch+json", patch)
    for _ in range(40):
        clock.now += 0.25
        api.cluster.tick()
    conditions = api.cluster.get("default", "web")["status"]["conditions"]
    assert {c["type"]: c["reason"] for c in conditions}["Progressing"] == "ProgressDeadlineExceeded"


def _raw(api: KubeApi, request: bytes) -> bytes:
    """One request over TLS exactly as given, and whatever comes back."""
    context = ssl.create_default_context(cadata=api.certificates.ca_pem.decode())
    with (
        socket.create_connection((api.host, api.port), timeout=10) as plain,
        context.wrap_socket(plain, server_hostname=api.host) as tls,
    ):
        tls.sendall(request)
        chunks = []
        while chunk := tls.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_bodies_are_not_read_before_the_token_is_checked_or_beyond_the_limit(api: KubeApi) -> None:
    huge = "Content-Length: 99999999999\r\nConnection: keep-alive\r\n"
    unauthenticated = _raw(api, f"POST {DEPLOYMENTS} HTTP/1.1\r\nHost: x\r\n{huge}\r\n".encode())
    assert unauthenticated.startswith(b"HTTP/1.1 401")
    too_big = _raw(
        api,
        f"POST {DEPLOYMENTS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {api.token}\r\n"
        f"{huge}\r\n".encode(),
    )
    assert too_big.startswith(b"HTTP/1.1 413")


def test_a_port_probe_without_tls_leaves_the_server_serving(api: KubeApi, client: Client) -> None:
    for _ in range(3):
        socket.create_connection((api.host, api.port), timeout=5).close()
    assert client.call("GET", "/version")[0] == 200


def test_a_watch_with_a_malformed_resource_version_is_a_bad_request(client: Client) -> None:
    assert client.call("GET", f"{DEPLOYMENTS}?watch=1&resourceVersion=abc")[0] == 400
