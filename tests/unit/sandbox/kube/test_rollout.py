"""The controller's arithmetic: pods per ReplicaSet over time, and the status it writes."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.sandbox.kube.rollout import Phase, Timing, complete, pods, scaled, status, timestamp

TIMING = Timing(observe=0.1, pod=1.0, deadline_scale=0.01)


def _phase(**changes: Any) -> Phase:
    values: dict[str, Any] = {
        "generation": 2,
        "started": 100.0,
        "replicas": 3,
        "current": "new",
        "available": {"old": 3, "new": 0},
        "max_surge": 1,
        "max_unavailable": 0,
    }
    values.update(changes)
    return Phase(**values)


def _counts(phase: Phase, at: float) -> tuple[int, int, int]:
    found = pods(phase, 100.0 + at, TIMING)
    return found.of("new"), found.of("old"), found.pending


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (0.0, (0, 3, 1)),  # one surge pod started, not ready yet
        (0.99, (0, 3, 1)),
        (1.0, (1, 2, 1)),
        (2.5, (2, 1, 1)),
        (3.0, (3, 0, 0)),
        (60.0, (3, 0, 0)),
    ],
)
def test_a_rolling_update_moves_one_pod_per_step(at: float, expected: tuple[int, int, int]) -> None:
    assert _counts(_phase(), at) == expected


def test_a_new_deployment_starts_every_pod_at_once() -> None:
    phase = _phase(generation=1, available={"new": 0})
    assert _counts(phase, 0) == (0, 0, 3)
    assert _counts(phase, 2) == (2, 0, 1)
    assert complete(phase, 103.0, TIMING)


def test_recreate_stops_the_old_pods_first() -> None:
    phase = _phase(recreate=True)
    assert _counts(phase, 0) == (0, 3, 0)
    assert _counts(phase, 1) == (0, 0, 3)
    assert _counts(phase, 4) == (3, 0, 0)


def test_scaling_down_the_current_replicaset() -> None:
    phase = _phase(replicas=1, available={"new": 3})
    assert _counts(phase, 0) == (3, 0, 0)
    assert _counts(phase, 2) == (1, 0, 0)


def test_a_failing_rollout_keeps_the_old_pods_and_never_completes() -> None:
    phase = _phase(failing=True)
    for at in (0, 5, 500):
        assert _counts(phase, at) == (0, 3, 1)
    assert not complete(phase, 1000.0, TIMING)


def _condition(found: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in found["conditions"] if c["type"] == kind)


def test_status_during_and_after_a_rollout() -> None:
    phase = _phase()
    during = status(phase, 101.0, TIMING, rs_name="web-new", deadline_seconds=600)
    assert {k: v for k, v in during.items() if k != "conditions"} == {
        "observedGeneration": 2,
        "replicas": 4,
        "updatedReplicas": 2,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "unavailableReplicas": 1,
    }
    assert _condition(during, "Progressing")["reason"] == "ReplicaSetUpdated"
    assert _condition(during, "Available")["status"] == "True"
    done = status(phase, 103.0, TIMING, rs_name="web-new", deadline_seconds=600, previous=during)
    assert done["replicas"] == done["updatedReplicas"] == done["availableReplicas"] == 3
    assert "unavailableReplicas" not in done  # zero counts are omitted, as served
    progressing = _condition(done, "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("True", "NewReplicaSetAvailable")
    assert progressing["message"] == 'ReplicaSet "web-new" has successfully progressed.'
    # Still True since the rollout began: only the update time moves.
    assert progressing["lastTransitionTime"] == timestamp(101.0)
    assert progressing["lastUpdateTime"] == timestamp(103.0)


def test_a_failing_rollout_reports_progress_deadline_exceeded_after_the_scaled_deadline() -> None:
    phase = _phase(failing=True)
    # 600 s * 0.01 = 6 s of the clock.
    before = status(phase, 105.9, TIMING, rs_name="web-new", deadline_seconds=600)
    assert _condition(before, "Progressing")["status"] == "True"
    after = status(phase, 106.0, TIMING, rs_name="web-new", deadline_seconds=600, previous=before)
    progressing = _condition(after, "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert progressing["lastTransitionTime"] == timestamp(106.0)
    assert _condition(after, "Available")["status"] == "True"  # the old pods still serve
    assert after["updatedReplicas"] == 1 and after["availableReplicas"] == 3


def test_a_new_deployment_is_unavailable_until_enough_pods_are_ready() -> None:
    phase = _phase(generation=1, available={"new": 0}, max_unavailable=0)
    found = status(phase, 100.0, TIMING, rs_name="web-new", deadline_seconds=600)
    assert _condition(found, "Available")["reason"] == "MinimumReplicasUnavailable"


@pytest.mark.parametrize(
    ("value", "replicas", "up", "expected"),
    [
        ("25%", 3, True, 1),
        ("25%", 3, False, 0),
        ("50%", 4, False, 2),
        (2, 10, True, 2),
        ("1", 5, True, 1),
    ],
)
def test_scaled_int_or_percent(value: Any, replicas: int, up: bool, expected: int) -> None:
    assert scaled(value, replicas, round_up=up) == expected


def test_the_default_deadline_takes_three_seconds() -> None:
    assert Timing().deadline(600) == pytest.approx(3.0)
