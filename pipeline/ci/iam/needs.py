"""What a run of the config touches in AWS, read from the config: the policy's input.

The region comes from the config or the environment (AWS_REGION, then
AWS_DEFAULT_REGION), as a run would resolve it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.config.schema import Config, EcsTarget, EksTarget
from pipeline.ecs.names import arn_region, short_name


@dataclass(frozen=True)
class EcsNeed:
    region: str | None
    cluster: str
    service: str
    #: (application, deployment group) of a CODE_DEPLOY service
    codedeploy: tuple[str, str] | None = None


@dataclass(frozen=True)
class EksNeed:
    region: str | None
    cluster: str


@dataclass(frozen=True)
class Needs:
    """What a run of the config touches in AWS; nothing else goes into the policy."""

    registry: str  # ecr | ecr-public | generic
    region: str | None = None
    account: str | None = None
    repositories: tuple[str, ...] = ()
    create_repositories: bool = False
    lifecycle_policy: bool = False
    kms: bool = False
    kms_key: str | None = None
    scan: bool = False
    pull_from: tuple[str, ...] = ()
    ecs: tuple[EcsNeed, ...] = ()
    eks: tuple[EksNeed, ...] = ()


def _region(config: Config, env: Mapping[str, str], own: str | None = None) -> str | None:
    return (
        own
        or config.registry.region
        or env.get("AWS_REGION")
        or env.get("AWS_DEFAULT_REGION")
        or None
    )


def _codedeploy(target: EcsTarget) -> tuple[str, str] | None:
    spec = target.codedeploy
    if spec is None:
        return None
    return (str(spec.application), str(spec.deployment_group))


def needs(config: Config, env: Mapping[str, str]) -> Needs:
    reg = config.registry
    repos = tuple(sorted({i.repository or i.name for i in config.images}))
    # a cluster or service named by its ARN: its name, in the ARN's region
    ecs = tuple(
        EcsNeed(
            _region(config, env, t.region or arn_region(t.cluster, t.service)),
            short_name(t.cluster),
            short_name(t.service),
            _codedeploy(t),
        )
        for t in config.deploy
        if isinstance(t, EcsTarget)
    )
    # An EKS target may name a kubeconfig context instead of a cluster: no AWS call then.
    eks = tuple(
        EksNeed(_region(config, env, t.region), t.cluster)
        for t in config.deploy
        if isinstance(t, EksTarget) and t.cluster
    )
    is_ecr = reg.type == "ecr"
    return Needs(
        registry=reg.type,
        region=_region(config, env) if is_ecr else None,
        account=reg.account if is_ecr else None,
        repositories=repos,
        create_repositories=is_ecr and reg.create_repositories,
        lifecycle_policy=bool(reg.repository.lifecycle_policy),
        kms=reg.repository.encryption.type == "KMS",
        kms_key=reg.repository.encryption.kms_key,
        scan=is_ecr and config.scan.enabled,
        pull_from=tuple(reg.pull_from or ()),
        ecs=ecs,
        eks=eks,
    )
