"""Following one ECS deployment, by its id, to COMPLETED or FAILED.

The services-stable waiter that the aws-actions action and most scripts use
declares success when a service has one deployment and running == desired.
A circuit-breaker rollback ends exactly like that, on the *old* task
definition, and a BLUE_GREEN service is stable long before its bake time is
over (reference/auth-push-deploy.md B8, pain points 6-8, 11). So we look at
our own deployment: its `rolloutState`, whether it is still there and still
PRIMARY, and which task definition the service went back to if it is not.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pipeline import poll
from pipeline.ecs.ports import (
    DeploymentSettings,
    EcsApi,
    EcsDeployment,
    Service,
    ServiceEvent,
    Timing,
)
from pipeline.ecs.waiting import poll_interval, retrying
from pipeline.poll import Deadline

LineSink = Callable[[str], None]


class Phase(enum.Enum):
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"  # ECS put the service back on the previous task definition
    SUPERSEDED = "superseded"  # another update replaced our deployment: not ours to undo
    GONE = "gone"  # the service is missing, draining or inactive
    TIMED_OUT = "timed_out"

    @property
    def done(self) -> bool:
        return self is not Phase.WAITING


@dataclass(frozen=True)
class Verdict:
    phase: Phase
    reason: str = ""


def judge(
    service: Service | None, deployment_id: str, previous_td: str | None, new_td: str
) -> Verdict:
    """Where deployment `deployment_id` of `service` stands, from one DescribeServices."""
    if service is None:
        return Verdict(Phase.GONE, "service not found (deleted while deploying?)")
    if service.status != "ACTIVE":
        return Verdict(Phase.GONE, f"the service is {service.status}")
    ours = service.deployment(deployment_id)
    primary = service.primary()
    back_on_previous = (
        primary is not None
        and primary.id != deployment_id
        and previous_td is not None
        and previous_td != new_td
        and primary.task_definition == previous_td
    )
    if ours is None:
        if back_on_previous:
            assert primary is not None
            return Verdict(
                Phase.ROLLED_BACK,
                f"deployment {deployment_id} is gone and the service is back on"
                f" {short_td(primary.task_definition)} (rolled back by the deployment circuit"
                " breaker)",
            )
        now = f"{primary.id} ({short_td(primary.task_definition)})" if primary else "none"
        return Verdict(
            Phase.SUPERSEDED,
            f"deployment {deployment_id} is no longer listed; the service's primary deployment"
            f" is {now}: another update replaced it",
        )
    if ours.rollout_state == "FAILED":
        why = ours.rollout_state_reason or "rolloutState FAILED"
        if primary is not None and primary.id != ours.id:
            return Verdict(Phase.ROLLED_BACK, f"{why}; ECS rolled back to {_short_of(primary)}")
        return Verdict(Phase.FAILED, why)
    if ours.status != "PRIMARY":
        if back_on_previous:
            assert primary is not None
            return Verdict(
                Phase.ROLLED_BACK,
                f"deployment {deployment_id} is no longer primary; ECS rolled back to"
                f" {_short_of(primary)}",
            )
        now = _short_of(primary) if primary else "none"
        return Verdict(
            Phase.SUPERSEDED,
            f"deployment {deployment_id} is {ours.status}; primary is now {now}:"
            " another update replaced it",
        )
    if ours.rollout_state == "COMPLETED":
        return Verdict(Phase.COMPLETED, ours.rollout_state_reason or "rollout completed")
    if ours.rollout_state is None and _steady_without_rollout_state(service, ours):
        # ECS reports no rolloutState for services behind a Classic Load Balancer:
        # there, all tasks of ours running and nothing else left is the best signal.
        return Verdict(
            Phase.COMPLETED,
            f"{ours.running}/{ours.desired} tasks running, no other deployment left"
            " (ECS reports no rolloutState for this service)",
        )
    return Verdict(Phase.WAITING, _progress(ours))


def _steady_without_rollout_state(service: Service, ours: EcsDeployment) -> bool:
    return len(service.deployments) == 1 and ours.running >= ours.desired and ours.pending == 0


def _progress(d: EcsDeployment) -> str:
    state = d.rollout_state or "no rolloutState"
    return f"{state}, {d.running}/{d.desired} running, {d.pending} pending, {d.failed_tasks} failed"


def short_td(arn: str) -> str:
    """`family:revision` of a task definition ARN."""
    return arn.rsplit("/", 1)[-1]


def _short_of(d: EcsDeployment) -> str:
    return f"{short_td(d.task_definition)} (deployment {d.id})"


def bake_seconds(settings: DeploymentSettings) -> float:
    """Time a deployment strategy spends by design after the new tasks are healthy.

    `wait` is the user's patience with the rollout itself; the strategy's bake
    times come on top, or every BLUE_GREEN service with a 30-minute bake would
    time out under a 15-minute wait.
    """
    minutes = float(settings.bake_minutes)
    if settings.strategy == "LINEAR" and settings.step_percent:
        steps = max(math.ceil(100.0 / settings.step_percent) - 1, 0)
        minutes += steps * settings.step_bake_minutes
    elif settings.strategy == "CANARY":
        minutes += settings.canary_bake_minutes
    return minutes * 60.0


@dataclass(frozen=True)
class Outcome:
    phase: Phase
    reason: str
    service: Service | None
    #: service events that appeared while we followed, oldest first
    events: tuple[ServiceEvent, ...] = ()


class EventLog:
    """Service events not seen before the deploy started, in the order they happened."""

    def __init__(self, before: Iterable[ServiceEvent]) -> None:
        self._seen = {e.id for e in before}
        self.new: list[ServiceEvent] = []

    def take(self, service: Service | None) -> list[ServiceEvent]:
        if service is None:
            return []
        fresh = [e for e in reversed(service.events) if e.id not in self._seen]
        self._seen.update(e.id for e in fresh)
        self.new.extend(fresh)
        return fresh


def follow(
    api: EcsApi,
    cluster: str,
    service_name: str,
    deployment_id: str,
    *,
    previous_td: str | None,
    new_td: str,
    seconds: float,
    timing: Timing,
    events: EventLog,
    say: LineSink,
) -> Outcome:
    """Poll DescribeServices until our deployment is done, or `seconds` have passed."""
    target = f"{cluster}/{service_name}"
    last = ""

    def look(deadline: Deadline) -> tuple[Service | None, Verdict]:
        service = retrying(
            lambda: api.describe_service(cluster, service_name),
            what=f"ECS DescribeServices {target}",
            timing=timing,
            deadline=deadline,
        )
        for event in events.take(service):
            say(f"{target}: {event.message}")
        return service, judge(service, deployment_id, previous_td, new_td)

    def pending(seen: tuple[Service | None, Verdict]) -> None:
        nonlocal last
        verdict = seen[1]
        if verdict.reason != last:
            say(f"{target}: deployment {deployment_id}: {verdict.reason}")
            last = verdict.reason

    polled = poll.until(
        look,
        lambda seen: seen[1].phase.done,
        seconds=seconds,
        now=timing.now,
        sleep=timing.sleep,
        interval=poll_interval,
        pending=pending,
    )
    service, verdict = polled.answer
    if not polled.timed_out:
        return Outcome(verdict.phase, verdict.reason, service, tuple(events.new))
    return Outcome(
        Phase.TIMED_OUT,
        f"not finished after {_duration(seconds)}: deployment {deployment_id} is {verdict.reason}",
        service,
        tuple(events.new),
    )


def _duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"
