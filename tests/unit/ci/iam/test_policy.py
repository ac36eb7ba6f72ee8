"""`pipeline iam-policy`: the policy per config, as tables of actions, resources, conditions.

A later end-to-end test runs a release under this policy with moto's IAM
enforcement (`INITIAL_NO_AUTH_ACTION_COUNT`), once the deploy stages exist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.ci import iam
from pipeline.cli import main
from pipeline.errors import UsageError
from tests.unit.config.helpers import valid, yaml

ACCOUNT = "123456789012"
ECR = f'registry: {{type: ecr, account: "{ACCOUNT}", region: eu-west-1}}'
IMAGES = """
images:
  - name: backend
    repository: acme/backend
  - name: web
"""
ECS = """
deploy:
  - {type: ecs, image: backend, cluster: prod, service: api}
"""
EKS = """
deploy:
  - {type: eks, image: backend, cluster: prod-eks, deployment: api}
"""
MANIFEST = """
deploy:
  - {type: manifest, image: backend, files: [deploy/k.yaml]}
"""
NO_SCAN = "scan: {enabled: false}\n"
REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/"


def doc_of(text: str, env: dict[str, str] | None = None, roles: tuple[str, ...] = ()) -> iam.Policy:
    return iam.policy(iam.needs(valid("version: 1\n" + yaml(text)), env or {}), roles)


def by_sid(policy: iam.Policy) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy.document["Statement"]}


def sids(policy: iam.Policy) -> list[str]:
    return [s["Sid"] for s in policy.document["Statement"]]


# --------------------------------------------------------------------------- registries


@pytest.mark.parametrize(
    ("config", "expected_sids"),
    [
        (ECR + IMAGES + NO_SCAN, ["EcrAuthToken", "EcrPushAndRead"]),
        (ECR + IMAGES, ["EcrAuthToken", "EcrPushAndRead", "EcrScanResults", "EcrScanType"]),
        (
            ECR.replace("}", ", create_repositories: true}") + IMAGES + NO_SCAN,
            ["EcrAuthToken", "EcrPushAndRead", "EcrCreateRepositories"],
        ),
        (
            ECR.replace("}", ", create_repositories: true}") + IMAGES,
            [
                "EcrAuthToken",
                "EcrPushAndRead",
                "EcrCreateRepositories",
                "EcrScanResults",
                "EcrScanType",
            ],
        ),
        (
            "registry: {type: ecr-public, alias: acme}\n" + IMAGES,
            ["EcrPublicAuth", "EcrPublicPush"],
        ),
        ("registry: {type: generic, url: ghcr.io/acme}\n" + IMAGES, []),
        ("registry: {type: generic, url: ghcr.io/acme}\n" + IMAGES + MANIFEST, []),
    ],
    ids=[
        "ecr",
        "ecr+scan",
        "ecr+create",
        "ecr+create+scan",
        "ecr-public",
        "generic",
        "generic+gitops",
    ],
)
def test_statements_per_registry_config(config: str, expected_sids: list[str]) -> None:
    assert sids(doc_of(config)) == expected_sids


def test_ecr_push_is_scoped_to_the_repositories() -> None:
    got = by_sid(doc_of(ECR + IMAGES))
    assert got["EcrAuthToken"]["Action"] == ["ecr:GetAuthorizationToken"]
    assert got["EcrAuthToken"]["Resource"] == ["*"]
    assert got["EcrPushAndRead"]["Action"] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:DescribeImages",
        "ecr:DescribeRepositories",
        "ecr:GetDownloadUrlForLayer",
        "ecr:InitiateLayerUpload",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
    ]
    assert got["EcrPushAndRead"]["Resource"] == [REPO + "acme/backend", REPO + "web"]
    assert got["EcrScanResults"]["Action"] == [
        "ecr:BatchGetRepositoryScanningConfiguration",  # scan on push or manual, per repository
        "ecr:DescribeImageScanFindings",
        "ecr:StartImageScan",
    ]
    assert got["EcrScanResults"]["Resource"] == [REPO + "acme/backend", REPO + "web"]
    # basic or enhanced scanning: a registry-wide read that takes no resource
    assert got["EcrScanType"]["Action"] == ["ecr:GetRegistryScanningConfiguration"]
    assert got["EcrScanType"]["Resource"] == ["*"]
    assert not any("ecr:CreateRepository" in s["Action"] for s in got.values())


@pytest.mark.parametrize(
    ("repository_settings", "actions", "kms"),
    [
        ("", ["CreateRepository", "PutImageScanningConfiguration", "TagResource"], None),
        (
            "lifecycle_policy: {rules: [{rulePriority: 1, selection: {tagStatus: untagged,"
            " countType: imageCountMoreThan, countNumber: 5}, action: {type: expire}}]}",
            [
                "CreateRepository",
                "PutImageScanningConfiguration",
                "PutLifecyclePolicy",
                "TagResource",
            ],
            None,
        ),
        (
            "encryption: {type: KMS}",
            ["CreateRepository", "PutImageScanningConfiguration", "TagResource"],
            ["*"],
        ),
        (
            "encryption: {type: KMS, kms_key: alias/ecr}",
            ["CreateRepository", "PutImageScanningConfiguration", "TagResource"],
            ["*"],
        ),
        (
            "encryption: {type: KMS, kms_key: 1234abcd-12ab-34cd-56ef-1234567890ab}",
            ["CreateRepository", "PutImageScanningConfiguration", "TagResource"],
            [f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
        ),
        (
            "encryption: {type: KMS, kms_key: 'arn:aws:kms:eu-west-1:999999999999:key/k1'}",
            ["CreateRepository", "PutImageScanningConfiguration", "TagResource"],
            ["arn:aws:kms:eu-west-1:999999999999:key/k1"],
        ),
    ],
    ids=["defaults", "lifecycle", "kms-managed", "kms-alias", "kms-key-id", "kms-key-arn"],
)
def test_create_repositories_adds_settings_actions_and_kms_grants(
    repository_settings: str, actions: list[str], kms: list[str] | None
) -> None:
    registry = (
        "registry:\n  type: ecr\n  account: '123456789012'\n  region: eu-west-1\n"
        f"  create_repositories: true\n  repository: {{{repository_settings}}}\n"
    )
    got = by_sid(doc_of(registry + IMAGES + NO_SCAN))
    create = got["EcrCreateRepositories"]
    assert create["Action"] == [f"ecr:{a}" for a in actions]
    assert create["Resource"] == [REPO + "acme/backend", REPO + "web"]
    if kms is None:
        assert "KmsForEcrRepositories" not in got
    else:
        grant = got["KmsForEcrRepositories"]
        assert grant["Action"] == ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"]
        assert grant["Resource"] == kms
        assert grant["Condition"] == {
            "StringEquals": {"kms:ViaService": "ecr.eu-west-1.amazonaws.com"}
        }


def test_ecr_public_uses_its_own_service_and_bearer_token() -> None:
    policy = doc_of("registry: {type: ecr-public, alias: acme}\n" + IMAGES)
    got = by_sid(policy)
    assert got["EcrPublicAuth"]["Action"] == [
        "ecr-public:GetAuthorizationToken",
        "sts:GetServiceBearerToken",
    ]
    assert got["EcrPublicAuth"]["Resource"] == ["*"]
    assert all(a.startswith("ecr-public:") for a in got["EcrPublicPush"]["Action"])
    assert "ecr-public:PutImage" in got["EcrPublicPush"]["Action"]
    assert got["EcrPublicPush"]["Resource"] == [
        "arn:aws:ecr-public::*:repository/acme/backend",
        "arn:aws:ecr-public::*:repository/web",
    ]
    assert any("account is not in the config" in n for n in policy.notes)


def test_generic_registry_needs_nothing_and_says_so() -> None:
    policy = doc_of("registry: {type: generic, url: ghcr.io/acme}\n" + IMAGES)
    assert policy.document == {"Version": "2012-10-17", "Statement": []}
    assert policy.notes == ["this config makes no AWS call: it needs no IAM permission"]


def test_pull_from_hosts_are_read_only_in_their_own_account_and_partition() -> None:
    need = iam.Needs(
        registry="generic",
        repositories=("app",),
        pull_from=(
            "987654321098.dkr.ecr.eu-west-1.amazonaws.com",
            "111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "ghcr.io",
        ),
    )
    policy = iam.policy(need)
    got = by_sid(policy)
    assert sids(policy) == ["EcrAuthToken", "EcrPullBaseImages"]
    assert got["EcrPullBaseImages"]["Action"] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    assert got["EcrPullBaseImages"]["Resource"] == [
        "arn:aws-cn:ecr:cn-north-1:111111111111:repository/*",
        "arn:aws:ecr:eu-west-1:987654321098:repository/*",
    ]
    assert any("ghcr.io is not an ECR host" in n for n in policy.notes)


# --------------------------------------------------------------------------- deploy targets


def test_ecs_service_actions_resources_and_conditions() -> None:
    got = by_sid(doc_of(ECR + IMAGES + NO_SCAN + ECS))
    svc = f"arn:aws:ecs:eu-west-1:{ACCOUNT}"
    assert got["EcsServices"]["Action"] == ["ecs:DescribeServices", "ecs:UpdateService"]
    assert got["EcsServices"]["Resource"] == [f"{svc}:service/prod/api"]
    assert got["EcsTaskDefinitions"]["Action"] == [
        "ecs:DeregisterTaskDefinition",
        "ecs:DescribeTaskDefinition",
        "ecs:RegisterTaskDefinition",
    ]
    assert got["EcsTaskDefinitions"]["Resource"] == ["*"]
    assert got["EcsTagNewTaskDefinitions"] == {
        "Sid": "EcsTagNewTaskDefinitions",
        "Effect": "Allow",
        "Action": ["ecs:TagResource"],
        "Resource": [f"{svc}:task-definition/*"],
        "Condition": {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}},
    }
    assert got["EcsListTasks"]["Resource"] == ["*"]
    assert got["EcsListTasks"]["Condition"] == {"ArnEquals": {"ecs:cluster": f"{svc}:cluster/prod"}}
    assert got["EcsDescribeTasks"]["Resource"] == [f"{svc}:task/prod/*"]
    assert got["PassTaskRoles"] == {
        "Sid": "PassTaskRoles",
        "Effect": "Allow",
        "Action": ["iam:PassRole"],
        "Resource": [f"arn:aws:iam::{ACCOUNT}:role/*"],
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
    }
    assert not any(s.startswith("CodeDeploy") for s in got)


def test_role_narrows_pass_role_and_keeps_the_condition() -> None:
    roles = (
        f"arn:aws:iam::{ACCOUNT}:role/app-task",
        f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole",
    )
    got = by_sid(doc_of(ECR + IMAGES + ECS, roles=roles))
    assert got["PassTaskRoles"]["Resource"] == sorted(roles)
    assert got["PassTaskRoles"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }


@pytest.mark.parametrize(
    "role",
    [
        "app-task",
        "arn:aws:iam::123:role/x",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::123456789012:user/x",
    ],
)
def test_role_must_be_a_role_arn(role: str) -> None:
    with pytest.raises(UsageError, match="is not an IAM role ARN"):
        doc_of(ECR + IMAGES + ECS, roles=(role,))


def test_role_without_ecs_targets_is_noted() -> None:
    policy = doc_of(ECR + IMAGES, roles=(f"arn:aws:iam::{ACCOUNT}:role/x",))
    assert "PassTaskRoles" not in by_sid(policy)
    assert "--role has no effect: the config deploys no ECS service" in policy.notes


def test_several_ecs_targets_across_regions() -> None:
    deploy = """
