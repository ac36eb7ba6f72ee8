"""The least-privilege IAM policy for what a config needs, as a value (pure).

Every ARN carries the partition of its region (aws, aws-cn, aws-us-gov...).
Statements come in a fixed order with fixed Sids, actions and resources
sorted, so the output diffs cleanly when the config changes. Where the config
leaves a part unknown (account, region) the ARN says `*` and a note says so.

Why each action is there: reference/auth-push-deploy.md (ECR push and ECR
Public, ECS task definitions and services, CodeDeploy) and the run's adapters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.ci.iam.needs import Needs
from pipeline.errors import UsageError
from pipeline.registry import parse_ecr_host, partition

ANY = "*"
#: IAM's limit for a customer managed policy, whitespace not counted.
MANAGED_POLICY_LIMIT = 6144
_ROLE_ARN = re.compile(r"^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role/[\w+=,.@/-]+$", re.ASCII)

ECR_PUSH = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
ECR_CREATE = (
    "ecr:CreateRepository",
    "ecr:PutImageScanningConfiguration",
    "ecr:TagResource",
)
ECR_SCAN = (
    "ecr:BatchGetRepositoryScanningConfiguration",
    "ecr:DescribeImageScanFindings",
    "ecr:StartImageScan",
)
ECR_PULL = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
ECR_PUBLIC_PUSH = (
    "ecr-public:BatchCheckLayerAvailability",
    "ecr-public:CompleteLayerUpload",
    "ecr-public:DescribeImages",
    "ecr-public:DescribeRepositories",
    "ecr-public:InitiateLayerUpload",
    "ecr-public:PutImage",
    "ecr-public:UploadLayerPart",
)
KMS_FOR_ECR = ("kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant")
CODEDEPLOY_GROUP = ("codedeploy:CreateDeployment", "codedeploy:GetDeployment")
CODEDEPLOY_APP = ("codedeploy:GetApplicationRevision", "codedeploy:RegisterApplicationRevision")


@dataclass
class Policy:
    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        return json.dumps(self.document, indent=2)


class _Arns:
    """ARN parts, with `*` and a note wherever the config leaves one unknown."""

    def __init__(self, need: Needs, notes: list[str]) -> None:
        self.account = need.account or ANY
        self.notes = notes
        if need.account is None and (need.ecs or need.eks or need.registry != "generic"):
            notes.append(
                "the account is not in the config (registry.account): ARNs use * for it;"
                " replace it with your account id"
            )
        self._region_noted = False

    def region(self, region: str | None) -> str:
        if region:
            return region
        if not self._region_noted:
            self._region_noted = True
            self.notes.append(
                "no region in the config or in AWS_REGION / AWS_DEFAULT_REGION: ARNs use *"
                " for it (partition aws)"
            )
        return ANY

    def partition(self, region: str | None) -> str:
        return partition(region).name if region else "aws"

    def arn(self, service: str, region: str | None, resource: str, account: str = "") -> str:
        part = self.partition(region)
        return f"arn:{part}:{service}:{self.region(region)}:{account or self.account}:{resource}"


def _statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    condition: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(set(actions)),
        "Resource": sorted(set(resources)),
    }
    if condition:
        out["Condition"] = condition
    return out


def _ecr(need: Needs, arns: _Arns) -> list[dict[str, Any]]:
    region = need.region
    repos = [arns.arn("ecr", region, f"repository/{r}") for r in need.repositories]
    out = [_statement("EcrPushAndRead", ECR_PUSH, repos)]
    if need.create_repositories:
        actions = list(ECR_CREATE)
        if need.lifecycle_policy:
            actions.append("ecr:PutLifecyclePolicy")
        out.append(_statement("EcrCreateRepositories", actions, repos))
        if need.kms:
            out.append(_kms(need, arns))
    if need.scan:
        out.append(_statement("EcrScanResults", ECR_SCAN, repos))
        # whether the registry scans BASIC or ENHANCED: a registry-wide read, no resource
        out.append(_statement("EcrScanType", ["ecr:GetRegistryScanningConfiguration"], [ANY]))
    return out


def _kms(need: Needs, arns: _Arns) -> dict[str, Any]:
    """ECR asks KMS for a grant, as the caller, when it creates a KMS-encrypted repository."""
    region = need.region
    key = need.kms_key or ""
    suffix = "amazonaws.com.cn" if arns.partition(region) == "aws-cn" else "amazonaws.com"
    via = {"StringEquals": {"kms:ViaService": f"ecr.{arns.region(region)}.{suffix}"}}
    if key.startswith("arn:") and ":key/" in key:
        return _statement("KmsForEcrRepositories", KMS_FOR_ECR, [key], via)
    if re.fullmatch(r"[0-9a-f-]{36}|mrk-[0-9a-f]{32}", key):
        return _statement(
            "KmsForEcrRepositories", KMS_FOR_ECR, [arns.arn("kms", region, f"key/{key}")], via
        )
    # An alias or the AWS managed key: grants name the key, not the alias; ECR only.
    return _statement("KmsForEcrRepositories", KMS_FOR_ECR, [ANY], via)


def _pull_from(need: Needs, arns: _Arns) -> list[dict[str, Any]]:
    resources = []
    for host in need.pull_from:
        parsed = parse_ecr_host(host.split("/")[0])
        if parsed is None:
            arns.notes.append(f"pull_from {host} is not an ECR host: it needs no IAM permission")
            continue
        account, region, _fips, _dual = parsed
        resources.append(arns.arn("ecr", region, "repository/*", account=account))
    return [_statement("EcrPullBaseImages", ECR_PULL, resources)] if resources else []


def _ecr_public(need: Needs, arns: _Arns) -> list[dict[str, Any]]:
    repos = [f"arn:aws:ecr-public::{arns.account}:repository/{r}" for r in need.repositories]
    if need.create_repositories:
        arns.notes.append("create_repositories does not create ECR Public repositories")
    return [
        _statement(
            "EcrPublicAuth",
            ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"],
            [ANY],
        ),
        _statement("EcrPublicPush", ECR_PUBLIC_PUSH, repos),
    ]


def _ecs(need: Needs, arns: _Arns, roles: Sequence[str]) -> list[dict[str, Any]]:
    services = [arns.arn("ecs", t.region, f"service/{t.cluster}/{t.service}") for t in need.ecs]
    clusters = [arns.arn("ecs", t.region, f"cluster/{t.cluster}") for t in need.ecs]
    tasks = [arns.arn("ecs", t.region, f"task/{t.cluster}/*") for t in need.ecs]
    families = sorted({arns.arn("ecs", t.region, "task-definition/*") for t in need.ecs})
    passed = list(roles) or [f"arn:{arns.partition(need.ecs[0].region)}:iam::{arns.account}:role/*"]
    return [
        _statement("EcsServices", ["ecs:DescribeServices", "ecs:UpdateService"], services),
        # Describe and Register support no resource-level permissions (the Service
        # Authorization Reference); Deregister takes back a revision the deploy registered
        # and could not start, whose family the run does not know before it reads it.
        _statement(
            "EcsTaskDefinitions",
            [
                "ecs:DeregisterTaskDefinition",
                "ecs:DescribeTaskDefinition",
                "ecs:RegisterTaskDefinition",
            ],
            [ANY],
        ),
        # The task definition's own tags are copied onto the new revision.
        _statement(
            "EcsTagNewTaskDefinitions",
            ["ecs:TagResource"],
            families,
            {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}},
        ),
        _statement(
            "EcsListTasks", ["ecs:ListTasks"], [ANY], {"ArnEquals": {"ecs:cluster": _one(clusters)}}
        ),
        _statement("EcsDescribeTasks", ["ecs:DescribeTasks"], tasks),
        _statement(
            "PassTaskRoles",
            ["iam:PassRole"],
            passed,
            {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ),
    ]


def _one(values: Sequence[str]) -> str | list[str]:
    unique = sorted(set(values))
    return unique[0] if len(unique) == 1 else unique


def _codedeploy_statements(need: Needs, arns: _Arns) -> list[dict[str, Any]]:
    targets = [t for t in need.ecs if t.codedeploy]
    if not targets:
        return []
    groups, apps, configs = [], [], []
    for t in targets:
        assert t.codedeploy is not None
        app, group = t.codedeploy
        groups.append(arns.arn("codedeploy", t.region, f"deploymentgroup:{app}/{group}"))
        apps.append(arns.arn("codedeploy", t.region, f"application:{app}"))
        configs.append(arns.arn("codedeploy", t.region, "deploymentconfig:*"))
    return [
        _statement("CodeDeployDeployments", CODEDEPLOY_GROUP, groups),
        _statement("CodeDeployRevisions", CODEDEPLOY_APP, apps),
        _statement("CodeDeployConfigs", ["codedeploy:GetDeploymentConfig"], configs),
    ]


def _eks(need: Needs, arns: _Arns) -> list[dict[str, Any]]:
    if not need.eks:
        return []
    clusters = [arns.arn("eks", t.region, f"cluster/{t.cluster}") for t in need.eks]
    return [
        _statement("EksDescribeClusters", ["eks:DescribeCluster"], clusters),
        # The Kubernetes token is a presigned GetCallerIdentity. IAM never denies it
        # by default; listing it keeps an SCP or boundary author from missing it.
        _statement("StsIdentity", ["sts:GetCallerIdentity"], [ANY]),
    ]


def check_roles(roles: Sequence[str]) -> None:
    for role in roles:
        if not _ROLE_ARN.match(role):
            raise UsageError(
                f"--role {role!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
            )


def policy(need: Needs, roles: Sequence[str] = ()) -> Policy:
    check_roles(roles)
    notes: list[str] = []
    arns = _Arns(need, notes)
    statements: list[dict[str, Any]] = []
    if need.registry == "ecr" or need.pull_from:
        statements.append(_statement("EcrAuthToken", ["ecr:GetAuthorizationToken"], [ANY]))
    if need.registry == "ecr":
        statements += _ecr(need, arns)
    statements += _pull_from(need, arns)
    if need.registry == "ecr-public":
        statements += _ecr_public(need, arns)
    if need.ecs:
        statements += _ecs(need, arns, roles)
        statements += _codedeploy_statements(need, arns)
    elif roles:
        notes.append("--role has no effect: the config deploys no ECS service")
    statements += _eks(need, arns)
    if need.eks:
        notes.append(
            "EKS: the role also needs Kubernetes access to the deployments (an access entry"
            " or aws-auth mapping with update rights on deployments in the namespaces)"
        )
    if not statements:
        notes.append("this config makes no AWS call: it needs no IAM permission")
    document = {"Version": "2012-10-17", "Statement": statements}
    size = len(json.dumps(document, separators=(",", ":")))
    if size > MANAGED_POLICY_LIMIT:
        notes.append(
            f"the policy has {size} characters, over the {MANAGED_POLICY_LIMIT} IAM allows for"
            " a managed policy: attach it as an inline policy or split it"
        )
    return Policy(document, notes)
