"""ECS deployments that move: the rollout emulation behind CreateService and UpdateService.

moto keeps one deployment per service that never moves (reference/
scan-gate-and-moto.md (c)). Here each service of the ECS deployment
controller gets deployments that progress with time, as ECS's do:

- A new task definition, or forceNewDeployment, starts a new PRIMARY
  deployment (a new id, rolloutState IN_PROGRESS); the previous ones turn
  ACTIVE. Its tasks start (pendingCount), run (runningCount), the old
  deployments' tasks stop and those deployments go (INACTIVE, no longer
  listed), the service reaches a steady state, and the rollout is COMPLETED
  `Timing.rollout` seconds after it began. Service events say each step as ECS
  words them. desiredCount 0 completes at once; a desiredCount change alone
  scales the PRIMARY deployment.
- BLUE_GREEN, LINEAR and CANARY (deploymentConfiguration.strategy): the old
  deployment leaves the list when traffic shifts, so the service looks stable
  (one deployment, running == desired), but the rollout stays IN_PROGRESS for
  bakeTimeInMinutes, scaled by `Timing.bake_per_minute` (default: a minute of
  bake is a second here); then the old tasks stop and it is COMPLETED. A
  service's first deployment has nothing to bake against. Traffic shifts at
  once: LINEAR and CANARY steps and lifecycle hooks are not emulated.
- `fail_next` (the control channel's "fail-next/ecs") makes the next rollout
  of a service fail: its tasks stop one after another (stoppedReason
  "Essential container in task exited" unless a reason is given), failedTasks
  counts them, and at the circuit breaker's threshold (half the desired
  count, within 3..200) the deployment is FAILED ("ECS deployment circuit
  breaker: tasks failed to start.") and ECS rolls back: the last COMPLETED
  deployment is PRIMARY again (IN_PROGRESS, then COMPLETED) on its task
  definition, and the failed one goes when that completes. The breaker is
  the service's deploymentCircuitBreaker: `rollback: false` leaves the
  FAILED deployment PRIMARY, and `enable: false` keeps failing tasks forever
  (a rollout that never ends). A service that sets no breaker is treated as
  enable + rollback, which is what the sandbox's `fail-next` promises. A
  desiredCount 0 rollout starts no task, so it completes and leaves
  `fail-next` armed.
- Tasks are listed (ListTasks by serviceName and desiredStatus, RUNNING by
  default as in ECS) and described; stopped ones keep their stoppedReason and
  stopCode, the last STOPPED_KEPT of each service.
- DeleteService drains (DRAINING, tasks stop), then the service is INACTIVE.

Progress happens in `tick()`, which the server calls from its own thread and
before every DescribeServices, with time from the injected `now`: tests move a
fake clock and tick, and never sleep.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pipeline.sandbox.channel import ActionError

ROLLOUT_ENV = "PIPELINE_SANDBOX_ECS_ROLLOUT_SECONDS"
BAKE_ENV = "PIPELINE_SANDBOX_ECS_BAKE_SECONDS_PER_MINUTE"
BAKING = ("BLUE_GREEN", "LINEAR", "CANARY")
DEFAULT_FAILURE = "Essential container in task exited"
FAILED_REASON = "ECS deployment circuit breaker: tasks failed to start."
STOPPED_KEPT = 100
MIN_FAILURE_INTERVAL = 0.1
EVENTS_KEPT = 100  # DescribeServices shows ECS's last 100 events
# Where in a rollout (as a share of Timing.rollout) tasks run and old ones stop.
_RUN_AT = 0.4
_SHIFT_AT = 0.7
_ROLLBACK_SHARE = 0.5


@dataclass(frozen=True)
class Timing:
    rollout: float = 2.0  # seconds from a deployment's start to COMPLETED
    bake_per_minute: float = 1.0  # seconds of sandbox time per minute of bake time

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Timing:
        env = os.environ if env is None else env
        values = {}
        for name, key in ((ROLLOUT_ENV, "rollout"), (BAKE_ENV, "bake_per_minute")):
            raw = env.get(name)
            if raw:
                try:
                    value = float(raw)
                except ValueError:
                    value = -1.0
                if not (math.isfinite(value) and 0 <= value <= 3600):
                    raise ValueError(f"{name}={raw!r}: expected seconds within 0..3600")
                values[key] = value
        return cls(**values)


class ServiceTask:
    """A task of a service, with the attributes moto's DescribeTasks serializes."""

    def __init__(self, service: Any, task_definition: Any, deployment: str, now: datetime) -> None:
        task_id = uuid.uuid4().hex
        region, account = service.region_name, service._account_id
        self.id = task_id
        self.task_arn = f"arn:aws:ecs:{region}:{account}:task/{service.cluster_name}/{task_id}"
        self.cluster_arn = service.cluster_arn
        self.task_definition_arn = task_definition.arn
        self.container_instance_arn = None
        self.resource_requirements = None
        self.started_by = deployment
        self.group = f"service:{service.name}"
        self.launch_type = service.launch_type
        self.platform_version = service.platform_version
        self.availability_zone = f"{region}a"
        self.last_status = "PENDING"
        self.desired_status = "RUNNING"
        self.health_status = "UNKNOWN"
        self.connectivity = "CONNECTED"
        self.created_at = now
        self.started_at: datetime | None = None
        self.stopping_at: datetime | None = None
        self.stopped_at: datetime | None = None
        self.execution_stopped_at: datetime | None = None
        self.stopped_reason: str | None = None
        self.stop_code: str | None = None
        self.cpu = task_definition.cpu
        self.memory = task_definition.memory
        self.version = 1
        self.tags: list[dict[str, str]] = []
        self.attachments: list[dict[str, Any]] = []
        self.overrides: dict[str, list[Any]] = {
            "containerOverrides": [],
            "inferenceAcceleratorOverrides": [],
        }
        self.containers = [
            {
                "containerArn": f"arn:aws:ecs:{region}:{account}:container/"
                f"{service.cluster_name}/{task_id}/{uuid.uuid4()}",
                "taskArn": self.task_arn,
                "name": definition.get("name"),
                "image": definition.get("image"),
                "lastStatus": "PENDING",
                "healthStatus": "UNKNOWN",
            }
            for definition in task_definition.container_definitions
        ]

    def advance(self) -> None:
        """moto's DescribeTasks moves its own tasks on; these move with the rollout."""

    def run(self, now: datetime) -> None:
        self.last_status = "RUNNING"
        self.started_at = now
        for container in self.containers:
            container["lastStatus"] = "RUNNING"

    def stop(self, now: datetime, reason: str, code: str, exit_code: int | None = 0) -> None:
        self.desired_status = self.last_status = "STOPPED"
        self.stopping_at = self.stopped_at = self.execution_stopped_at = now
        self.stopped_reason = reason
        self.stop_code = code
        for container in self.containers:
            container["lastStatus"] = "STOPPED"
            if exit_code is not None:
                container["exitCode"] = exit_code


