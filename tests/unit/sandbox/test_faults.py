"""Faults: which share of requests fail, how, and reproducibly."""

from __future__ import annotations

import json
from collections import Counter
from email.message import Message

import pytest

from pipeline.sandbox.verdicts import Answer, Request, Reset, Stall
from tests.faults import KINDS, STALL, THROTTLED, UNAVAILABLE, Faults


def _request(path: str = "/v2/") -> Request:
    return Request("GET", path, Message())


def _decide(faults: Faults, n: int) -> list[object]:
    return [faults.before(_request()) for _ in range(n)]


def test_the_share_is_about_right_and_every_kind_occurs() -> None:
    faults = Faults(share=0.2, seed=1)
    verdicts = _decide(faults, 2000)
    failed = [v for v in verdicts if v is not None]
    assert 0.17 < len(failed) / 2000 < 0.23
    assert faults.injected == len(failed)
    assert faults.counts["requests"] == 2000
    assert set(faults.counts) - {"requests"} == set(KINDS)


def test_a_seed_replays_the_same_failures() -> None:
    assert _decide(Faults(seed=5), 300) == _decide(Faults(seed=5), 300)
    assert _decide(Faults(seed=5), 300) != _decide(Faults(seed=6), 300)


@pytest.mark.parametrize(("share", "failing"), [(0.0, 0), (1.0, 50)])
def test_share_bounds(share: float, failing: int) -> None:
    assert sum(v is not None for v in _decide(Faults(share=share, seed=2), 50)) == failing


def test_verdicts_per_kind() -> None:
    faults = Faults(stall_seconds=4.0, retry_after=7)
    assert faults.verdict("reset") == Reset(after_body=False)
    assert faults.verdict("reset-after-body") == Reset(after_body=True)
    assert faults.verdict(STALL) == Stall(4.0)
    unavailable = faults.verdict(UNAVAILABLE)
    throttled = faults.verdict(THROTTLED)
    assert isinstance(unavailable, Answer)
    assert isinstance(throttled, Answer)
    assert unavailable.status == 503
    assert json.loads(unavailable.body)["errors"][0]["code"] == "UNAVAILABLE"
    assert (throttled.status, dict(throttled.headers)["Retry-After"]) == (429, "7")
    assert json.loads(throttled.body)["errors"][0]["code"] == "TOOMANYREQUESTS"


def test_only_the_chosen_kinds_and_requests() -> None:
    faults = Faults(share=1.0, kinds=(THROTTLED,), seed=3, applies=lambda r: "/blobs/" in r.path)
    assert faults.before(_request("/v2/")) is None
    kinds = Counter(
        type(faults.before(_request("/v2/a/blobs/sha256:0"))).__name__ for _ in range(10)
    )
    assert kinds == Counter({"Answer": 10})
    assert faults.counts == Counter({"requests": 10, THROTTLED: 10})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"share": 1.5}, "share"), ({"kinds": ("boom",)}, "boom"), ({"kinds": ()}, "fault kinds")],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults(**kwargs)  # type: ignore[arg-type]
