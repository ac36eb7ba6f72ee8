"""Fakes of the ECS deploy's ports, and builders for the values they return.

`FakeEcs` plays a scripted service: before any update it shows `initial`;
after the n-th UpdateService it shows the n-th rollout's `polls` one after
another (the last one for ever). `FakeTiming` is a clock that only moves
when the code under test sleeps.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import botocore.session

from pipeline.ecs.ports import (
    CodeDeployStatus,
    DeploymentSettings,
    EcsApiError,
    EcsDeployment,
    LoadBalancer,
    Service,
    ServiceEvent,
    StoppedTask,
    Timing,
)

CLUSTER = "prod"
NAME = "web"
ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/web"
TD1, TD2, TD3 = f"{ARN}:1", f"{ARN}:2", f"{ARN}:3"
REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web"
DIGEST = "sha256:" + "a" * 64
OLD_DIGEST = "sha256:" + "b" * 64
NEW_IMAGE = f"{REPO}@{DIGEST}"
OLD_IMAGE = f"{REPO}:sha-1111111"


def registrable_keys() -> frozenset[str]:
    """The real allowlist, from the installed botocore's ECS model."""
    model = botocore.session.get_session().get_service_model("ecs")
    return frozenset(model.operation_model("RegisterTaskDefinition").input_shape.members)


def dep(
    id: str,
    td: str,
    state: str | None = "IN_PROGRESS",
    *,
    status: str = "PRIMARY",
    running: int = 0,
    desired: int = 2,
    pending: int = 0,
    failed: int = 0,
    reason: str = "",
) -> EcsDeployment:
    return EcsDeployment(id, status, td, state, reason, desired, running, pending, failed)


def event(id: str, message: str) -> ServiceEvent:
    return ServiceEvent(id, message)


def service(
    *deployments: EcsDeployment,
    td: str = TD1,
    status: str = "ACTIVE",
    desired: int = 2,
    controller: str = "ECS",
    events: Sequence[ServiceEvent] = (),
    settings: DeploymentSettings | None = None,
    load_balancers: Sequence[LoadBalancer] = (),
) -> Service:
    return Service(
        arn=f"arn:aws:ecs:us-east-1:123456789012:service/{CLUSTER}/{NAME}",
        name=NAME,
        cluster=CLUSTER,
        status=status,
        desired_count=desired,
        running_count=desired,
        task_definition=td,
        controller=controller,
        deployments=tuple(deployments),
        events=tuple(events),
        load_balancers=tuple(load_balancers),
        settings=settings or DeploymentSettings(),
    )


def steady(td: str = TD1, id: str = "ecs-svc/old", **kw: Any) -> Service:
    """A service whose one deployment finished long ago."""
    return service(dep(id, td, "COMPLETED", running=2), td=td, **kw)


def task_definition(image: str = OLD_IMAGE, revision: int = 1) -> dict[str, Any]:
    """DescribeTaskDefinition(include=TAGS) of a small two-container task."""
    return {
        "taskDefinition": {
            "taskDefinitionArn": f"{ARN}:{revision}",
            "family": "web",
            "revision": revision,
            "status": "ACTIVE",
            "containerDefinitions": [
                {"name": "app", "image": image, "environment": [{"name": "EMPTY", "value": ""}]},
                {"name": "envoy", "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.27"},
            ],
            "registeredAt": "2026-01-01T00:00:00Z",
        },
        "tags": [{"key": "team", "value": "shop"}],
    }


@dataclass
class Rollout:
    """What one UpdateService leads to: its answer, then what each poll shows."""

    after_update: Service
    polls: list[Service | Exception | None]


