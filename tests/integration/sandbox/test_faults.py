"""The fault-injecting proxy in front of the sandbox registry, seen by plain HTTP."""

from __future__ import annotations

import http.client
import json
from collections import Counter

from pipeline.sandbox.proxy import ReverseProxy
from tests.faults import RESET, RESET_AFTER_BODY, STALL, THROTTLED, UNAVAILABLE, Faults
from tests.integration.sandbox.support import RegistryHttp

REQUESTS = 200


def _outcome(host: str, auth: str, body: bytes | None) -> str:
    name, _, port = host.rpartition(":")
    conn = http.client.HTTPConnection(name, int(port), timeout=10)
    try:
        method = "GET" if body is None else "POST"
        conn.request(method, "/v2/", body, {"Authorization": auth})
        response = conn.getresponse()
        payload = response.read()
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
        return "reset"
    finally:
        conn.close()
    if response.status in (429, 503):
        error = json.loads(payload)["errors"][0]
        assert error["code"] == {429: "TOOMANYREQUESTS", 503: "UNAVAILABLE"}[response.status]
        if response.status == 429:
            assert response.getheader("Retry-After") == "1"
    return str(response.status)


def test_a_share_of_requests_fail(registry: RegistryHttp) -> None:
    kinds = (RESET, RESET_AFTER_BODY, UNAVAILABLE, THROTTLED)
    faults = Faults(share=0.3, kinds=kinds, seed=11)
    with ReverseProxy(registry.host, [faults]) as proxy:
        # Bodies on half the requests, so "reset after the body" has one to read.
        seen = Counter(
            _outcome(proxy.address, registry.auth, None if i % 2 else b"x" * 65536)
            for i in range(REQUESTS)
        )
    assert faults.counts["requests"] == REQUESTS
    assert 0.2 * REQUESTS < faults.injected < 0.4 * REQUESTS
    assert all(faults.counts[kind] > 0 for kind in kinds)
    # GET /v2/ answers 200; the POST answers 405 (the registry has no such route).
    assert seen["reset"] == faults.counts[RESET] + faults.counts[RESET_AFTER_BODY]
    assert seen["503"] == faults.counts[UNAVAILABLE]
    assert seen["429"] == faults.counts[THROTTLED]
    assert seen["200"] + seen["405"] == REQUESTS - faults.injected


def test_stalls_wait_then_forward(registry: RegistryHttp) -> None:
    waits: list[float] = []
    faults = Faults(share=0.5, kinds=(STALL,), seed=3, stall_seconds=7.5)
    with ReverseProxy(registry.host, [faults], sleep=waits.append) as proxy:
        seen = Counter(_outcome(proxy.address, registry.auth, None) for _ in range(40))
    assert seen == Counter({"200": 40})
    assert waits == [7.5] * faults.counts[STALL]
    assert faults.counts[STALL] > 5
