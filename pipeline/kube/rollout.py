"""Is a Deployment's rollout finished? Judged as `kubectl rollout status` judges it.

From kubectl's DeploymentStatusViewer (pkg/polymorphichelpers/rollout_status.go):
until the controller has observed the latest spec (observedGeneration >=
generation) nothing else counts; then a Progressing condition with reason
ProgressDeadlineExceeded is a failure, and the rollout is done once every
desired replica is updated, no old replica is left, and every updated replica
is available. One addition: a paused Deployment never progresses, so it
fails at once instead of waiting out the timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.kube.ports import KubeObject

DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"


@dataclass(frozen=True)
class RolloutState:
    name: str
    generation: int = 0
    observed_generation: int = 0
    desired: int | None = None  # spec.replicas; None lets the server's default stand
    replicas: int = 0
    updated: int = 0
    available: int = 0
    paused: bool = False
    progressing_reason: str | None = None
    progressing_message: str | None = None


@dataclass(frozen=True)
class Verdict:
    done: bool
    failed: bool
    message: str


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def state(obj: KubeObject) -> RolloutState:
    meta: Mapping[str, Any] = obj.get("metadata") or {}
    spec: Mapping[str, Any] = obj.get("spec") or {}
    status: Mapping[str, Any] = obj.get("status") or {}
    progressing = next(
        (
            c
            for c in status.get("conditions") or []
            if isinstance(c, Mapping) and c.get("type") == "Progressing"
        ),
        {},
    )
    desired = spec.get("replicas")
    return RolloutState(
        name=str(meta.get("name", "")),
        generation=_int(meta.get("generation")),
        observed_generation=_int(status.get("observedGeneration")),
        desired=desired if isinstance(desired, int) and not isinstance(desired, bool) else None,
        replicas=_int(status.get("replicas")),
        updated=_int(status.get("updatedReplicas")),
        available=_int(status.get("availableReplicas")),
        paused=spec.get("paused") is True,
        progressing_reason=progressing.get("reason"),
        progressing_message=progressing.get("message"),
    )


def judge(s: RolloutState) -> Verdict:
    name = f'deployment "{s.name}"'
    if s.generation > s.observed_generation:
        return Verdict(False, False, f"waiting for {name} spec update to be observed")
    if s.progressing_reason == DEADLINE_EXCEEDED:
        detail = f": {s.progressing_message}" if s.progressing_message else ""
        return Verdict(False, True, f"{name} exceeded its progress deadline{detail}")
    waiting: str | None = None
    if s.desired is not None and s.updated < s.desired:
        waiting = f"{s.updated} out of {s.desired} new replicas have been updated"
    elif s.replicas > s.updated:
        waiting = f"{s.replicas - s.updated} old replicas are pending termination"
    elif s.available < s.updated:
        waiting = f"{s.available} of {s.updated} updated replicas are available"
    if waiting is None:
        return Verdict(True, False, f"{name} successfully rolled out")
    if s.paused:
        return Verdict(False, True, f"{name} is paused ({waiting}); resume it to roll out")
    return Verdict(False, False, f"waiting for {name} rollout to finish: {waiting}")