@dataclass(eq=False)
class Deployment:
    id: str
    task_definition: Any  # moto's TaskDefinition
    desired: int
    created: datetime
    updated: datetime
    status: str = "PRIMARY"
    rollout: str = "IN_PROGRESS"
    reason: str = ""
    failed_tasks: int = 0
    failing: str | None = None  # the stoppedReason of its tasks, when they fail
    tasks: list[ServiceTask] = field(default_factory=list)  # not stopped yet

    @property
    def running(self) -> int:
        return sum(task.last_status == "RUNNING" for task in self.tasks)

    @property
    def pending(self) -> int:
        if self.failing and self.rollout == "IN_PROGRESS":
            return self.desired  # tasks keep being placed, and keep failing
        return sum(task.last_status == "PENDING" for task in self.tasks)

    def render(self, service: Any) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "taskDefinition": self.task_definition.arn,
            "desiredCount": self.desired,
            "pendingCount": self.pending,
            "runningCount": self.running,
            "failedTasks": self.failed_tasks,
            "createdAt": self.created,
            "updatedAt": self.updated,
            "launchType": service.launch_type,
            "platformVersion": service.platform_version,
            "platformFamily": "Linux" if service.launch_type == "FARGATE" else None,
            "networkConfiguration": service.network_configuration or None,
            "rolloutState": self.rollout,
            "rolloutStateReason": self.reason,
        }


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int  # steps due at the same time run in the order they were planned
    run: Callable[[], None] = field(compare=False)