deploy:
  - {type: ecs, image: backend, cluster: prod, service: api}
  - {type: ecs, image: web, cluster: prod, service: web}
  - {type: ecs, image: web, cluster: dr, service: web, region: us-west-2}
"""
    got = by_sid(doc_of(ECR + IMAGES + NO_SCAN + deploy))
    eu, us = f"arn:aws:ecs:eu-west-1:{ACCOUNT}", f"arn:aws:ecs:us-west-2:{ACCOUNT}"
    assert got["EcsServices"]["Resource"] == [
        f"{eu}:service/prod/api",
        f"{eu}:service/prod/web",
        f"{us}:service/dr/web",
    ]
    assert got["EcsListTasks"]["Condition"] == {
        "ArnEquals": {"ecs:cluster": [f"{eu}:cluster/prod", f"{us}:cluster/dr"]}
    }
    assert got["EcsTagNewTaskDefinitions"]["Resource"] == [
        f"{eu}:task-definition/*",
        f"{us}:task-definition/*",
    ]


def test_codedeploy_targets_are_scoped_to_application_and_group() -> None:
    need = iam.Needs(
        registry="ecr",
        region="eu-west-1",
        account=ACCOUNT,
        repositories=("app",),
        ecs=(iam.EcsNeed("eu-west-1", "prod", "api", ("AppECS-prod-api", "DgpECS-prod-api")),),
    )
    got = by_sid(iam.policy(need))
    cd = f"arn:aws:codedeploy:eu-west-1:{ACCOUNT}"
    assert got["CodeDeployDeployments"]["Action"] == [
        "codedeploy:CreateDeployment",
        "codedeploy:GetDeployment",
    ]
    assert got["CodeDeployDeployments"]["Resource"] == [
        f"{cd}:deploymentgroup:AppECS-prod-api/DgpECS-prod-api"
    ]
    assert got["CodeDeployRevisions"]["Action"] == [
        "codedeploy:GetApplicationRevision",
        "codedeploy:RegisterApplicationRevision",
    ]
    assert got["CodeDeployRevisions"]["Resource"] == [f"{cd}:application:AppECS-prod-api"]
    assert got["CodeDeployConfigs"]["Action"] == ["codedeploy:GetDeploymentConfig"]
    assert got["CodeDeployConfigs"]["Resource"] == [f"{cd}:deploymentconfig:*"]
    assert "EcsServices" in got  # CodeDeploy services are still ECS services


def test_eks_describe_cluster_and_caller_identity() -> None:
    policy = doc_of(ECR + IMAGES + NO_SCAN + EKS)
    got = by_sid(policy)
    assert got["EksDescribeClusters"]["Action"] == ["eks:DescribeCluster"]
    assert got["EksDescribeClusters"]["Resource"] == [
        f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/prod-eks"
    ]
    assert got["StsIdentity"]["Action"] == ["sts:GetCallerIdentity"]
    assert not any(s.startswith("Ecs") for s in got)
    assert any("Kubernetes access" in n for n in policy.notes)


def test_gitops_manifests_need_no_aws_permission() -> None:
    assert sids(doc_of(ECR + IMAGES + NO_SCAN + MANIFEST)) == ["EcrAuthToken", "EcrPushAndRead"]


# --------------------------------------------------------------------------- partitions, regions


@pytest.mark.parametrize(
    ("region", "partition", "kms_service"),
    [
        ("us-east-1", "aws", "ecr.us-east-1.amazonaws.com"),
        ("cn-north-1", "aws-cn", "ecr.cn-north-1.amazonaws.com.cn"),
        ("cn-northwest-1", "aws-cn", "ecr.cn-northwest-1.amazonaws.com.cn"),
        ("us-gov-west-1", "aws-us-gov", "ecr.us-gov-west-1.amazonaws.com"),
    ],
)
def test_every_arn_carries_the_partition_of_its_region(
    region: str, partition: str, kms_service: str
) -> None:
    config = (
        f"registry:\n  type: ecr\n  account: '{ACCOUNT}'\n  region: {region}\n"
        "  create_repositories: true\n  repository: {encryption: {type: KMS}}\n"
        + IMAGES
        + "deploy:\n"
        "  - {type: ecs, image: backend, cluster: c, service: s}\n"
        "  - {type: eks, image: backend, cluster: k, deployment: d}\n"
    )
    policy = doc_of(config)
    arns = [r for s in policy.document["Statement"] for r in s["Resource"] if r.startswith("arn:")]
    assert arns and all(a.startswith(f"arn:{partition}:") for a in arns)
    assert all(f":{region}:" in a for a in arns if ":iam::" not in a)
    assert by_sid(policy)["KmsForEcrRepositories"]["Condition"]["StringEquals"] == {
        "kms:ViaService": kms_service
    }


def test_region_comes_from_the_environment_like_a_run() -> None:
    config = f'registry: {{type: ecr, account: "{ACCOUNT}"}}' + IMAGES + NO_SCAN
    policy = doc_of(config, env={"AWS_DEFAULT_REGION": "ap-south-1", "AWS_REGION": "eu-north-1"})
    assert by_sid(policy)["EcrPushAndRead"]["Resource"][0] == (
        f"arn:aws:ecr:eu-north-1:{ACCOUNT}:repository/acme/backend"
    )
    assert policy.notes == []


def test_unknown_region_becomes_a_wildcard_with_a_note() -> None:
    policy = doc_of(f'registry: {{type: ecr, account: "{ACCOUNT}"}}' + IMAGES + NO_SCAN)
    assert by_sid(policy)["EcrPushAndRead"]["Resource"][0] == (
        f"arn:aws:ecr:*:{ACCOUNT}:repository/acme/backend"
    )
    assert any("no region" in n for n in policy.notes)


def test_unknown_account_becomes_a_wildcard_with_a_note() -> None:
    need = iam.Needs(registry="ecr", region="eu-west-1", repositories=("app",))
    policy = iam.policy(need)
    assert by_sid(policy)["EcrPushAndRead"]["Resource"] == [
        "arn:aws:ecr:eu-west-1:*:repository/app"
    ]
    assert any("account is not in the config" in n for n in policy.notes)


def test_a_policy_over_the_managed_size_limit_is_noted() -> None:
    repos = tuple(f"team/service-number-{n:04d}" for n in range(120))
    policy = iam.policy(
        iam.Needs(registry="ecr", region="eu-west-1", account=ACCOUNT, repositories=repos)
    )
    assert any("over the 6144 IAM allows" in n for n in policy.notes)


def test_output_is_deterministic_whatever_the_config_order() -> None:
    a = doc_of(ECR + IMAGES + ECS)
    swapped = IMAGES.replace("  - name: web\n", "").replace("images:\n", "images:\n  - name: web\n")
    b = doc_of(ECR + swapped + ECS)
    assert a.text() == b.text()


# --------------------------------------------------------------------------- the command


def test_command_prints_the_policy_and_notes_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    path = tmp_path / "pipeline.yaml"
    path.write_text("version: 1\nregistry: {type: ecr-public, alias: acme}\n" + IMAGES, "utf-8")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    assert main(["iam-policy", "-f", str(path)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["Statement"][0]["Sid"] == "EcrPublicAuth"
    assert "pipeline: note: the account is not in the config" in err


def test_command_refuses_a_bad_role_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("version: 1\n" + ECR + IMAGES + ECS, "utf-8")
    assert main(["iam-policy", "-f", str(path), "--role", "not-an-arn"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "is not an IAM role ARN" in err


def test_the_docs_show_what_the_command_prints() -> None:
    page = Path(__file__).resolve().parents[4] / "docs" / "where-it-runs.md"
    section = page.read_text(encoding="utf-8").split("## The least-privilege IAM policy", 1)[1]
    config = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    shown = section.split("```json\n", 1)[1].split("```", 1)[0]
    roles = (
        "arn:aws:iam::123456789012:role/backend-task",
        "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    )
    policy = iam.policy(iam.needs(valid(config), {}), roles)
    assert json.loads(shown) == policy.document
    assert policy.notes == []
