"""The deploy stage's real ports: boto3 ECS/CodeDeploy, the kubernetes client, git.

Clients are made here, once per run (ECS ones once per region, on first
use), never behind a module-level cache: a run in another sandbox or region
gets its own.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from pipeline.adapters.ancestry import GitAncestry
from pipeline.adapters.ports import Registry
from pipeline.ecs.deploy import EcsPorts
from pipeline.ecs.labels import RegistryLabels
from pipeline.plan import Plan
from pipeline.stages.deploy import DeployPorts


def deploy_ports(
    plan: Plan, env: Mapping[str, str], registry: Registry, *, dry_run: bool
) -> DeployPorts:
    """Ports for `plan`'s deploy targets; `registry` reads the running images' labels."""
    from pipeline.adapters.eks import Connector
    from pipeline.adapters.gitops import GitRepositories

    default_region = plan.registry.region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    labels = RegistryLabels(registry, {plan.registry.host, plan.registry.canonical_host})
    ancestry = GitAncestry(plan.root)
    made: dict[str | None, EcsPorts] = {}
    lock = threading.Lock()

    def ecs(region: str | None) -> EcsPorts:
        from pipeline.adapters.ecs import BotoCodeDeploy, BotoEcs, make_client

        where = region or default_region
        with lock:
            if where not in made:
                made[where] = EcsPorts(
                    BotoEcs(make_client("ecs", where), dry_run=dry_run),
                    labels,
                    ancestry,
                    BotoCodeDeploy(make_client("codedeploy", where), dry_run=dry_run),
                )
            return made[where]

    return DeployPorts(
        ecs=ecs,
        kube=Connector(default_region, env),
        repositories=GitRepositories(plan.root, env),
        labels=labels,
        ancestry=ancestry,
    )