class _Track:
    """One service's deployments, pending steps and recent stopped tasks."""

    def __init__(self, service: Any, config: dict[str, Any]) -> None:
        self.service = service
        self.config = config  # deploymentConfiguration as the user set it
        self.shown: list[Deployment] = []  # PRIMARY first
        self.baking: list[Deployment] = []  # replaced, not listed, tasks still up
        self.last_completed: Deployment | None = None
        self.fail_next: str | None = None
        self.steps: list[_Step] = []
        self.stopped: deque[ServiceTask] = deque()
        self.steady = False

    @property
    def primary(self) -> Deployment | None:
        return self.shown[0] if self.shown else None


class Rollouts:
    """Every ECS service of the sandbox's account and region, moving with time."""

    def __init__(
        self,
        backends: Mapping[str, Any] | None = None,
        account: str = "123456789012",
        region: str = "us-east-1",
        timing: Timing | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        if backends is None:
            from moto.ecs.models import ecs_backends

            backends = ecs_backends
        self._backends = backends
        self.account = account
        self.region = region
        self.timing = timing or Timing()
        self.now = now
        self.lock = threading.RLock()
        self._tracks: dict[tuple[str, str], _Track] = {}
        self._seq = itertools.count()
        self._step_time: datetime | None = None

    @property
    def backend(self) -> Any:
        return self._backends[self.account][self.region]

    # -- called by the patched API (aws_ecs.py) ---------------------------------------

    def created(self, service: Any, config: dict[str, Any] | None) -> None:
        """CreateService: the service's first deployment starts."""
        with self.lock:
            track = _Track(service, dict(config or {}))
            self._tracks[service.cluster_name, service.name] = track
            self._render_config(track)
            if (
                service.deployment_controller.get("type", "ECS") != "ECS"
                or not service.task_definition
            ):
                service.deployments = []
                return
            definition = self.backend.describe_task_definition(service.task_definition)
            self._start(track, definition, service.desired_count)
            self._render(track)

    def updated(
        self,
        service: Any,
        definition: Any | None,
        force: bool,
        desired: int | None,
        config: dict[str, Any] | None,
    ) -> None:
        """UpdateService, after its other fields were set: deploy, scale, or neither."""
        with self.lock:
            self._tick()
            track = self._track(service)
            if config is not None:
                track.config = {**track.config, **config}
                self._render_config(track)
            if desired is not None:
                service.desired_count = desired
            current = track.primary
            if definition is not None and (
                current is None or definition.arn != current.task_definition.arn
            ):
                self._start(track, definition, service.desired_count)
            elif force and current is not None:
                self._start(track, current.task_definition, service.desired_count)
            elif desired is not None and current is not None:
                self._scale(track, current, desired)
            self._render(track)

    def deleted(self, service: Any) -> None:
        """DeleteService: DRAINING while the tasks stop, then INACTIVE."""
        with self.lock:
            track = self._track(service)
            now = self._now()
            track.steps = []
            service.status = "DRAINING"
            for deployment in track.shown + track.baking:
                self._stop_tasks(track, deployment, now, "Service deleted")
            track.baking = []

            def inactive() -> None:
                service.status = "INACTIVE"
                self._tracks.pop((service.cluster_name, service.name), None)

            self._at(track, now + self._seconds(_ROLLBACK_SHARE), inactive)
            self._render(track)

    # -- the control channel ----------------------------------------------------------

    def fail_next(self, request: dict[str, Any]) -> dict[str, Any]:
        """ "fail-next/ecs": {"cluster", "service", "reason"?}."""
        cluster, name = request.get("cluster"), request.get("service")
        reason = request.get("reason") or DEFAULT_FAILURE
        if not all(isinstance(x, str) and x for x in (cluster, name, reason)):
            raise ActionError("fail-next/ecs needs a cluster and a service (names)")
        with self.lock:
            track = self._tracks.get((str(cluster), str(name)))
            if track is None or track.service.status != "ACTIVE":
                raise ActionError(
                    f"no active ECS service {name!r} in cluster {cluster!r} "
                    f"(account {self.account}, {self.region})"
                )
            if track.service.deployment_controller.get("type", "ECS") != "ECS":
                raise ActionError(
                    f"{cluster}/{name} uses the {track.service.deployment_controller['type']} "
                    "deployment controller: the sandbox rolls out ECS-controlled services only"
                )
            track.fail_next = str(reason)
        return {"cluster": cluster, "service": name, "reason": reason}

    # -- time ---------------------------------------------------------------------------

    def tick(self) -> None:
        """Run every step that is due; the server calls this from its own thread."""
        with self.lock:
            self._tick()

    def _tick(self) -> None:
        now = self.now()
        for track in list(self._tracks.values()):
            ran = False
            while track.steps and track.steps[0].at <= now:
                step = heapq.heappop(track.steps)
                # A step happens at its own time, however late the tick: a coarse
                # clock gives the same sequence, times and events as a fine one.
                self._step_time = step.at
                try:
                    step.run()
                finally:
                    self._step_time = None
                ran = True
            if ran:
                self._render(track)

    def _now(self) -> datetime:
        return self._step_time or self.now()

    # -- the rollout --------------------------------------------------------------------

    def _start(self, track: _Track, definition: Any, desired: int) -> None:
        now = self._now()
        service = track.service
        for old in track.shown:
            old.status = "ACTIVE"
            old.updated = now
        track.steps = []  # what was under way is replaced by this deployment
        deployment = Deployment(_deployment_id(), definition, desired, now, now)
        track.shown.insert(0, deployment)
        track.steady = False
        service.task_definition = definition.arn
        if desired == 0:
            self._shift(track, deployment)
            self._complete(track, deployment)
            return
        if track.fail_next is not None:
            deployment.failing, track.fail_next = track.fail_next, None
            self._at(
                track,
                now + self._failure_interval(deployment),
                lambda: self._failure(track, deployment),
            )
            return
        self._launch(track, deployment, now)
        self._at(track, now + self._seconds(_RUN_AT), lambda: self._run(track, deployment))
        shift = now + self._seconds(_SHIFT_AT)
        self._at(track, shift, lambda: self._shift(track, deployment))
        # A bake watches the new tasks beside the old ones: a first deployment has none.
        bake = self._bake(track) if len(track.shown) > 1 else timedelta(0)
        done = max(now + self._seconds(1.0), shift + bake)
        self._at(track, done, lambda: self._complete(track, deployment))

    def _launch(self, track: _Track, deployment: Deployment, now: datetime) -> None:
        missing = deployment.desired - len(deployment.tasks)
        if missing <= 0:
            return
        started = [
            ServiceTask(track.service, deployment.task_definition, deployment.id, now)
            for _ in range(missing)
        ]
        tasks = self.backend.tasks.setdefault(track.service.cluster_name, {})
        for task in started:
            tasks[task.task_arn] = task
        deployment.tasks.extend(started)
        deployment.updated = now
        self._event(track, f"has started {len(started)} tasks: {_names(started)}.")

    def _run(self, track: _Track, deployment: Deployment) -> None:
        now = self._now()
        self._launch(track, deployment, now)
        for task in deployment.tasks:
            if task.last_status == "PENDING":
                task.run(now)
        deployment.updated = now
        self._settle(track)

    def _shift(self, track: _Track, deployment: Deployment) -> None:
        """Traffic moves to `deployment`: the others go (their tasks stop, or bake)."""
        now = self._now()
        baking = self._bake(track) > timedelta(0)
        for old in [d for d in track.shown if d is not deployment]:
            track.shown.remove(old)
            old.status = "INACTIVE"
            old.updated = now
            if baking:
                track.baking.append(old)
            else:
                self._stop_tasks(
                    track, old, now, f"Scaling activity initiated by (deployment {deployment.id})"
                )
        self._settle(track)

    def _complete(self, track: _Track, deployment: Deployment) -> None:
        now = self._now()
        for old in track.baking:
            self._stop_tasks(
                track, old, now, f"Scaling activity initiated by (deployment {deployment.id})"
            )
        track.baking = []
        deployment.rollout = "COMPLETED"
        deployment.reason = f"ECS deployment {deployment.id} completed."
        deployment.updated = now
        track.last_completed = deployment
        self._settle(track)
        self._event(track, f"(deployment {deployment.id}) deployment completed.")

    def _scale(self, track: _Track, deployment: Deployment, desired: int) -> None:
        now = self._now()
        deployment.desired = desired
        deployment.updated = now
        track.steady = False
        if deployment.failing:
            return
        extra = len(deployment.tasks) - desired
        if extra > 0:
            gone = deployment.tasks[desired:]
            deployment.tasks = deployment.tasks[:desired]
            for task in gone:
                task.stop(
                    now,
                    f"Scaling activity initiated by (deployment {deployment.id})",
                    "ServiceSchedulerInitiated",
                )
                self._keep_stopped(track, task)
            self._event(track, f"has stopped {len(gone)} running tasks: {_names(gone)}.")
            self._settle(track)
        elif extra < 0:
            self._launch(track, deployment, now)
            self._at(
                track,
                now + self._seconds(_RUN_AT),
                lambda: self._run(track, deployment),
            )
        else:
            self._settle(track)

    # -- failing rollouts ---------------------------------------------------------------

    def _failure(self, track: _Track, deployment: Deployment) -> None:
        """One of the deployment's tasks fails; at the threshold the breaker decides."""
        now = self._now()
        task = ServiceTask(track.service, deployment.task_definition, deployment.id, now)
        self.backend.tasks.setdefault(track.service.cluster_name, {})[task.task_arn] = task
        self._event(track, f"has started 1 tasks: {_names([task])}.")
        reason = deployment.failing or DEFAULT_FAILURE
        exited = "Essential container" in reason
        if exited:
            task.run(now)
        task.stop(
            now,
            reason,
            "EssentialContainerExited" if exited else "TaskFailedToStart",
            1 if exited else None,
        )
        for container in task.containers:
            container["reason"] = reason
        self._keep_stopped(track, task)
        deployment.failed_tasks += 1
        deployment.updated = now
        breaker = track.config.get("deploymentCircuitBreaker")
        enabled = breaker is None or bool(breaker.get("enable"))
        if enabled and deployment.failed_tasks >= _threshold(deployment.desired):
            rollback = breaker is None or bool(breaker.get("rollback"))
            self._fail(track, deployment, rollback)
        else:
            self._at(
                track,
                now + self._failure_interval(deployment),
                lambda: self._failure(track, deployment),
            )

    def _fail(self, track: _Track, deployment: Deployment, rollback: bool) -> None:
        now = self._now()
        deployment.rollout = "FAILED"
        deployment.reason = FAILED_REASON
        deployment.updated = now
        self._event(
            track, f"(deployment {deployment.id}) deployment failed: tasks failed to start."
        )
        target = track.last_completed
        if not rollback or target is None or target is deployment:
            return
        deployment.status = "ACTIVE"
        if target in track.shown:
            track.shown.remove(target)
        track.shown.insert(0, target)
        target.status = "PRIMARY"
        target.rollout = "IN_PROGRESS"
        target.reason = f"ECS deployment circuit breaker: rolling back to deployment {target.id}."
        target.desired = track.service.desired_count
        target.updated = now
        track.service.task_definition = target.task_definition.arn
        self._event(track, f"rolling back to deployment {target.id}.")
        self._launch(track, target, now)

        def restored() -> None:
            self._run(track, target)
            self._shift(track, target)
            self._complete(track, target)

        self._at(track, now + self._seconds(_ROLLBACK_SHARE), restored)

    # -- the parts ----------------------------------------------------------------------

    def _stop_tasks(
        self, track: _Track, deployment: Deployment, now: datetime, reason: str
    ) -> None:
        gone, deployment.tasks = deployment.tasks, []
        if not gone:
            return
        for task in gone:
            task.stop(now, reason, "ServiceSchedulerInitiated")
            self._keep_stopped(track, task)
        self._event(track, f"has stopped {len(gone)} running tasks: {_names(gone)}.")

    def _keep_stopped(self, track: _Track, task: ServiceTask) -> None:
        track.stopped.append(task)
        while len(track.stopped) > STOPPED_KEPT:
            old = track.stopped.popleft()
            self.backend.tasks.get(track.service.cluster_name, {}).pop(old.task_arn, None)

    def _settle(self, track: _Track) -> None:
        """The steady-state event, once each time the service gets there."""
        primary = track.primary
        stable = (
            len(track.shown) == 1
            and primary is not None
            and primary.failing is None
            and primary.running == track.service.desired_count
            and primary.pending == 0
        )
        if stable and not track.steady:
            track.steady = True
            self._event(track, "has reached a steady state.")
        elif not stable:
            track.steady = False

    def _event(self, track: _Track, text: str) -> None:
        service = track.service
        event = {
            "id": str(uuid.uuid4()),
            "createdAt": self._now(),
            "message": f"(service {service.name}) {text}",
        }
        service.events.insert(0, event)
        del service.events[EVENTS_KEPT:]

    def _render(self, track: _Track) -> None:
        service = track.service
        service.deployments = [d.render(service) for d in track.shown]
        service.running_count = sum(d.running for d in track.shown)
        service.pending_count = sum(d.pending for d in track.shown)

    def _render_config(self, track: _Track) -> None:
        given = track.config
        track.service.deployment_configuration = {
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "strategy": "ROLLING",
            **given,
            "deploymentCircuitBreaker": {
                "enable": False,
                "rollback": False,
                **(given.get("deploymentCircuitBreaker") or {}),
            },
        }

    def _bake(self, track: _Track) -> timedelta:
        config = track.config
        if config.get("strategy") not in BAKING:
            return timedelta(0)
        minutes = config.get("bakeTimeInMinutes") or 0
        return timedelta(seconds=float(minutes) * self.timing.bake_per_minute)

    def _seconds(self, share: float) -> timedelta:
        return timedelta(seconds=self.timing.rollout * share)

    def _failure_interval(self, deployment: Deployment) -> timedelta:
        # A floor, so that a breaker that never trips cannot fail tasks in a busy loop.
        seconds = self.timing.rollout / _threshold(deployment.desired)
        return timedelta(seconds=max(seconds, MIN_FAILURE_INTERVAL))

    def _at(self, track: _Track, when: datetime, run: Callable[[], None]) -> None:
        heapq.heappush(track.steps, _Step(when, next(self._seq), run))

    def _track(self, service: Any) -> _Track:
        track = self._tracks.get((service.cluster_name, service.name))
        if track is None:  # created before the patch, or by CloudFormation
            track = _Track(service, {})
            self._tracks[service.cluster_name, service.name] = track
        return track


def _threshold(desired: int) -> int:
    """ECS's circuit breaker: half the desired count, at least 3 and at most 200."""
    return min(max(math.ceil(desired / 2), 3), 200)


def _deployment_id() -> str:
    return f"ecs-svc/{secrets.randbelow(10**19):019d}"


def _names(tasks: list[ServiceTask]) -> str:
    return " ".join(f"(task {task.id})" for task in tasks)
