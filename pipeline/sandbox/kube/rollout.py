"""The deployment controller, as a pure function of time.

A Phase is the controller's work towards one observed generation: which
ReplicaSet (pod template hash) should end up with the pods, and how many
pods each ReplicaSet had available when the phase began. From a phase and
the clock, `pods` says how many pods each ReplicaSet has now and `status`
writes the Deployment's status as the real controller would:

- one pod of the new ReplicaSet becomes available every `Timing.pod`
  seconds, and an old one leaves as it does (maxSurge/maxUnavailable decide
  how many new pods are started ahead; Recreate stops the old ones first);
- a failing phase (its ReplicaSet's pods never become ready, like a bad
  image) keeps the old pods, and once `progressDeadlineSeconds` (scaled by
  `Timing.deadline_scale`) have passed reports Progressing=False with reason
  ProgressDeadlineExceeded;
- a paused phase (spec.paused) still scales but rolls out nothing, and reports
  Progressing=Unknown with reason DeploymentPaused; a template changed while
  paused has no pods yet (updatedReplicas 0), so `rollout status` waits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class Timing:
    """How fast the emulated cluster works (seconds of the injected clock)."""

    observe: float = 0.1  # a spec change until status.observedGeneration catches up
    pod: float = 0.2  # one more pod of the new ReplicaSet available (and one old one gone)
    # progressDeadlineSeconds run 200 times faster: the default 600 s take 3 s.
    deadline_scale: float = 1 / 200

    def deadline(self, seconds: int) -> float:
        return seconds * self.deadline_scale


@dataclass(frozen=True)
class Phase:
    generation: int
    started: float  # when the controller observed the generation
    replicas: int
    current: str  # the ReplicaSet (pod-template-hash) that should end up with the pods
    available: Mapping[str, int]  # available pods per ReplicaSet at the start, oldest first
    failing: bool = False
    recreate: bool = False
    paused: bool = False  # spec.paused: no new template rolls out, no deadline runs
    stale: bool = False  # paused with a new template: no pod runs the template yet
    max_surge: int = 1
    max_unavailable: int = 0


@dataclass(frozen=True)
class Pods:
    ready: Mapping[str, int]  # available pods per ReplicaSet now
    pending: int  # pods of the current ReplicaSet that are not ready (yet)

    def of(self, rs: str) -> int:
        return self.ready.get(rs, 0)


def scaled(value: Any, replicas: int, *, round_up: bool) -> int:
    """An int-or-percent (maxSurge, maxUnavailable) as a number of pods."""
    if isinstance(value, int):
        return max(0, value)
    text = str(value or "0").strip()
    if text.endswith("%"):
        fraction = float(text[:-1] or 0) * replicas / 100
        return math.ceil(fraction) if round_up else math.floor(fraction)
    return int(text) if text.isdigit() else 0


def pods(phase: Phase, now: float, timing: Timing) -> Pods:
    steps = max(0, math.floor((now - phase.started) / timing.pod + 1e-9))
    want = phase.replicas
    new0 = phase.available.get(phase.current, 0)
    old0 = sum(n for rs, n in phase.available.items() if rs != phase.current)
    if phase.failing:
        new_ready = min(new0, want)
        old = min(old0, want)
    elif phase.recreate:
        old = old0 if steps == 0 else 0
        new_ready = new0 if steps == 0 else _towards(new0, want, steps - 1)
    else:
        new_ready = _towards(new0, want, steps)
        old = max(0, min(old0, want - new_ready))
    if phase.recreate and old:
        pending = 0
    else:
        room = want + max(phase.max_surge, 0 if phase.max_unavailable else 1) - new_ready - old
        pending = max(0, min(want - new_ready, room))
    ready = {phase.current: new_ready}
    # The newest old ReplicaSets keep their pods longest.
    for rs in reversed([rs for rs in phase.available if rs != phase.current]):
        keep = min(phase.available[rs], old)
        ready[rs] = keep
        old -= keep
    return Pods(ready, pending)


def _towards(start: int, target: int, steps: int) -> int:
    return min(target, start + steps) if start <= target else max(target, start - steps)


def complete(phase: Phase, now: float, timing: Timing) -> bool:
    found = pods(phase, now, timing)
    others = sum(n for rs, n in found.ready.items() if rs != phase.current)
    done = found.of(phase.current) == phase.replicas and not others and not found.pending
    return done and not phase.stale


def status(
    phase: Phase,
    now: float,
    timing: Timing,
    *,
    rs_name: str,
    deadline_seconds: int,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The Deployment's status at `now`, keeping condition times that did not change."""
    found = pods(phase, now, timing)
    available = sum(found.ready.values())
    counts = {
        "observedGeneration": phase.generation,
        "replicas": available + found.pending,
        "updatedReplicas": 0 if phase.stale else found.of(phase.current) + found.pending,
        "readyReplicas": available,
        "availableReplicas": available,
        "unavailableReplicas": found.pending,
    }
    result: dict[str, Any] = {k: v for k, v in counts.items() if v}  # omitempty, as served
    if available >= phase.replicas - phase.max_unavailable:
        available_condition = (
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    else:
        available_condition = (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    if phase.paused:
        progressing = ("Unknown", "DeploymentPaused", "Deployment is paused")
    elif complete(phase, now, timing):
        progressing = (
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{rs_name}" has successfully progressed.',
        )
    elif phase.failing and now - phase.started >= timing.deadline(deadline_seconds):
        progressing = (
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{rs_name}" has timed out progressing.',
        )
    else:
        progressing = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
    old = {c.get("type"): c for c in (previous or {}).get("conditions") or []}
    result["conditions"] = [
        _condition("Available", available_condition, old.get("Available"), now),
        _condition("Progressing", progressing, old.get("Progressing"), now),
    ]
    return result


def _condition(
    kind: str, value: tuple[str, str, str], old: Mapping[str, Any] | None, now: float
) -> dict[str, Any]:
    state, reason, message = value
    stamp = timestamp(now)
    changed = old is None or old.get("status") != state
    same = (
        not changed
        and old is not None
        and (old.get("reason"), old.get("message"))
        == (
            reason,
            message,
        )
    )
    return {
        "type": kind,
        "status": state,
        "lastUpdateTime": old["lastUpdateTime"] if same and old else stamp,
        "lastTransitionTime": stamp if changed or old is None else old["lastTransitionTime"],
        "reason": reason,
        "message": message,
    }


def timestamp(epoch: float) -> str:
    """RFC 3339 in UTC with whole seconds, as the API serves times."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