class FakeEcs:
    def __init__(
        self,
        initial: Service | None,
        rollouts: Sequence[Rollout] = (),
        *,
        described: Mapping[str, Any] | None = None,
        stopped: Sequence[StoppedTask] = (),
        allowed: frozenset[str] | None = None,
    ) -> None:
        self.initial = initial
        self.rollouts = list(rollouts)
        self.task_definitions: dict[str, dict[str, Any]] = {}
        if described is not None:
            td = described["taskDefinition"]["taskDefinitionArn"]
            self.task_definitions[td] = copy.deepcopy(dict(described))
        self.stopped = tuple(stopped)
        self.allowed = allowed or registrable_keys()
        self.registered: list[dict[str, Any]] = []
        self.updates: list[tuple[str, bool]] = []
        #: UpdateService raises this instead of starting a rollout
        self.refuse_update: Exception | None = None
        self.deregistered: list[str] = []
        #: DeregisterTaskDefinition raises this (every time)
        self.refuse_deregister: Exception | None = None
        self.describes = 0
        self.stopped_asks: list[str | None] = []
        self._poll = 0

    # -- EcsApi

    def registrable_keys(self) -> frozenset[str]:
        return self.allowed

    def describe_service(self, cluster: str, service: str) -> Service | None:
        self.describes += 1
        if not self.updates:
            return self.initial
        rollout = self.rollouts[len(self.updates) - 1]
        shown = rollout.polls[min(self._poll, len(rollout.polls) - 1)]
        self._poll += 1
        if isinstance(shown, Exception):
            raise shown
        return shown

    def describe_task_definition(self, task_definition: str) -> dict[str, Any]:
        """By ARN, by `family:revision`, or by family (its latest revision), as ECS reads it."""
        wanted = task_definition.rsplit("/", 1)[-1]
        family, _, revision = wanted.partition(":")
        known = [
            a for a in self.task_definitions if a.rsplit("/", 1)[-1].partition(":")[0] == family
        ]
        if revision:
            known = [a for a in known if a.rsplit(":", 1)[1] == revision]
        if not known:
            raise EcsApiError(
                f"ECS DescribeTaskDefinition {task_definition}: ClientException:"
                " Unable to describe task definition.",
                code="ClientException",
            )
        latest = max(known, key=lambda arn: int(arn.rsplit(":", 1)[1]))
        return copy.deepcopy(self.task_definitions[latest])

    def register_task_definition(self, request: Mapping[str, Any]) -> str:
        """A new revision of the request's family: one past its latest; tags kept beside it."""
        self.registered.append(copy.deepcopy(dict(request)))
        family = str(request["family"])
        revisions = [
            int(a.rsplit(":", 1)[1])
            for a in self.task_definitions
            if a.rsplit("/", 1)[-1].partition(":")[0] == family
        ]
        revision = max(revisions, default=0) + 1
        arn = f"{ARN.rsplit('/', 1)[0]}/{family}:{revision}"
        body = {k: copy.deepcopy(v) for k, v in request.items() if k != "tags"}
        td = {**body, "taskDefinitionArn": arn, "revision": revision, "status": "ACTIVE"}
        self.task_definitions[arn] = {
            "taskDefinition": td,
            "tags": copy.deepcopy(list(request.get("tags") or [])),
        }
        return arn

    def deregister_task_definition(self, task_definition: str) -> None:
        self.deregistered.append(task_definition)
        if self.refuse_deregister is not None:
            raise self.refuse_deregister
        self.task_definitions[task_definition]["taskDefinition"]["status"] = "INACTIVE"

    def active(self) -> list[str]:
        """The ARNs of the ACTIVE revisions, as ListTaskDefinitions would give them."""
        return sorted(
            a
            for a, td in self.task_definitions.items()
            if td["taskDefinition"]["status"] == "ACTIVE"
        )

    def update_service(
        self, cluster: str, service: str, task_definition: str, *, force_new_deployment: bool
    ) -> Service:
        self.updates.append((task_definition, force_new_deployment))
        if self.refuse_update is not None:
            raise self.refuse_update
        self._poll = 0
        if len(self.updates) > len(self.rollouts):
            raise AssertionError(f"unexpected UpdateService #{len(self.updates)}")
        return self.rollouts[len(self.updates) - 1].after_update

    def stopped_tasks(
        self, cluster: str, service: str, task_definition: str | None, limit: int
    ) -> tuple[StoppedTask, ...]:
        self.stopped_asks.append(task_definition)
        return tuple(t for t in self.stopped if t.task_definition == task_definition)[:limit]


def throttled() -> EcsApiError:
    return EcsApiError(
        "ECS DescribeServices prod/web: ThrottlingException: Rate exceeded",
        code="ThrottlingException",
        retryable=True,
    )


@dataclass
class FakeTiming:
    """A clock that moves only when slept; jitter takes the top of its range."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)
    jitters: list[tuple[float, float]] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.sleeps.append(seconds)
        self.now += seconds

    def jitter(self, low: float, high: float) -> float:
        self.jitters.append((low, high))
        return high

    def timing(self) -> Timing:
        return Timing(now=lambda: self.now, sleep=self.sleep, jitter=self.jitter)


class FakeLabels:
    def __init__(self, labels: Mapping[str, Mapping[str, str] | None] | None = None) -> None:
        self.by_image = dict(labels or {})
        self.asked: list[str] = []

    def labels(self, image: str) -> Mapping[str, str] | None:
        self.asked.append(image)
        return self.by_image.get(image)


class FakeAncestry:
    """`ancestor -> descendants` pairs; anything else is False, or None when `unknown`."""

    def __init__(self, pairs: Sequence[tuple[str, str]] = (), *, unknown: bool = False) -> None:
        self.pairs = set(pairs)
        self.unknown = unknown
        self.asked: list[tuple[str, str]] = []

    def is_ancestor(self, ancestor: str, descendant: str) -> bool | None:
        self.asked.append((ancestor, descendant))
        if (ancestor, descendant) in self.pairs:
            return True
        return None if self.unknown else False


class FakeCodeDeploy:
    def __init__(
        self,
        statuses: Sequence[CodeDeployStatus],
        *,
        extra: float = 0.0,
        after_stop: Sequence[CodeDeployStatus] = (),
    ) -> None:
        self.statuses = list(statuses)
        self.after_stop = list(after_stop)
        self.extra = extra
        self.created: list[dict[str, str]] = []
        self.stops: list[tuple[str, bool]] = []
        #: CreateDeployment raises this instead of creating one
        self.refuse: Exception | None = None
        self._poll = 0

    def extra_wait_seconds(self, application: str, group: str) -> float:
        return self.extra

    def create_deployment(
        self, application: str, group: str, appspec: str, sha256: str, description: str
    ) -> str:
        if self.refuse is not None:
            raise self.refuse
        self.created.append(
            {
                "application": application,
                "group": group,
                "appspec": appspec,
                "sha256": sha256,
                "description": description,
            }
        )
        return f"d-{len(self.created):08d}"

    def get_deployment(self, deployment_id: str) -> CodeDeployStatus:
        if deployment_id not in {f"d-{n:08d}" for n in range(1, len(self.created) + 1)}:
            # as CodeDeploy answers an id it never gave (the contract test checks it)
            raise EcsApiError(
                f"CodeDeploy GetDeployment {deployment_id}: DeploymentDoesNotExistException",
                code="DeploymentDoesNotExistException",
            )
        statuses = self.after_stop if self.stops and self.after_stop else self.statuses
        shown = statuses[min(self._poll, len(statuses) - 1)]
        self._poll += 1
        return shown

    def stop_deployment(self, deployment_id: str, *, auto_rollback: bool) -> None:
        self.stops.append((deployment_id, auto_rollback))
        self._poll = 0


def replace(value: Any, **changes: Any) -> Any:
    return dataclasses.replace(value, **changes)
