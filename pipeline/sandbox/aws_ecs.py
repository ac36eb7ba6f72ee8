"""moto's ECS, patched: services roll out (rollouts.py), task definitions keep every field.

- CreateService / UpdateService / DeleteService go through Rollouts, and
  DescribeServices, ListTasks and DescribeTasks see its state as of now.
  UpdateService is ours entirely: moto's sets runningCount at once, keeps one
  deployment and ignores deploymentConfiguration. It refuses what ECS
  refuses: a service that is not ACTIVE (ServiceNotActiveException), an
  INACTIVE task definition, and a new task definition or forced deployment on
  a CODE_DEPLOY or EXTERNAL service.
- CreateService and UpdateService keep the service fields moto drops
  (deploymentConfiguration, placement, health-check grace period, ...): every
  request member that the Service shape also has; CreateService adds
  createdAt and createdBy, and takes an awsvpc configuration without
  securityGroups, as ECS does (moto fails on it).
- RegisterTaskDefinition keeps every member of its request as sent (moto
  drops enableFaultInjection and any member newer than itself), and the
  answer carries what ECS adds: registeredAt, registeredBy and
  requiresAttributes, so a client's allowlist of registrable fields is
  tested against what ECS really returns. DeregisterTaskDefinition sets
  deregisteredAt. As in ECS, container definitions come back with the
  defaults filled in (cpu 0, essential, empty portMappings, environment,
  mountPoints, volumesFrom).

Only calls in the sandbox's own account and region are changed.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from pipeline.sandbox import moto_patch
from pipeline.sandbox.rollouts import Rollouts, ServiceTask

# What ours handles itself, or moto handles well, among the service members.
_SERVICE_HANDLED = frozenset(
    (
        "cluster",
        "service",
        "serviceName",
        "taskDefinition",
        "desiredCount",
        "forceNewDeployment",
        "deploymentConfiguration",
        "tags",
        "role",
    )
)
_TASK_DEFINITION_HANDLED = frozenset(("family", "containerDefinitions", "tags"))


def patch_ecs(
    rollouts: Rollouts, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
) -> Callable[[], None]:
    """Route the service and task-definition calls through `rollouts`; returns the undo."""
    from moto.ecs.responses import EC2ContainerServiceResponse as ECSResponse

    patch = moto_patch.Patch(ECSResponse, _PATCHED)
    calls = _Calls(rollouts, now, patch.originals)
    return patch.install({name: _plain(getattr(calls, name)) for name in _PATCHED})


def _plain(method: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A plain function: moto calls the class's function by name on its response object
    (a bound method of `_Calls` put on the class would not get that object)."""

    def call(response: Any) -> Any:
        return method(response)

    return call


_PATCHED = (
    "create_service",
    "update_service",
    "describe_services",
    "delete_service",
    "list_tasks",
    "describe_tasks",
    "register_task_definition",
    "deregister_task_definition",
)


class _Calls:
    """The patched calls; each takes moto's response object (the request)."""

    def __init__(
        self, rollouts: Rollouts, now: Callable[[], datetime], originals: dict[str, Any]
    ) -> None:
        from moto.core.responses import ActionResult

        self.rollouts = rollouts
        self.now = now
        self.originals = originals
        self.error = moto_patch.error_type()
        self.result = ActionResult

    def _ours(self, response: Any) -> bool:
        return moto_patch.ours(response, self.rollouts.account, self.rollouts.region)

    def create_service(self, response: Any) -> Any:
        if not self._ours(response):
            return self.originals["create_service"](response)
        request = copy.deepcopy(_members(response, "CreateService"))
        # moto reads securityGroups unconditionally (a KeyError); ECS makes them optional.
        awsvpc = (response.params.get("networkConfiguration") or {}).get("awsvpcConfiguration")
        if isinstance(awsvpc, dict):
            awsvpc.setdefault("securityGroups", [])
        with self.rollouts.lock:
            answer = self.originals["create_service"](response)
            service = answer.result["service"]
            if "networkConfiguration" in request:
                service.network_configuration = request["networkConfiguration"]  # as sent
            service.created_at = self.now()
            service.created_by = f"arn:aws:iam::{self.rollouts.account}:root"
            _service_fields(service, request, only_missing=True)
            self.rollouts.created(service, request.get("deploymentConfiguration"))
            return self.result({"service": _snapshot(service)})

    def update_service(self, response: Any) -> Any:
        if not self._ours(response):
            return self.originals["update_service"](response)
        request = _members(response, "UpdateService")
        backend = self.rollouts.backend
        with self.rollouts.lock:
            service = backend._get_service(request.get("cluster", "default"), request["service"])
            if service.status != "ACTIVE":
                raise self.error("ServiceNotActiveException", "Service was not ACTIVE.")
            definition = None
            if "taskDefinition" in request:
                definition = backend.describe_task_definition(request["taskDefinition"])
                if definition.status != "ACTIVE":
                    raise self.error("ClientException", "TaskDefinition is inactive")
            force = bool(request.get("forceNewDeployment"))
            controller = (service.deployment_controller or {}).get("type", "ECS")
            if controller != "ECS" and (definition is not None or force):
                raise self.error("InvalidParameterException", _not_ecs(controller))
            desired = request.get("desiredCount")
            if desired is not None and desired < 0:
                raise self.error("InvalidParameterException", "desiredCount must be 0 or more.")
            _service_fields(service, request, only_missing=False)
            if controller == "ECS":
                config = request.get("deploymentConfiguration")
                self.rollouts.updated(service, definition, force, desired, config)
            elif desired is not None:
                service.desired_count = desired
            return self.result({"service": _snapshot(service)})

    def describe_services(self, response: Any) -> Any:
        if not self._ours(response):
            return self.originals["describe_services"](response)
        with self.rollouts.lock:
            self.rollouts.tick()
            result = self.originals["describe_services"](response).result
            return self.result({**result, "services": [_snapshot(s) for s in result["services"]]})

    def delete_service(self, response: Any) -> Any:
        if not self._ours(response):
            return self.originals["delete_service"](response)
        with self.rollouts.lock:
            service = self.originals["delete_service"](response).result["service"]
            self.rollouts.deleted(service)
            return self.result({"service": _snapshot(service)})

    def list_tasks(self, response: Any) -> Any:
        if not self._ours(response):
            return self.originals["list_tasks"](response)
        request = _members(response, "ListTasks")
        backend = self.rollouts.backend
        cluster = request.get("cluster", "default")
        with self.rollouts.lock:
            self.rollouts.tick()
            group = None
            if "serviceName" in request:
                group = f"service:{backend._get_service(cluster, request['serviceName']).name}"
            tasks = backend.list_tasks(
                cluster,
                request.get("containerInstance"),
                request.get("family"),
                request.get("startedBy"),
                None,
                request.get("desiredStatus", "RUNNING"),  # ECS's default filter
            )
            if group is not None:
                tasks = [t for t in tasks if getattr(t, "group", None) == group]
            return self.result({"taskArns": [t.task_arn for t in tasks]})

    def describe_tasks(self, response: Any) -> Any:
        if not self._ours(response):
            return self.originals["describe_tasks"](response)
        with self.rollouts.lock:
            self.rollouts.tick()
            result = self.originals["describe_tasks"](response).result
            return self.result({**result, "tasks": [_task_snapshot(t) for t in result["tasks"]]})

    def register_task_definition(self, response: Any) -> Any:
        from botocore import xform_name

        answer = self.originals["register_task_definition"](response)
        if not self._ours(response):
            return answer
        definition = answer.result["taskDefinition"]
        for key, value in _members(response, "RegisterTaskDefinition").items():
            if key not in _TASK_DEFINITION_HANDLED:
                setattr(definition, xform_name(key), copy.deepcopy(value))
        definition.registered_at = self.now()
        definition.registered_by = f"arn:aws:iam::{self.rollouts.account}:root"
        definition.requires_attributes = requirements(definition)
        return answer

    def deregister_task_definition(self, response: Any) -> Any:
        answer = self.originals["deregister_task_definition"](response)
        if self._ours(response):
            definition = answer.result["taskDefinition"]
            if getattr(definition, "deregistered_at", None) is None:
                definition.deregistered_at = self.now()
        return answer


