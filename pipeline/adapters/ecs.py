"""Amazon ECS and CodeDeploy through boto3, behind the ports of pipeline/ecs/ports.py.

The clients make one attempt per call (botocore's own retries are off): the
deploy's policy retries throttling with jitter against its own deadline
(pipeline/ecs/waiting.py), so two retry loops never multiply. Vendor errors
become `EcsApiError`s that name the operation and the resource; parameter
values never reach a message. With `dry_run`, the mutating calls say what they
would do and change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pipeline import log
from pipeline.adapters import aws_errors
from pipeline.ecs.ports import (
    CodeDeployStatus,
    DeploymentSettings,
    EcsApiError,
    EcsDeployment,
    LoadBalancer,
    Service,
    ServiceEvent,
    StoppedTask,
)

T = TypeVar("T")
LineSink = Callable[[str], None]

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)
# botocore's ParamValidationError quotes the offending value; values may be secrets.
_VALUE = re.compile(r"value: .*?, type:", re.DOTALL)


def _info(line: str) -> None:
    log.LOG.info("%s", line)


def make_client(service: str, region: str | None) -> Any:
    """A boto3 client that tries each call once; AWS_ENDPOINT_URL (the sandbox) applies."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        region_name=region,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=10,
            read_timeout=60,
        ),
    )


def _call(what: str, operation: Callable[[], T]) -> T:
    from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

    try:
        return operation()
    except ClientError as err:
        error = err.response.get("Error", {})
        code = aws_errors.error_code(err)
        service = "codedeploy" if what.startswith("CodeDeploy") else "ecs"
        refused = aws_errors.refusal(err, service)
        message = log.redact(str(error.get("Message", "")))
        said = refused or (f"{code}: {message}" if message else code)
        text = f"{what}: {said}"
        raise EcsApiError(text, code=code, retryable=code in RETRYABLE_CODES) from None
    except ParamValidationError as err:
        text = log.redact(_VALUE.sub("value: (hidden), type:", str(err)))
        raise EcsApiError(f"{what}: {text}", code="ParamValidation") from None
    except BotoCoreError as err:
        # connection resets, timeouts, endpoint errors: worth another try
        text = log.redact(str(err))
        raise EcsApiError(f"{what}: {text}", code=type(err).__name__, retryable=True) from None


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def parse_service(raw: Mapping[str, Any], cluster: str) -> Service:
    deployments = tuple(
        EcsDeployment(
            id=str(d.get("id", "")),
            status=str(d.get("status", "")),
            task_definition=str(d.get("taskDefinition", "")),
            rollout_state=d.get("rolloutState"),
            rollout_state_reason=str(d.get("rolloutStateReason", "")),
            desired=_int(d.get("desiredCount")),
            running=_int(d.get("runningCount")),
            pending=_int(d.get("pendingCount")),
            failed_tasks=_int(d.get("failedTasks")),
        )
        for d in raw.get("deployments") or ()
    )
    config = raw.get("deploymentConfiguration") or {}
    breaker = config.get("deploymentCircuitBreaker") or {}
    linear = config.get("linearConfiguration") or {}
    canary = config.get("canaryConfiguration") or {}
    settings = DeploymentSettings(
        strategy=str(config.get("strategy") or "ROLLING"),
        bake_minutes=_int(config.get("bakeTimeInMinutes")),
        step_percent=linear.get("stepPercent"),
        step_bake_minutes=_int(linear.get("stepBakeTimeInMinutes")),
        canary_bake_minutes=_int(canary.get("canaryBakeTimeInMinutes")),
        circuit_breaker=bool(breaker.get("enable")),
        circuit_breaker_rollback=bool(breaker.get("rollback")),
    )
    primary_set = next((s for s in raw.get("taskSets") or () if s.get("status") == "PRIMARY"), None)
    primary = next((d for d in deployments if d.status == "PRIMARY"), None)
    task_definition = (
        raw.get("taskDefinition")
        or (primary_set or {}).get("taskDefinition")
        or (primary.task_definition if primary else None)
    )
    return Service(
        arn=str(raw.get("serviceArn", "")),
        name=str(raw.get("serviceName", "")),
        cluster=cluster,
        status=str(raw.get("status", "")),
        desired_count=_int(raw.get("desiredCount")),
        running_count=_int(raw.get("runningCount")),
        task_definition=str(task_definition) if task_definition else None,
        controller=str((raw.get("deploymentController") or {}).get("type") or "ECS"),
        deployments=deployments,
        events=tuple(
            ServiceEvent(str(e.get("id", "")), str(e.get("message", "")), e.get("createdAt"))
            for e in raw.get("events") or ()
        ),
        load_balancers=tuple(
            LoadBalancer(
                b.get("containerName"),
                _int(b.get("containerPort")) or None,
                b.get("targetGroupArn"),
            )
            for b in raw.get("loadBalancers") or ()
        ),
        settings=settings,
    )


