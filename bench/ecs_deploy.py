#!/usr/bin/env python3
"""ECS deploys against the sandbox's rollout emulation, against what a user runs today.

    notice    one deploy, from UpdateService to the verdict: `deploy_ecs` against
              the aws-actions way (UpdateService, then the SDK's services-stable
              waiter, which asks every 15 s); target: a finished rollout seen
              within 3 s of its end
    parallel  four services deployed by `deploy_all` against one after another

The emulation finishes a rollout ROLLOUT_SECONDS after UpdateService
(PIPELINE_SANDBOX_ECS_ROLLOUT_SECONDS). Not part of `make test`; run with
`bench/ecs_deploy.py`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROLLOUT_SECONDS = 2.0
REPO = "127.0.0.1:1/bench/web"
RUNS = 3


def _client(env: dict[str, str]) -> Any:
    from tests.integration.sandboxes import aws_client

    return aws_client(env, "ecs", one_attempt=True)


class _NoLabels:
    def labels(self, image: str) -> None:
        return None


class _NoGit:
    def is_ancestor(self, ancestor: str, descendant: str) -> None:
        return None


def _image(n: int) -> str:
    return f"{REPO}@sha256:{n:064x}"


def _services(ecs: Any, cluster: str, names: list[str]) -> None:
    """A cluster (and a task definition family) named `cluster`, with these services."""
    ecs.create_cluster(clusterName=cluster)
    arn = ecs.register_task_definition(
        family=cluster, containerDefinitions=[{"name": "app", "image": f"{REPO}:v0", "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    for name in names:
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=arn, desiredCount=2)
    time.sleep(ROLLOUT_SECONDS + 1)  # the services' first rollout is over


def _ours(ecs: Any, cluster: str, service: str, n: int) -> float:
    from pipeline.adapters.ecs import BotoEcs
    from pipeline.ecs.deploy import EcsPorts, EcsTarget, deploy_ecs

    ports = EcsPorts(BotoEcs(ecs), _NoLabels(), _NoGit())
    start = time.perf_counter()
    result = deploy_ecs(
        EcsTarget(cluster, service, wait=120.0), _image(n), None, ports, say=lambda _l: None
    )
    took = time.perf_counter() - start
    assert result.status == "completed", result.message
    return took


def _theirs(ecs: Any, cluster: str, service: str, family: str, n: int) -> float:
    """amazon-ecs-deploy-task-definition: register, update, services-stable waiter (15 s)."""
    start = time.perf_counter()
    arn = ecs.register_task_definition(
        family=family, containerDefinitions=[{"name": "app", "image": _image(n), "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=cluster, service=service, taskDefinition=arn)
    ecs.get_waiter("services_stable").wait(
        cluster=cluster, services=[service], WaiterConfig={"Delay": 15, "MaxAttempts": 40}
    )
    return time.perf_counter() - start


def bench_notice(ecs: Any) -> dict[str, object]:
    _services(ecs, "notice", ["ours", "theirs"])
    ours = [_ours(ecs, "notice", "ours", i) for i in range(1, RUNS + 1)]
    theirs = [_theirs(ecs, "notice", "theirs", "notice", i) for i in range(1, RUNS + 1)]
    return {
        "rollout_s": ROLLOUT_SECONDS,
        "ours_median_s": round(statistics.median(ours), 2),
        "ours_after_rollout_end_s": round(statistics.median(ours) - ROLLOUT_SECONDS, 2),
        "waiter_median_s": round(statistics.median(theirs), 2),
        "speedup": round(statistics.median(theirs) / statistics.median(ours), 2),
        "target": "rollout end seen within 3 s",
    }


def bench_parallel(ecs: Any) -> dict[str, object]:
    from pipeline.adapters.ecs import BotoEcs
    from pipeline.ecs.deploy import EcsJob, EcsPorts, EcsTarget, deploy_all

    names = ["a", "b", "c", "d"]
    _services(ecs, "parallel", names)
    start = time.perf_counter()
    for name in names:
        _ours(ecs, "parallel", name, 100)
    sequential = time.perf_counter() - start
    ports = EcsPorts(BotoEcs(ecs), _NoLabels(), _NoGit())
    jobs = [EcsJob(EcsTarget("parallel", n, wait=120.0), _image(200), None, ports) for n in names]
    start = time.perf_counter()
    results = deploy_all(jobs, say=lambda _l: None)
    together = time.perf_counter() - start
    assert all(r.status == "completed" for r in results), [r.message for r in results]
    return {
        "services": len(names),
        "one_after_another_s": round(sequential, 2),
        "deploy_all_s": round(together, 2),
        "speedup": round(sequential / together, 2),
        "target": ">= 2 (four targets)",
    }


def main() -> int:
    from pipeline.sandbox import Ports, Sandbox

    os.environ["PIPELINE_SANDBOX_ECS_ROLLOUT_SECONDS"] = str(ROLLOUT_SECONDS)
    results: dict[str, object] = {"date": dt.date.today().isoformat()}
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-ecs-") as tmp:
        box = Sandbox(Path(tmp) / "sandbox")
        box.up(Ports.free())
        try:
            ecs = _client(box.env())
            results["notice"] = bench_notice(ecs)
            print("notice", results["notice"], flush=True)
            results["parallel"] = bench_parallel(ecs)
            print("parallel", results["parallel"], flush=True)
        finally:
            box.down()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
