"""CODE_DEPLOY services: the AppSpec names the new revision, the deployment is followed.

Scenario 23 of reference/auth-push-deploy.md.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from pipeline.ecs import codedeploy
from pipeline.ecs.codedeploy import AppSpecError
from pipeline.ecs.ports import CodeDeployStatus, LoadBalancer
from pipeline.ecs.rollout import Phase
from tests.unit.ecs.fakes import TD2, FakeCodeDeploy, FakeTiming

LB = (LoadBalancer("app", 8080, "arn:aws:elasticloadbalancing:tg/blue"),)


def test_generated_appspec_points_at_the_revision_and_the_service_load_balancer() -> None:
    spec = json.loads(codedeploy.appspec(TD2, LB))
    assert spec == {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": TD2,
                        "LoadBalancerInfo": {"ContainerName": "app", "ContainerPort": 8080},
                    },
                }
            }
        ],
    }


def test_no_load_balancer_is_a_clear_error() -> None:
    with pytest.raises(AppSpecError, match="no load balancer"):
        codedeploy.appspec(TD2, (LoadBalancer(None, None, "arn:tg"),))


USER_SPEC = """\
version: 0.0
resources:
  - targetservice:
      type: AWS::ECS::Service
      properties:
        taskdefinition: "<TASK_DEFINITION>"
        loadbalancerinfo:
          containername: "web"
          containerport: 80
        PlatformVersion: "1.4.0"
hooks:
  - BeforeAllowTraffic: "arn:aws:lambda:us-east-1:1:function:smoke"
"""


def test_user_appspec_any_case_keeps_everything_but_the_task_definition() -> None:
    spec = yaml.safe_load(codedeploy.appspec(TD2, LB, USER_SPEC))
    props = spec["resources"][0]["targetservice"]["properties"]
    assert props["taskdefinition"] == TD2
    assert "TaskDefinition" not in props, "the existing key is replaced, not doubled"
    assert props["loadbalancerinfo"] == {"containername": "web", "containerport": 80}
    assert props["PlatformVersion"] == "1.4.0"
    assert spec["hooks"] == [{"BeforeAllowTraffic": "arn:aws:lambda:us-east-1:1:function:smoke"}]


def test_user_appspec_without_load_balancer_info_gets_the_service_one() -> None:
    spec = yaml.safe_load(
        codedeploy.appspec(
            TD2, LB, '{"Resources": [{"S": {"Type": "AWS::ECS::Service", "Properties": {}}}]}'
        )
    )
    props = spec["Resources"][0]["S"]["Properties"]
    assert props == {
        "TaskDefinition": TD2,
        "LoadBalancerInfo": {"ContainerName": "app", "ContainerPort": 8080},
    }


@pytest.mark.parametrize(
    "text", ["version: 0.0\n", "resources: []\n", ": : :\n  - [", "Resources: [{S: {Type: x}}]"]
)
def test_an_appspec_with_nothing_to_point_is_an_error(text: str) -> None:
    with pytest.raises(AppSpecError):
        codedeploy.appspec(TD2, LB, text)


def test_the_sha256_is_of_the_content() -> None:
    content = codedeploy.appspec(TD2, LB)
    assert codedeploy.content_sha256(content) == hashlib.sha256(content.encode()).hexdigest()


def test_default_names_are_the_console_ones() -> None:
    assert codedeploy.default_names("prod", "web") == ("AppECS-prod-web", "DgpECS-prod-web")


S = CodeDeployStatus


@pytest.mark.parametrize(
    ("statuses", "phase", "says"),
    [
        ([S("Created"), S("InProgress"), S("Succeeded")], Phase.COMPLETED, "Succeeded"),
        ([S("InProgress"), S("Ready"), S("Baking"), S("Succeeded")], Phase.COMPLETED, ""),
        (
            [S("InProgress"), S("Failed", "HEALTH_CONSTRAINTS", "too many unhealthy")],
            Phase.FAILED,
            "Failed: HEALTH_CONSTRAINTS too many unhealthy",
        ),
        (
            [S("Failed", "ALARM_ACTIVE", "alarm", "d-ROLLBACK", "rolled back")],
            Phase.ROLLED_BACK,
            "rolled back by deployment d-ROLLBACK",
        ),
        ([S("Stopped", "MANUAL_STOP", "stopped by user")], Phase.FAILED, "Stopped"),
        ([S("InProgress")], Phase.TIMED_OUT, "still InProgress after 60s"),
    ],
)
def test_follow_to_succeeded_failed_or_stopped(
    statuses: list[CodeDeployStatus], phase: Phase, says: str
) -> None:
    api = FakeCodeDeploy(statuses)
    deployment = api.create_deployment("app", "grp", "{}", "0" * 64, "test")
    clock = FakeTiming()
    outcome = codedeploy.follow(
        api, deployment, seconds=60, timing=clock.timing(), say=lambda _l: None, label="prod/web"
    )
    assert outcome.phase is phase, outcome.reason
    assert says in outcome.reason
    assert all(s <= 2.0 for s in clock.sleeps)