def _stopped_task(raw: Mapping[str, Any]) -> StoppedTask:
    task_reason = str(raw.get("stoppedReason") or raw.get("stopCode") or "")
    reasons = []
    for c in raw.get("containers") or ():
        # ECS often repeats the task's reason on every container: say it once
        why = c.get("reason") or ""
        why = "" if why == task_reason else why
        if c.get("exitCode") not in (None, 0):
            why = f"exit code {c['exitCode']}" + (f", {why}" if why else "")
        if why:
            reasons.append(f"{c.get('name')}: {why}")
    return StoppedTask(
        arn=str(raw.get("taskArn", "")),
        task_definition=str(raw.get("taskDefinitionArn", "")),
        stopped_reason=task_reason,
        container_reasons=tuple(reasons),
    )


class BotoEcs:
    """The EcsApi port over an injected boto3 ECS client."""

    def __init__(self, client: Any, *, dry_run: bool = False, say: LineSink = _info) -> None:
        self._ecs = client
        self.dry_run = dry_run
        self._say = say

    def registrable_keys(self) -> frozenset[str]:
        shape = self._ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape
        return frozenset(shape.members)

    def describe_service(self, cluster: str, service: str) -> Service | None:
        what = f"ECS DescribeServices {cluster}/{service}"
        answer = _call(
            what, lambda: self._ecs.describe_services(cluster=cluster, services=[service])
        )
        for failure in answer.get("failures") or ():
            if failure.get("reason") == "MISSING":
                return None
            raise EcsApiError(
                f"{what}: {failure.get('reason')} {failure.get('detail', '')}".strip()
            )
        services = answer.get("services") or []
        if not services:
            return None
        return parse_service(services[0], cluster)

    def describe_task_definition(self, task_definition: str) -> dict[str, Any]:
        answer = _call(
            f"ECS DescribeTaskDefinition {task_definition}",
            lambda: self._ecs.describe_task_definition(
                taskDefinition=task_definition, include=["TAGS"]
            ),
        )
        out: dict[str, Any] = {"taskDefinition": answer["taskDefinition"]}
        if "tags" in answer:
            out["tags"] = answer["tags"]
        return out

    def register_task_definition(self, request: Mapping[str, Any]) -> str:
        family = str(request.get("family", ""))
        if self.dry_run:
            images = ", ".join(
                f"{c.get('name')}={c.get('image')}" for c in request.get("containerDefinitions", ())
            )
            self._say(f"dry-run: would register a revision of task definition {family} ({images})")
            return f"{family}:(dry-run)"
        answer = _call(
            f"ECS RegisterTaskDefinition {family}",
            lambda: self._ecs.register_task_definition(**request),
        )
        return str(answer["taskDefinition"]["taskDefinitionArn"])

    def deregister_task_definition(self, task_definition: str) -> None:
        if self.dry_run:
            self._say(f"dry-run: would deregister task definition {task_definition}")
            return
        _call(
            f"ECS DeregisterTaskDefinition {task_definition}",
            lambda: self._ecs.deregister_task_definition(taskDefinition=task_definition),
        )

    def update_service(
        self, cluster: str, service: str, task_definition: str, *, force_new_deployment: bool
    ) -> Service:
        if self.dry_run:
            forced = " with forceNewDeployment" if force_new_deployment else ""
            self._say(
                f"dry-run: would update service {cluster}/{service} to {task_definition}{forced}"
            )
            current = self.describe_service(cluster, service)
            if current is None:
                raise EcsApiError(f"ECS UpdateService {cluster}/{service}: service not found")
            return current
        answer = _call(
            f"ECS UpdateService {cluster}/{service}",
            lambda: self._ecs.update_service(
                cluster=cluster,
                service=service,
                taskDefinition=task_definition,
                forceNewDeployment=force_new_deployment,
            ),
        )
        return parse_service(answer["service"], cluster)

    def stopped_tasks(
        self, cluster: str, service: str, task_definition: str | None, limit: int
    ) -> tuple[StoppedTask, ...]:
        arns = _call(
            f"ECS ListTasks {cluster}/{service}",
            lambda: self._ecs.list_tasks(
                cluster=cluster, serviceName=service, desiredStatus="STOPPED", maxResults=100
            ),
        ).get("taskArns", [])
        if not arns:
            return ()
        tasks = _call(
            f"ECS DescribeTasks {cluster}/{service}",
            lambda: self._ecs.describe_tasks(cluster=cluster, tasks=arns[:100]),
        ).get("tasks", [])
        if task_definition:
            tasks = [t for t in tasks if t.get("taskDefinitionArn") == task_definition]
        tasks.sort(key=lambda t: str(t.get("stoppedAt") or ""), reverse=True)
        return tuple(_stopped_task(t) for t in tasks[:limit])


