"""Judging and following one ECS deployment by its id (scenarios 18-22)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pipeline.ecs import rollout
from pipeline.ecs.ports import DeploymentSettings, EcsApiError, Service
from pipeline.ecs.rollout import EventLog, Phase, judge
from tests.unit.ecs.fakes import (
    TD1,
    TD2,
    FakeEcs,
    FakeTiming,
    Rollout,
    dep,
    event,
    service,
    steady,
    throttled,
)

NEW = "ecs-svc/new"
OLD = "ecs-svc/old"


@dataclass(frozen=True)
class Case:
    id: str
    service: Service | None
    phase: Phase
    says: str = ""
    previous: str | None = TD1


CASES = [
    Case(
        "in progress",
        service(dep(NEW, TD2, running=1), dep(OLD, TD1, "COMPLETED", status="ACTIVE", running=2)),
        Phase.WAITING,
        "IN_PROGRESS, 1/2 running",
    ),
    Case(
        "stable but still baking is not done",
        service(dep(NEW, TD2, "IN_PROGRESS", running=2), td=TD2),
        Phase.WAITING,
    ),
    Case("completed", service(dep(NEW, TD2, "COMPLETED", running=2), td=TD2), Phase.COMPLETED),
    Case(
        "circuit breaker: ours FAILED, old one primary again",
        service(
            dep("ecs-svc/rb", TD1, "IN_PROGRESS"),
            dep(
                NEW,
                TD2,
                "FAILED",
                status="ACTIVE",
                reason="ECS deployment circuit breaker: tasks failed to start.",
            ),
        ),
        Phase.ROLLED_BACK,
        "ECS deployment circuit breaker: tasks failed to start.; ECS rolled back to web:1",
    ),
    Case(
        "circuit breaker: ours gone, stable on the old revision (the waiter's false green)",
        service(dep("ecs-svc/rb", TD1, "COMPLETED", running=2)),
        Phase.ROLLED_BACK,
        "is gone and the service is back on web:1",
    ),
    Case(
        "circuit breaker without rollback: FAILED and still primary",
        service(dep(NEW, TD2, "FAILED", reason="tasks failed to start"), td=TD2),
        Phase.FAILED,
        "tasks failed to start",
    ),
    Case(
        "ours no longer primary, the old revision is",
        service(dep("ecs-svc/rb", TD1), dep(NEW, TD2, "IN_PROGRESS", status="ACTIVE")),
        Phase.ROLLED_BACK,
        "no longer primary",
    ),
    Case(
        "another update replaced ours",
        service(dep("ecs-svc/x", "arn:aws:ecs:us-east-1:1:task-definition/web:9"), td=TD2),
        Phase.SUPERSEDED,
        "another update replaced it",
    ),
    Case(
        "ours ACTIVE behind someone else's revision",
        service(
            dep("ecs-svc/x", "arn:aws:ecs:us-east-1:1:task-definition/web:9"),
            dep(NEW, TD2, status="ACTIVE"),
        ),
        Phase.SUPERSEDED,
    ),
    Case(
        "same task definition forced (redeploy): a vanished deployment is not a rollback",
        service(dep("ecs-svc/x", TD2, "COMPLETED"), td=TD2),
        Phase.SUPERSEDED,
        previous=TD2,
    ),
    Case("missing", None, Phase.GONE, "service not found"),
    Case("draining", service(dep(NEW, TD2), status="DRAINING"), Phase.GONE, "DRAINING"),
    Case("inactive", service(dep(NEW, TD2), status="INACTIVE"), Phase.GONE, "INACTIVE"),
    Case(
        "no rolloutState (classic load balancer): all running, nothing else left",
        service(dep(NEW, TD2, None, running=2), td=TD2),
        Phase.COMPLETED,
        "ECS reports no rolloutState",
    ),
    Case(
        "no rolloutState: old tasks still draining",
        service(dep(NEW, TD2, None, running=2), dep(OLD, TD1, None, status="ACTIVE", running=1)),
        Phase.WAITING,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_judge(case: Case) -> None:
    verdict = judge(case.service, NEW, case.previous, TD2)
    assert verdict.phase is case.phase, verdict.reason
    assert case.says in verdict.reason


@pytest.mark.parametrize(
    ("settings", "minutes"),
    [
        (DeploymentSettings(), 0),
        (DeploymentSettings("ROLLING", bake_minutes=0), 0),
        (DeploymentSettings("BLUE_GREEN", bake_minutes=30), 30),
        (DeploymentSettings("LINEAR", bake_minutes=5, step_percent=25.0, step_bake_minutes=2), 11),
        (DeploymentSettings("LINEAR", bake_minutes=5, step_percent=30.0, step_bake_minutes=2), 11),
        (DeploymentSettings("CANARY", bake_minutes=5, canary_bake_minutes=10), 15),
    ],
)
def test_the_wait_covers_the_strategy_bake_times(
    settings: DeploymentSettings, minutes: int
) -> None:
    assert rollout.bake_seconds(settings) == minutes * 60


def _follow(ecs: FakeEcs, clock: FakeTiming, seconds: float = 900.0) -> rollout.Outcome:
    ecs.update_service("prod", "web", TD2, force_new_deployment=False)
    lines: list[str] = []
    outcome = rollout.follow(
        ecs,
        "prod",
        "web",
        NEW,
        previous_td=TD1,
        new_td=TD2,
        seconds=seconds,
        timing=clock.timing(),
        events=EventLog([]),
        say=lines.append,
    )
    return outcome


def test_a_finished_rollout_is_noticed_within_3_seconds() -> None:
    going = service(dep(NEW, TD2, running=1), td=TD2)
    done = service(dep(NEW, TD2, "COMPLETED", running=2), td=TD2)
    for finished_after in range(1, 40):
        clock = FakeTiming()
        polls: list[Service | Exception | None] = [going] * finished_after + [done]
        ecs = FakeEcs(steady(), [Rollout(going, polls)])
        # the rollout finishes just after the last "going" look
        outcome = _follow(ecs, clock)
        assert outcome.phase is Phase.COMPLETED
        finished_at = sum(clock.sleeps[: finished_after - 1])
        assert clock.now - finished_at <= 3.0
    assert max(clock.sleeps) <= 2.0


def test_stable_but_baking_keeps_waiting_past_an_hour_with_no_hidden_cap() -> None:
    baking = service(dep(NEW, TD2, "IN_PROGRESS", running=2), td=TD2)
    clock = FakeTiming()
    ecs = FakeEcs(steady(), [Rollout(baking, [baking])])
    outcome = _follow(ecs, clock, seconds=90 * 60)
    assert outcome.phase is Phase.TIMED_OUT
    assert 90 * 60 <= clock.now <= 90 * 60 + 2
    assert "not finished after 90m" in outcome.reason
    assert "IN_PROGRESS, 2/2 running" in outcome.reason


def test_throttling_while_polling_is_retried_with_jitter() -> None:
    going = service(dep(NEW, TD2, running=1), td=TD2)
    done = service(dep(NEW, TD2, "COMPLETED", running=2), td=TD2)
    clock = FakeTiming()
    ecs = FakeEcs(steady(), [Rollout(going, [going, throttled(), throttled(), throttled(), done])])
    outcome = _follow(ecs, clock)
    assert outcome.phase is Phase.COMPLETED
    assert clock.jitters == [(0.0, 1.0), (0.0, 2.0), (0.0, 4.0)]  # full jitter, doubling


def test_endless_throttling_gives_up_with_the_operation_named() -> None:
    going = service(dep(NEW, TD2, running=1), td=TD2)
    clock = FakeTiming()
    ecs = FakeEcs(steady(), [Rollout(going, [throttled()])])
    with pytest.raises(
        EcsApiError, match=r"ECS DescribeServices prod/web: Throttling.*gave up after 8"
    ):
        _follow(ecs, clock)


def test_a_permanent_error_is_not_retried() -> None:
    denied = EcsApiError(
        "ECS DescribeServices prod/web: AccessDeniedException", code="AccessDeniedException"
    )
    clock = FakeTiming()
    ecs = FakeEcs(steady(), [Rollout(steady(), [denied])])
    with pytest.raises(EcsApiError, match="AccessDenied"):
        _follow(ecs, clock)
    assert clock.sleeps == []


def test_new_service_events_are_told_once_in_order() -> None:
    e1, e2, e3 = (
        event("1", "has started 1 tasks"),
        event("2", "registered 1 targets"),
        event("3", "has reached a steady state."),
    )
    old = event("0", "old news")
    polls: list[Service | Exception | None] = [
        service(dep(NEW, TD2), td=TD2, events=[e1, old]),
        service(dep(NEW, TD2), td=TD2, events=[e2, e1, old]),
        service(dep(NEW, TD2, "COMPLETED"), td=TD2, events=[e3, e2, e1, old]),
    ]
    ecs = FakeEcs(steady(), [Rollout(steady(), polls)])
    ecs.update_service("prod", "web", TD2, force_new_deployment=False)
    lines: list[str] = []
    outcome = rollout.follow(
        ecs,
        "prod",
        "web",
        NEW,
        previous_td=TD1,
        new_td=TD2,
        seconds=60,
        timing=FakeTiming().timing(),
        events=EventLog([old]),
        say=lines.append,
    )
    told = [line for line in lines if "deployment" not in line]
    assert told == [
        "prod/web: has started 1 tasks",
        "prod/web: registered 1 targets",
        "prod/web: has reached a steady state.",
    ]
    assert [e.id for e in outcome.events] == ["1", "2", "3"]
