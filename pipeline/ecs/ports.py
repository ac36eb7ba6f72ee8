"""What the ECS deploy asks of the outside world, and the values it gets back.

The deploy core (taskdef, rollout, codedeploy, guard, deploy) talks only to
these Protocols; `pipeline/adapters/ecs.py` implements them with boto3 and the
tests with fakes. Task definitions stay plain dicts on purpose: they must
travel field for field, including fields this code has never heard of.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pipeline.errors import DeployError


class EcsApiError(DeployError):
    """An AWS call failed; names the operation and the resource, never a secret.

    `retryable`: throttling or a passing fault, worth another try later.
    """

    def __init__(self, message: str, *, code: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


# --------------------------------------------------------------------------- ECS values


@dataclass(frozen=True)
class EcsDeployment:
    """One entry of a service's `deployments`."""

    id: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    task_definition: str
    rollout_state: str | None = None  # IN_PROGRESS | COMPLETED | FAILED; absent behind a CLB
    rollout_state_reason: str = ""
    desired: int = 0
    running: int = 0
    pending: int = 0
    failed_tasks: int = 0


@dataclass(frozen=True)
class ServiceEvent:
    id: str
    message: str
    created_at: dt.datetime | None = None


@dataclass(frozen=True)
class LoadBalancer:
    container_name: str | None
    container_port: int | None
    target_group_arn: str | None = None


@dataclass(frozen=True)
class DeploymentSettings:
    """The service's deploymentConfiguration, as far as waiting is concerned."""

    strategy: str = "ROLLING"  # ROLLING | BLUE_GREEN | LINEAR | CANARY
    bake_minutes: int = 0
    step_percent: float | None = None  # LINEAR
    step_bake_minutes: int = 0  # LINEAR
    canary_bake_minutes: int = 0  # CANARY
    circuit_breaker: bool = False
    circuit_breaker_rollback: bool = False


@dataclass(frozen=True)
class Service:
    arn: str
    name: str
    cluster: str
    status: str  # ACTIVE | DRAINING | INACTIVE
    desired_count: int
    running_count: int
    task_definition: str | None
    controller: str = "ECS"  # ECS | CODE_DEPLOY | EXTERNAL
    deployments: tuple[EcsDeployment, ...] = ()
    events: tuple[ServiceEvent, ...] = ()  # newest first, as ECS lists them
    load_balancers: tuple[LoadBalancer, ...] = ()
    settings: DeploymentSettings = field(default_factory=DeploymentSettings)

    def deployment(self, deployment_id: str) -> EcsDeployment | None:
        return next((d for d in self.deployments if d.id == deployment_id), None)

    def primary(self) -> EcsDeployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)


@dataclass(frozen=True)
class StoppedTask:
    arn: str
    task_definition: str
    stopped_reason: str
    container_reasons: tuple[str, ...] = ()


class EcsApi(Protocol):
    def registrable_keys(self) -> frozenset[str]:
        """Top-level members of RegisterTaskDefinition's input, from the SDK's own model."""
        ...

    def describe_service(self, cluster: str, service: str) -> Service | None:
        """None when ECS answers MISSING."""
        ...

    def describe_task_definition(self, task_definition: str) -> dict[str, Any]:
        """DescribeTaskDefinition with include=TAGS: {"taskDefinition": {...}, "tags": [...]}."""
        ...

    def register_task_definition(self, request: Mapping[str, Any]) -> str:
        """Registers a revision; returns its ARN."""
        ...

    def deregister_task_definition(self, task_definition: str) -> None:
        """Marks a revision INACTIVE: what a deploy registered and could not start goes away."""
        ...

    def update_service(
        self, cluster: str, service: str, task_definition: str, *, force_new_deployment: bool
    ) -> Service: ...

    def stopped_tasks(
        self, cluster: str, service: str, task_definition: str | None, limit: int
    ) -> tuple[StoppedTask, ...]:
        """The service's most recently stopped tasks (of one task definition when given)."""
        ...


# --------------------------------------------------------------------------- CodeDeploy


@dataclass(frozen=True)
class CodeDeployStatus:
    status: str  # Created | Queued | InProgress | Baking | Ready | Succeeded | Failed | Stopped
    error_code: str = ""
    error_message: str = ""
    rollback_deployment_id: str | None = None
    rollback_message: str = ""


class CodeDeployApi(Protocol):
    def extra_wait_seconds(self, application: str, group: str) -> float:
        """Time a blue/green group spends by design (ready wait + blue termination wait)."""
        ...

    def create_deployment(
        self, application: str, group: str, appspec: str, sha256: str, description: str
    ) -> str: ...

    def get_deployment(self, deployment_id: str) -> CodeDeployStatus: ...

    def stop_deployment(self, deployment_id: str, *, auto_rollback: bool) -> None: ...


# --------------------------------------------------------------------------- time


def _uniform(low: float, high: float) -> float:
    return random.uniform(low, high)  # noqa: S311 - jitter, not a secret


@dataclass(frozen=True)
class Timing:
    """Time, sleep and jitter, injected so that no test waits for real."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = _uniform
