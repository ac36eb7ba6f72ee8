"""The rollout judge, case by case, as `kubectl rollout status` decides."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.kube.rollout import RolloutState, judge, state


def obj(
    generation: int = 5,
    observed: int | None = 5,
    desired: Any = 3,
    replicas: int = 3,
    updated: int = 3,
    available: int = 3,
    reason: str | None = "NewReplicaSetAvailable",
    paused: bool = False,
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "replicas": replicas,
        "updatedReplicas": updated,
        "availableReplicas": available,
    }
    if observed is not None:
        status["observedGeneration"] = observed
    if reason:
        status["conditions"] = [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "reason": reason, "message": "ReplicaSet rs has timed out"},
        ]
    spec: dict[str, Any] = {"paused": paused}
    if desired is not None:
        spec["replicas"] = desired
    return {"metadata": {"name": "web", "generation": generation}, "spec": spec, "status": status}


# (case, object, done, failed, message fragment)
CASES = [
    ("done", obj(), True, False, 'deployment "web" successfully rolled out'),
    ("observed-generation-lags", obj(generation=6), False, False, "spec update to be observed"),
    ("no-status-yet", obj(observed=None), False, False, "spec update to be observed"),
    (
        "observed-ahead-counts-as-observed",
        obj(generation=5, observed=6),
        True,
        False,
        "successfully rolled out",
    ),
    (
        "deadline-exceeded-fails",
        obj(reason="ProgressDeadlineExceeded", updated=1),
        False,
        True,
        'deployment "web" exceeded its progress deadline: ReplicaSet rs has timed out',
    ),
    (
        "deadline-before-observed-is-stale",
        obj(generation=6, reason="ProgressDeadlineExceeded"),
        False,
        False,
        "spec update to be observed",
    ),
    (
        "updated-below-desired",
        obj(updated=1, replicas=4),
        False,
        False,
        "1 out of 3 new replicas have been updated",
    ),
    (
        "old-replicas-pending-termination",
        obj(replicas=5, updated=3),
        False,
        False,
        "2 old replicas are pending termination",
    ),
    (
        "available-below-updated",
        obj(available=2),
        False,
        False,
        "2 of 3 updated replicas are available",
    ),
    ("scaled-to-zero", obj(desired=0, replicas=0, updated=0, available=0), True, False, "rolled"),
    ("desired-unset-is-not-compared", obj(desired=None), True, False, "successfully rolled out"),
    (
        "paused-and-unfinished-fails",
        obj(paused=True, updated=1, replicas=4),
        False,
        True,
        "is paused (1 out of 3 new replicas have been updated)",
    ),
    ("paused-but-finished-is-done", obj(paused=True), True, False, "successfully rolled out"),
]


@pytest.mark.parametrize(
    ("obj", "done", "failed", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_judge(obj: dict[str, Any], done: bool, failed: bool, fragment: str) -> None:
    verdict = judge(state(obj))
    assert (verdict.done, verdict.failed) == (done, failed), verdict.message
    assert fragment in verdict.message


def test_state_reads_the_api_json_and_tolerates_missing_parts() -> None:
    assert state({}) == RolloutState(name="")
    assert state(obj()) == RolloutState(
        name="web",
        generation=5,
        observed_generation=5,
        desired=3,
        replicas=3,
        updated=3,
        available=3,
        paused=False,
        progressing_reason="NewReplicaSetAvailable",
        progressing_message="ReplicaSet rs has timed out",
    )


def test_a_boolean_is_not_a_replica_count() -> None:
    assert state(obj(desired=True)).desired is None
