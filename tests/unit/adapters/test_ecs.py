"""The boto3 adapter: what it sends, how it reads answers, how errors and dry-run look.

Real boto3 clients with botocore's Stubber: requests are checked against the
real service model, and nothing leaves the process.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from pipeline import log
from pipeline.adapters.ecs import BotoCodeDeploy, BotoEcs, make_client
from pipeline.ecs.ports import EcsApiError

SERVICE = {
    "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
    "serviceName": "web",
    "status": "ACTIVE",
    "desiredCount": 2,
    "runningCount": 2,
    "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
    "deploymentController": {"type": "ECS"},
    "deploymentConfiguration": {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "strategy": "LINEAR",
        "bakeTimeInMinutes": 5,
        "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2},
    },
    "deployments": [
        {
            "id": "ecs-svc/1",
            "status": "PRIMARY",
            "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
            "desiredCount": 2,
            "runningCount": 1,
            "pendingCount": 1,
            "failedTasks": 3,
            "rolloutState": "IN_PROGRESS",
            "rolloutStateReason": "ECS deployment ecs-svc/1 in progress.",
        }
    ],
    "events": [
        {"id": "e1", "createdAt": dt.datetime(2026, 1, 1), "message": "(service web) started"}
    ],
    "loadBalancers": [{"targetGroupArn": "arn:tg", "containerName": "app", "containerPort": 8080}],
}


def client(name: str) -> Any:
    return boto3.client(
        name,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def ecs() -> Any:
    made = client("ecs")
    with Stubber(made) as stub:
        made.stub = stub
        yield made
        stub.assert_no_pending_responses()


def test_describe_service_reads_deployments_settings_events_and_load_balancers(ecs: Any) -> None:
    ecs.stub.add_response(
        "describe_services",
        {"services": [SERVICE], "failures": []},
        {"cluster": "prod", "services": ["web"]},
    )
    service = BotoEcs(ecs).describe_service("prod", "web")
    assert service is not None
    (d,) = service.deployments
    assert (d.id, d.rollout_state, d.running, d.pending, d.failed_tasks) == (
        "ecs-svc/1",
        "IN_PROGRESS",
        1,
        1,
        3,
    )
    assert service.settings.strategy == "LINEAR"
    assert (service.settings.bake_minutes, service.settings.step_percent) == (5, 25.0)
    assert service.settings.circuit_breaker_rollback
    assert service.events[0].message == "(service web) started"
    assert service.load_balancers[0].container_port == 8080
    assert service.controller == "ECS"


def test_missing_service_is_none_other_failures_are_errors(ecs: Any) -> None:
    arn = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
    ecs.stub.add_response(
        "describe_services", {"services": [], "failures": [{"arn": arn, "reason": "MISSING"}]}
    )
    ecs.stub.add_response(
        "describe_services",
        {"services": [], "failures": [{"arn": arn, "reason": "INACTIVE_CLUSTER"}]},
    )
    api = BotoEcs(ecs)
    assert api.describe_service("prod", "web") is None
    with pytest.raises(EcsApiError, match="ECS DescribeServices prod/web: INACTIVE_CLUSTER"):
        api.describe_service("prod", "web")


def test_the_allowlist_comes_from_the_service_model(ecs: Any) -> None:
    keys = BotoEcs(ecs).registrable_keys()
    assert {"family", "containerDefinitions", "tags", "runtimePlatform"} <= keys
    assert not {"revision", "status", "registeredAt", "compatibilities"} & keys


def test_describe_task_definition_asks_for_tags(ecs: Any) -> None:
    task = {"family": "web", "containerDefinitions": [{"name": "app", "image": "x"}]}
    ecs.stub.add_response(
        "describe_task_definition",
        {"taskDefinition": task, "tags": [{"key": "a", "value": ""}]},
        {"taskDefinition": "web:1", "include": ["TAGS"]},
    )
    assert BotoEcs(ecs).describe_task_definition("web:1") == {
        "taskDefinition": task,
        "tags": [{"key": "a", "value": ""}],
    }


def test_register_and_update_send_exactly_the_request(ecs: Any) -> None:
    request = {
        "family": "web",
        "containerDefinitions": [
            {
                "name": "app",
                "image": "r@sha256:" + "a" * 64,
                "environment": [{"name": "E", "value": ""}],
            }
        ],
        "tags": [],
    }
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2"
    ecs.stub.add_response(
        "register_task_definition", {"taskDefinition": {"taskDefinitionArn": arn}}, request
    )
    ecs.stub.add_response(
        "update_service",
        {"service": SERVICE},
        {"cluster": "prod", "service": "web", "taskDefinition": arn, "forceNewDeployment": True},
    )
    api = BotoEcs(ecs)
    assert api.register_task_definition(request) == arn
    assert api.update_service("prod", "web", arn, force_new_deployment=True).name == "web"


def test_stopped_tasks_of_one_revision_newest_first(ecs: Any) -> None:
    ecs.stub.add_response(
        "list_tasks",
        {"taskArns": ["arn:t/1", "arn:t/2", "arn:t/3"]},
        {"cluster": "prod", "serviceName": "web", "desiredStatus": "STOPPED", "maxResults": 100},
    )

    def task(n: int, td: str, when: int, **extra: Any) -> dict[str, Any]:
        return {
            "taskArn": f"arn:t/{n}",
            "taskDefinitionArn": td,
            "stoppedAt": dt.datetime(2026, 1, when),
            **extra,
        }

    ecs.stub.add_response(
        "describe_tasks",
        {
            "tasks": [
                task(
                    1,
                    "td:2",
                    1,
                    stoppedReason="Essential container in task exited",
                    containers=[
                        {"name": "app", "exitCode": 137, "reason": "OutOfMemoryError"},
                        {"name": "envoy", "reason": "Essential container in task exited"},
                        {
                            "name": "log",
                            "exitCode": 1,
                            "reason": "Essential container in task exited",
                        },
                    ],
                ),
                task(2, "td:1", 3, stoppedReason="Scaling activity"),
                task(
                    3,
                    "td:2",
                    2,
                    stopCode="TaskFailedToStart",
                    containers=[{"name": "app", "reason": "CannotPullContainerError: not found"}],
                ),
            ]
        },
        {"cluster": "prod", "tasks": ["arn:t/1", "arn:t/2", "arn:t/3"]},
    )
    stopped = BotoEcs(ecs).stopped_tasks("prod", "web", "td:2", 5)
    assert [t.arn for t in stopped] == ["arn:t/3", "arn:t/1"]
    assert stopped[0].stopped_reason == "TaskFailedToStart"
    assert stopped[0].container_reasons == ("app: CannotPullContainerError: not found",)
    # the task's reason is not repeated for each container
    assert stopped[1].container_reasons == (
        "app: exit code 137, OutOfMemoryError",
        "log: exit code 1",
    )


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("ThrottlingException", True),
        ("ServerException", True),
        ("InvalidParameterException", False),
        ("ClientException", False),
    ],
)
def test_client_errors_name_the_operation_and_resource(
    ecs: Any, code: str, retryable: bool
) -> None:
    ecs.stub.add_client_error(
        "describe_services", service_error_code=code, service_message="no luck"
    )
    with pytest.raises(EcsApiError) as err:
        BotoEcs(ecs).describe_service("prod", "web")
    assert str(err.value) == f"ECS DescribeServices prod/web: {code}: no luck"
    assert (err.value.code, err.value.retryable) == (code, retryable)


def test_an_iam_refusal_names_the_denied_action_and_where_the_policy_comes_from(
    ecs: Any,
) -> None:
    ecs.stub.add_client_error(
        "describe_services",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:iam::123456789012:user/u is not authorized",
    )
    with pytest.raises(EcsApiError) as err:
        BotoEcs(ecs).describe_service("prod", "web")
    assert str(err.value) == (
        "ECS DescribeServices prod/web: access denied (AccessDeniedException): the AWS"
        " credentials' policy does not allow ecs:DescribeServices; `pipeline iam-policy` prints"
        " the policy this config needs"
    )
    assert (err.value.code, err.value.retryable) == ("AccessDeniedException", False)


def test_parameter_values_and_registered_secrets_never_reach_a_message(ecs: Any) -> None:
    log.mask("hunter2-secret")
    request = {
        "family": "web",
        "containerDefinitions": [{"name": "app", "environment": [{"name": "P", "value": 12345}]}],
    }
    with pytest.raises(EcsApiError) as err:
        BotoEcs(ecs).register_task_definition(request)
    assert "12345" not in str(err.value)
    assert "ECS RegisterTaskDefinition web" in str(err.value)
    ecs.stub.add_client_error(
        "describe_services",
        service_error_code="ClientException",
        service_message="bad hunter2-secret",
    )
    with pytest.raises(EcsApiError) as err2:
        BotoEcs(ecs).describe_service("prod", "web")
    assert "hunter2-secret" not in str(err2.value)


def test_dry_run_says_what_it_would_do_and_mutates_nothing(ecs: Any) -> None:
    said: list[str] = []
    ecs.stub.add_response("describe_services", {"services": [SERVICE], "failures": []})
    api = BotoEcs(ecs, dry_run=True, say=said.append)
    request = {"family": "web", "containerDefinitions": [{"name": "app", "image": "r@sha256:1"}]}
    assert api.register_task_definition(request) == "web:(dry-run)"
    assert (
        api.update_service("prod", "web", "web:(dry-run)", force_new_deployment=False).name == "web"
    )
    assert said == [
        "dry-run: would register a revision of task definition web (app=r@sha256:1)",
        "dry-run: would update service prod/web to web:(dry-run)",
    ]
    # the Stubber fails on any call it was not given a response for: none was made


def test_codedeploy_adapter() -> None:
    cd = client("codedeploy")
    with Stubber(cd) as stub:
        stub.add_response(
            "get_deployment_group",
            {
                "deploymentGroupInfo": {
                    "blueGreenDeploymentConfiguration": {
                        "deploymentReadyOption": {
                            "actionOnTimeout": "STOP_DEPLOYMENT",
                            "waitTimeInMinutes": 10,
                        },
                        "terminateBlueInstancesOnDeploymentSuccess": {
                            "action": "TERMINATE",
                            "terminationWaitTimeInMinutes": 5,
                        },
                    }
                }
            },
            {"applicationName": "app", "deploymentGroupName": "grp"},
        )
        stub.add_response(
            "create_deployment",
            {"deploymentId": "d-ABC"},
            {
                "applicationName": "app",
                "deploymentGroupName": "grp",
                "description": "pipeline",
                "revision": {
                    "revisionType": "AppSpecContent",
                    "appSpecContent": {"content": "{}", "sha256": ANY},
                },
            },
        )
        stub.add_response(
            "get_deployment",
            {
                "deploymentInfo": {
                    "status": "Failed",
                    "errorInformation": {"code": "ALARM_ACTIVE", "message": "alarm"},
                    "rollbackInfo": {"rollbackDeploymentId": "d-RB", "rollbackMessage": "auto"},
                }
            },
            {"deploymentId": "d-ABC"},
        )
        stub.add_response(
            "stop_deployment",
            {"status": "Pending"},
            {"deploymentId": "d-ABC", "autoRollbackEnabled": True},
        )
        api = BotoCodeDeploy(cd)
        assert api.extra_wait_seconds("app", "grp") == 900.0
        assert api.create_deployment("app", "grp", "{}", "x", "pipeline") == "d-ABC"
        status = api.get_deployment("d-ABC")
        assert (status.status, status.error_code, status.rollback_deployment_id) == (
            "Failed",
            "ALARM_ACTIVE",
            "d-RB",
        )
        api.stop_deployment("d-ABC", auto_rollback=True)
        stub.assert_no_pending_responses()


def test_clients_make_one_attempt_per_call() -> None:
    made = make_client("ecs", "us-east-1")
    assert made.meta.config.retries["total_max_attempts"] == 1