class BotoCodeDeploy:
    """The CodeDeployApi port over an injected boto3 CodeDeploy client."""

    def __init__(self, client: Any, *, dry_run: bool = False, say: LineSink = _info) -> None:
        self._cd = client
        self.dry_run = dry_run
        self._say = say

    def extra_wait_seconds(self, application: str, group: str) -> float:
        info = _call(
            f"CodeDeploy GetDeploymentGroup {application}/{group}",
            lambda: self._cd.get_deployment_group(
                applicationName=application, deploymentGroupName=group
            ),
        ).get("deploymentGroupInfo", {})
        blue_green = info.get("blueGreenDeploymentConfiguration") or {}
        ready = (blue_green.get("deploymentReadyOption") or {}).get("waitTimeInMinutes")
        blue = (blue_green.get("terminateBlueInstancesOnDeploymentSuccess") or {}).get(
            "terminationWaitTimeInMinutes"
        )
        return 60.0 * (_int(ready) + _int(blue))

    def create_deployment(
        self, application: str, group: str, appspec: str, sha256: str, description: str
    ) -> str:
        if self.dry_run:
            self._say(f"dry-run: would create a CodeDeploy deployment in {application}/{group}")
            return "(dry-run)"
        answer = _call(
            f"CodeDeploy CreateDeployment {application}/{group}",
            lambda: self._cd.create_deployment(
                applicationName=application,
                deploymentGroupName=group,
                description=description,
                revision={
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {"content": appspec, "sha256": sha256},
                },
            ),
        )
        return str(answer["deploymentId"])

    def get_deployment(self, deployment_id: str) -> CodeDeployStatus:
        info = _call(
            f"CodeDeploy GetDeployment {deployment_id}",
            lambda: self._cd.get_deployment(deploymentId=deployment_id),
        ).get("deploymentInfo", {})
        error = info.get("errorInformation") or {}
        rollback = info.get("rollbackInfo") or {}
        return CodeDeployStatus(
            status=str(info.get("status", "")),
            error_code=str(error.get("code", "")),
            error_message=str(error.get("message", "")),
            rollback_deployment_id=rollback.get("rollbackDeploymentId"),
            rollback_message=str(rollback.get("rollbackMessage", "")),
        )

    def stop_deployment(self, deployment_id: str, *, auto_rollback: bool) -> None:
        if self.dry_run:
            self._say(f"dry-run: would stop CodeDeploy deployment {deployment_id}")
            return
        _call(
            f"CodeDeploy StopDeployment {deployment_id}",
            lambda: self._cd.stop_deployment(
                deploymentId=deployment_id, autoRollbackEnabled=auto_rollback
            ),
        )