def _members(response: Any, operation: str) -> dict[str, Any]:
    """The request's members that were given, by the operation's input shape."""
    shape = _model().operation_model(operation).input_shape
    given = {key: response._get_param(key) for key in shape.members}
    return {key: value for key, value in given.items() if value is not None}


def _service_fields(service: Any, request: dict[str, Any], only_missing: bool) -> None:
    """Copy the request's members that the Service shape has and moto dropped."""
    from botocore import xform_name

    known = _model().shape_for("Service").members
    for key, value in request.items():
        if key in _SERVICE_HANDLED or key not in known:
            continue
        attribute = xform_name(key)
        if only_missing and getattr(service, attribute, None) is not None:
            continue
        setattr(service, attribute, copy.deepcopy(value))


def _not_ecs(controller: str) -> str:
    then = (
        "Use AWS CodeDeploy to trigger a new deployment."
        if controller == "CODE_DEPLOY"
        else "Use an external deployment (task sets) instead."
    )
    return (
        f"Unable to update task definition on services with a {controller} deployment "
        f"controller. {then}"
    )


def requirements(definition: Any) -> list[dict[str, str]]:
    """requiresAttributes, as ECS derives them from what a task definition uses."""
    names = ["com.amazonaws.ecs.capability.docker-remote-api.1.18"]
    containers = definition.container_definitions or []

    def uses(key: str) -> bool:
        return any(c.get(key) for c in containers)

    drivers = {(c.get("logConfiguration") or {}).get("logDriver") for c in containers}
    if "awslogs" in drivers:
        names.append("com.amazonaws.ecs.capability.logging-driver.awslogs")
        if getattr(definition, "execution_role_arn", None):
            names.append("ecs.capability.execution-role-awslogs")
    if getattr(definition, "task_role_arn", None):
        names.append("com.amazonaws.ecs.capability.task-iam-role")
    sources = [s.get("valueFrom", "") for c in containers for s in c.get("secrets") or []]
    if any(":secretsmanager:" in source for source in sources):
        names.append("ecs.capability.secrets.asm.environment-variables")
    if any(":secretsmanager:" not in source for source in sources):
        names.append("ecs.capability.secrets.ssm.environment-variables")
    if uses("dependsOn"):
        names.append("ecs.capability.container-ordering")
    if uses("environmentFiles"):
        names.append("ecs.capability.env-files.s3")
    if uses("healthCheck"):
        names.append("ecs.capability.container-health-check")
    if getattr(definition, "network_mode", None) == "awsvpc":
        names.append("ecs.capability.task-eni")
    return [{"name": name} for name in names]


def _snapshot(service: Any) -> Any:
    """A copy to serialize outside the lock while the rollout thread moves on."""
    copied = copy.copy(service)
    copied.events = list(service.events)
    copied.deployments = list(service.deployments)
    return copied


def _task_snapshot(task: Any) -> Any:
    if not isinstance(task, ServiceTask):
        return task  # moto's own (RunTask): it holds its backend, so it is not copied
    copied = copy.copy(task)
    copied.containers = [dict(container) for container in task.containers]
    return copied


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("ecs")
