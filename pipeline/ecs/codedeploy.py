"""Services whose deployment controller is CODE_DEPLOY: an AppSpec and a followed deployment.

ECS refuses UpdateService(taskDefinition) on such services; the new revision
reaches them through a CodeDeploy deployment whose AppSpec names it. We build
the AppSpec from the service's own load balancer (container name and port),
or take the user's and replace only its TaskDefinition, finding the keys in
any case as CodeDeploy does (reference/auth-push-deploy.md B6, scenario 23).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from pipeline import poll
from pipeline.ecs.ports import CodeDeployApi, CodeDeployStatus, LoadBalancer, Timing
from pipeline.ecs.rollout import Outcome, Phase
from pipeline.ecs.waiting import poll_interval, retrying
from pipeline.errors import DeployError
from pipeline.poll import Deadline

LineSink = Callable[[str], None]

DONE = {"Succeeded", "Failed", "Stopped"}
DESCRIPTION_LIMIT = 512  # CreateDeployment's limit


class AppSpecError(DeployError):
    """The AppSpec cannot be built or does not name an ECS service."""


def default_names(cluster: str, service: str) -> tuple[str, str]:
    """The application and deployment group names the ECS console creates."""
    return f"AppECS-{cluster}-{service}", f"DgpECS-{cluster}-{service}"


def _key(mapping: Mapping[str, Any], name: str) -> str | None:
    return next((k for k in mapping if isinstance(k, str) and k.lower() == name.lower()), None)


def appspec(
    task_definition: str,
    load_balancers: tuple[LoadBalancer, ...],
    base: str | None = None,
) -> str:
    """AppSpec content (JSON, which CodeDeploy reads as YAML) naming `task_definition`.

    With `base` (the user's AppSpec, YAML or JSON), every ECS service resource's
    TaskDefinition is replaced and everything else (hooks, platform version,
    network configuration) is kept; a missing LoadBalancerInfo is filled from
    the service.
    """
    lb = next((b for b in load_balancers if b.container_name and b.container_port), None)
    if base is None:
        if lb is None:
            raise AppSpecError(
                "the service has no load balancer with a container name and port, which a"
                " CodeDeploy blue/green deployment needs"
            )
        spec: Any = {
            "version": 0.0,
            "Resources": [
                {
                    "TargetService": {
                        "Type": "AWS::ECS::Service",
                        "Properties": {
                            "TaskDefinition": task_definition,
                            "LoadBalancerInfo": {
                                "ContainerName": lb.container_name,
                                "ContainerPort": lb.container_port,
                            },
                        },
                    }
                }
            ],
        }
        return json.dumps(spec, indent=2) + "\n"
    try:
        spec = yaml.safe_load(base)
    except yaml.YAMLError as err:
        raise AppSpecError(f"the AppSpec is not YAML or JSON: {err}") from None
    resources = spec.get(_key(spec, "Resources") or "Resources") if isinstance(spec, dict) else None
    if not isinstance(resources, list) or not resources:
        raise AppSpecError("the AppSpec has no Resources list")
    replaced = 0
    for entry in resources:
        for resource in entry.values() if isinstance(entry, dict) else ():
            props_key = _key(resource, "Properties") if isinstance(resource, dict) else None
            if props_key is None or not isinstance(resource[props_key], dict):
                continue
            props = resource[props_key]
            props[_key(props, "TaskDefinition") or "TaskDefinition"] = task_definition
            if _key(props, "LoadBalancerInfo") is None and lb is not None:
                props["LoadBalancerInfo"] = {
                    "ContainerName": lb.container_name,
                    "ContainerPort": lb.container_port,
                }
            replaced += 1
    if not replaced:
        raise AppSpecError("the AppSpec has no resource with Properties to put the task in")
    return json.dumps(spec, indent=2, default=str) + "\n"


def content_sha256(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _phase(status: str, rolled_back: bool) -> Phase:
    if status == "Succeeded":
        return Phase.COMPLETED
    if status in ("Failed", "Stopped"):
        return Phase.ROLLED_BACK if rolled_back else Phase.FAILED
    return Phase.WAITING


def follow(
    api: CodeDeployApi,
    deployment_id: str,
    *,
    seconds: float,
    timing: Timing,
    say: LineSink,
    label: str,
) -> Outcome:
    """Poll GetDeployment until Succeeded, Failed or Stopped, or `seconds` have passed."""
    last = ""

    def look(deadline: Deadline) -> CodeDeployStatus:
        nonlocal last
        state = retrying(
            lambda: api.get_deployment(deployment_id),
            what=f"CodeDeploy GetDeployment {deployment_id}",
            timing=timing,
            deadline=deadline,
        )
        if state.status != last:
            say(f"{label}: CodeDeploy deployment {deployment_id}: {state.status}")
            last = state.status
        return state

    polled = poll.until(
        look,
        lambda state: _phase(state.status, bool(state.rollback_deployment_id)).done,
        seconds=seconds,
        now=timing.now,
        sleep=timing.sleep,
        interval=poll_interval,
    )
    state = polled.answer
    if polled.timed_out:
        return Outcome(
            Phase.TIMED_OUT,
            f"CodeDeploy deployment {deployment_id} still {state.status} after {seconds:g}s",
            None,
        )
    reason = f"CodeDeploy deployment {deployment_id} {state.status}"
    if state.error_code or state.error_message:
        reason += f": {state.error_code} {state.error_message}".rstrip()
    if state.rollback_deployment_id:
        reason += (
            f"; rolled back by deployment {state.rollback_deployment_id}"
            f" {state.rollback_message}".rstrip()
        )
    return Outcome(_phase(state.status, bool(state.rollback_deployment_id)), reason, None)
