#!/usr/bin/env python3
"""The deploy stage: an ECS, an EKS and a manifest target at once, against one after another.

Against a sandbox of its own (ECS rollout emulation, the Kubernetes API
emulation behind an emulated EKS cluster, a local bare git repository), with
the real adapters (boto3, the kubernetes client, git). Each trial deploys a new
digest: first to each target alone (what a user chaining three tools does),
then to all three in one `stages.deploy.run`. Not part of `make test`; run with
`bench/deploy_stage.py [TRIALS]`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPO = "bench/app"
GIT = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


class NoLabels:
    """Nothing runs a labelled image here: the guard lets every deploy through."""

    def labels(self, image: str) -> Mapping[str, str] | None:
        return None


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT}, check=True)


def _setup(env: dict[str, str], work: Path, host: str) -> dict[str, Any]:
    import boto3

    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="bench")
    task = ecs.register_task_definition(
        family="bench",
        containerDefinitions=[{"name": "app", "image": f"{host}/{REPO}:0", "memory": 64}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="bench", serviceName="web", taskDefinition=task, desiredCount=2)
    boto3.client("eks").create_cluster(
        name="bench-eks",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": []},
    )
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": f"{host}/{REPO}:0"}]},
            },
        },
    }
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit("kubectl is needed (see the sandbox's Kubernetes section in README)")
    subprocess.run(
        [kubectl, "apply", "-f", "-"],
        input=json.dumps(deployment),
        text=True,
        env={**os.environ, "HOME": str(work)},
        check=True,
        capture_output=True,
    )
    bare, seed = work / "manifests.git", work / "seed"
    _git("init", "-q", "--bare", "-b", "main", str(bare), cwd=work)
    _git("init", "-q", "-b", "main", str(seed), cwd=work)
    (seed / "web.yaml").write_text(f"containers:\n  - name: app\n    image: {host}/{REPO}:0\n")
    _git("add", "-A", cwd=seed)
    _git("commit", "-q", "-m", "seed", cwd=seed)
    _git("push", "-q", str(bare), "main", cwd=seed)
    return {
        "ecs": {"type": "ecs", "image": "app", "cluster": "bench", "service": "web", "wait": "2m"},
        "eks": {
            "type": "eks",
            "image": "app",
            "cluster": "bench-eks",
            "deployment": "web",
            "wait": "2m",
        },
        "manifest": {
            "type": "manifest",
            "image": "app",
            "repo": f"file://{bare}",
            "branch": "main",
            "files": ["web.yaml"],
        },
    }


def main() -> int:
    from pydantic import TypeAdapter

    from pipeline.adapters.ancestry import GitAncestry
    from pipeline.adapters.ecs import BotoEcs, make_client
    from pipeline.adapters.eks import Connector
    from pipeline.adapters.gitops import GitRepositories
    from pipeline.config.schema import DeployTarget, Outputs
    from pipeline.ecs.deploy import EcsPorts
    from pipeline.plan import Plan
    from pipeline.sandbox import Ports, Sandbox
    from pipeline.stages import deploy
    from pipeline.stages.results import ImagePublished, Published

    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        box = Sandbox(work / "sandbox")
        box.up(Ports.free())
        try:
            env = box.env()
            os.environ.update(env)
            host = env["PIPELINE_REGISTRY_HOST"]
            targets = _setup(env, work, host)
            labels, ancestry = NoLabels(), GitAncestry(work)
            ecs_ports = EcsPorts(BotoEcs(make_client("ecs", env["AWS_REGION"])), labels, ancestry)
            ports = deploy.DeployPorts(
                ecs=lambda _region: ecs_ports,
                kube=Connector(env["AWS_REGION"], {**os.environ, **GIT}),
                repositories=GitRepositories(work, {**os.environ, **GIT}),
                labels=labels,
                ancestry=ancestry,
                say=lambda _line: None,
            )

            def plan(names: list[str]) -> Plan:
                parsed = tuple(TypeAdapter(DeployTarget).validate_python(targets[n]) for n in names)
                config = SimpleNamespace(deploy=parsed, outputs=Outputs())
                registry = SimpleNamespace(canonical_host=host, host=host)
                return cast(Plan, SimpleNamespace(config=config, registry=registry, root=work))

            def once(names: list[str]) -> float:
                digest = "sha256:" + secrets.token_hex(32)
                image = ImagePublished(
                    "app", f"{host}/{REPO}", REPO, digest, ("sha-1",), pushed=True
                )
                started = time.monotonic()
                done = deploy.run(
                    plan(names),
                    Published((image,)),
                    None,
                    ports,
                    force=True,
                    dry_run=False,
                    clock=time.monotonic,
                    sleep=time.sleep,
                )
                seconds = time.monotonic() - started
                bad = [d for d in done.deployments if d.status != "completed"]
                if bad:
                    raise SystemExit(f"a deploy did not complete: {bad}")
                return seconds

            alone, together = [], []
            for _ in range(trials):
                each = {n: once([n]) for n in ("ecs", "eks", "manifest")}
                alone.append(sum(each.values()))
                together.append(once(["ecs", "eks", "manifest"]))
                print(
                    "one after another "
                    + " + ".join(f"{n} {s:.2f}" for n, s in each.items())
                    + f" = {alone[-1]:.2f} s; at once {together[-1]:.2f} s"
                )
            a, t = statistics.median(alone), statistics.median(together)
            print(f"median: one after another {a:.2f} s, at once {t:.2f} s: {a / t:.1f}x faster")
        finally:
            box.down()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
