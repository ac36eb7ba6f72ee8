"""A release run as an IAM user whose only policy is what `pipeline iam-policy` prints.

The sandbox's moto is switched to IAM enforcement (`/moto-api/reset-auth` with 0:
from then on every call must be signed with a key of an IAM user and be allowed
by that user's policies). moto checks the *action* of every call, but it
evaluates ECR and ECS calls against the resource `*` (it derives no ARN from the
request), so a statement scoped to repository or service ARNs would never match
there, though it does in AWS. The user therefore gets the printed statements,
actions and conditions unchanged, with `Resource: "*"`: what this proves is
that the policy's actions are enough for a whole release, and that a missing
one fails the run clearly. The resources and conditions are checked as a table
in tests/unit/ci/iam/test_policy.py.
"""

from __future__ import annotations

import contextlib
import copy
import json
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.ecs.test_adapter import register_rich
from tests.integration.run.support import Project, Result, ecr_config, image_tags, run_cli

# Every stage: build, push, scan, gate, promote, deploy.
STAGES: tuple[str, ...] = ()


@contextlib.contextmanager
def enforcing(endpoint: str) -> Iterator[None]:
    """IAM enforcement on for every call to the emulation, off again afterwards."""

    def reset(count: str) -> None:
        request = urllib.request.Request(
            f"{endpoint}/moto-api/reset-auth",
            data=count.encode(),
            method="POST",
            # Not a form: werkzeug would parse a form body away from moto's request.data.
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    reset("0")
    try:
        yield
    finally:
        reset("inf")


def as_moto_sees_it(document: dict[str, Any]) -> dict[str, Any]:
    """The printed policy with every Resource widened to `*` (see the module's doc)."""
    widened = copy.deepcopy(document)
    for statement in widened["Statement"]:
        statement["Resource"] = "*"
    return widened


def without(document: dict[str, Any], action: str) -> dict[str, Any]:
    trimmed = copy.deepcopy(document)
    for statement in trimmed["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != action]
    trimmed["Statement"] = [s for s in trimmed["Statement"] if s["Action"]]
    assert trimmed != document, f"{action} is not in the policy"
    return trimmed


def user_with(admin: Callable[[str], Any], document: dict[str, Any]) -> tuple[str, str]:
    """An IAM user whose only policy is `document`; its access key (id, secret)."""
    iam = admin("iam")
    name = f"release-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="pipeline", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def release_project(make_project: Callable[[str], Project], prefix: str, cluster: str) -> Project:
    project = make_project("project")
    project.write("Dockerfile", f"FROM local/busybox:1\nRUN echo {uuid.uuid4().hex} > /nonce\n")
    project.config(
        ecr_config(
            [{"name": "app", "repository": f"{prefix}/app"}],
            tags=[{"type": "sha"}, {"type": "branch"}],
            deploy=[
                {
                    "type": "ecs",
                    "image": "app",
                    "cluster": cluster,
                    "service": "web",
                    "wait": "60s",
                }
            ],
        )
    )
    project.commit("first")
    return project


@pytest.fixture
def service(admin: Callable[[str], Any], env: dict[str, str], prefix: str) -> str:
    """An ECS cluster with a service `web` running an older image of the repository."""
    ecs = admin("ecs")
    cluster = f"iam-{uuid.uuid4().hex[:8]}"
    ecs.create_cluster(clusterName=cluster)
    first = register_rich(ecs, f"{env['PIPELINE_REGISTRY_HOST']}/{prefix}/app:old", cluster)
    ecs.create_service(cluster=cluster, serviceName="web", taskDefinition=first, desiredCount=2)
    return cluster


def printed_policy(project: Project, env: dict[str, str]) -> dict[str, Any]:
    result = run_cli(project, env, "iam-policy", report=False)
    assert result.code == 0, result.describe()
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def release(project: Project, env: dict[str, str], key: tuple[str, str]) -> Result:
    as_user = {**env, "AWS_ACCESS_KEY_ID": key[0], "AWS_SECRET_ACCESS_KEY": key[1]}
    with enforcing(env["AWS_ENDPOINT_URL"]):
        return run_cli(project, as_user, "run", *STAGES, timeout=300)


def running_image(admin: Callable[[str], Any], cluster: str) -> str:
    ecs = admin("ecs")
    service = ecs.describe_services(cluster=cluster, services=["web"])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    (app,) = [c for c in definition["taskDefinition"]["containerDefinitions"] if c["name"] == "app"]
    return str(app["image"])


def test_a_release_runs_as_a_user_with_only_the_printed_policy(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    admin: Callable[[str], Any],
    service: str,
) -> None:
    project = release_project(make_project, prefix, service)
    document = printed_policy(project, env)
    key = user_with(admin, as_moto_sees_it(document))

    result = release(project, env, key)

    assert result.code == 0, result.describe()
    assert result.report["status"] == "ok"
    image = result.image("app")
    pushed = f"{image['image']}@{image['digest']}"
    assert image["pushed"] is True
    # the scan passed and promote moved the mutable tags (PutImage) under the policy too
    assert image_tags(admin("ecr"), f"{prefix}/app") == {
        image["digest"]: {f"sha-{project.head[:7]}", "main", "latest"}
    }
    assert image["gate"] == "pass"
    (deployment,) = result.report["deployments"]
    assert (deployment["status"], deployment["image"]) == ("completed", pushed)
    assert running_image(admin, service) == pushed
    assert key[1] not in result.output + result.report_text


def test_the_enforcement_is_real_an_unknown_key_is_refused(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    service: str,
) -> None:
    """The sandbox's own fake keys belong to no IAM user: under enforcement they fail."""
    project = release_project(make_project, prefix, service)

    result = release(project, env, (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]))

    assert result.code == 1, result.describe()
    assert result.report["status"] == "failed"
    assert env["AWS_SECRET_ACCESS_KEY"] not in result.output + result.report_text
    assert "the AWS access key is not recognised" in result.stderr, result.describe()


@pytest.mark.parametrize(
    ("action", "operation"),
    [
        ("ecr:CreateRepository", "CreateRepository"),
        ("ecr:GetAuthorizationToken", "GetAuthorizationToken"),
        ("ecr:DescribeImageScanFindings", "DescribeImageScanFindings"),
        ("ecr:PutImage", "PutImage"),
        ("ecs:UpdateService", "UpdateService"),
    ],
)
def test_a_release_without_one_needed_action_fails_naming_the_denied_operation(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    admin: Callable[[str], Any],
    service: str,
    action: str,
    operation: str,
) -> None:
    project = release_project(make_project, prefix, service)
    before = running_image(admin, service)
    document = without(printed_policy(project, env), action)
    key = user_with(admin, as_moto_sees_it(document))

    result = release(project, env, key)

    assert result.code == 1, result.describe()
    assert result.report["status"] == "failed"
    refused = [line for line in result.output.splitlines() if "access denied" in line]
    assert refused, result.describe()
    error = refused[0]
    assert operation in error, result.describe()
    assert f"does not allow {action}; `pipeline iam-policy` prints" in error
    assert "Traceback" not in result.output and "<ErrorResponse" not in result.output
    assert key[1] not in result.output + result.report_text
    assert running_image(admin, service) == before, "nothing deploys when a call is denied"
