"""Pushing through a registry that fails: a fault-injecting proxy in front of the sandbox's.

dockerd and our registry client both reach the sandbox registry through
`ReverseProxy(..., [Faults(...)])`: 20 % of requests are reset (before or
after their body), answered 503 or 429, or stalled. Digests are checked
through the sandbox's own port, where nothing is injected.

About the retry budget: at this share, one `docker push` attempt (a ping,
a HEAD per layer, the uploads, the manifest PUT: 6 to 12 requests, any
failure of which ends the attempt) succeeds about one time in three, so the
unluckiest of 20 images needs 10 or more attempts. The test runs with the
default budget (10 minutes per push, backoff up to 30 s), which is sized so
that this share of faults is survived, not just a registry that fails now and
then. The 100-push measurement, and what the raw `docker push` makes of the
same faults, are in bench/push_faults.py.

The fault hook is tests/faults.py: test-only, outside the package.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pipeline import app, retry
from pipeline.adapters import ecr as ecr_adapter
from pipeline.adapters.docker_engine import Engine
from pipeline.adapters.ports import Credentials
from pipeline.adapters.registry_http import RegistryClient
from pipeline.errors import PushError
from pipeline.plan import ImagePlan
from pipeline.sandbox.proxy import ReverseProxy
from pipeline.stages.push import Pusher
from tests.faults import KINDS, Faults
from tests.integration.run.support import (
    ACCOUNT,
    Project,
    Registry,
    ecr_config,
    image_tags,
    run_cli,
)

IMAGES = 20
SHARE = 0.2
BLOB = 64 * 1024  # per image: its own, incompressible layer
_ATTEMPT = re.compile(r"push \S+/(img\d+):\S+: attempt (\d+) failed")


@pytest.fixture(scope="module")
def faults() -> Faults:
    return Faults(share=SHARE, kinds=KINDS, seed=20, stall_seconds=1.0)


@pytest.fixture(scope="module")
def fault_proxy(sandbox: dict[str, str], faults: Faults) -> Iterator[ReverseProxy]:
    with ReverseProxy(sandbox["PIPELINE_REGISTRY_HOST"], [faults]) as proxy:
        yield proxy


def _blob_project(project: Project, prefix: str, count: int) -> list[dict[str, Any]]:
    images = []
    for i in range(count):
        project.write(f"img{i}/Dockerfile", "FROM local/busybox:1\nCOPY blob /blob\n")
        (project.root / f"img{i}" / "blob").write_bytes(os.urandom(BLOB))
        images.append({"name": f"img{i}", "repository": f"{prefix}/img{i}", "context": f"img{i}"})
    return images


def test_twenty_pushes_through_faults_all_land(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
    registry: Registry,
    faults: Faults,
    fault_proxy: ReverseProxy,
) -> None:
    project = make_project("app")
    project.config(ecr_config(_blob_project(project, prefix, IMAGES)))
    project.commit("twenty images")
    before = Counter(faults.counts)

    result = run_cli(
        project,
        {**env, "PIPELINE_REGISTRY_HOST": fault_proxy.address},
        "-v",
        "run",
        "--only",
        "build,push",
        "--jobs",
        str(IMAGES),
        timeout=900,  # the default budget is 10 minutes a push; these take about 2
    )

    fired = Counter(faults.counts)
    fired.subtract(before)
    attempts: dict[str, int] = {}
    for name, attempt in _ATTEMPT.findall(result.stderr):
        attempts[name] = max(attempts.get(name, 0), int(attempt))
    print(
        f"\n20 pushes through {SHARE:.0%} faults: exit {result.code} in {result.seconds:.1f} s;"
        f" faults {dict(fired)}; failed attempts per image {sorted(attempts.values())}"
    )
    assert result.code == 0, result.describe()
    for i in range(IMAGES):
        entry = result.image(f"img{i}")
        repo = f"{prefix}/img{i}"
        assert entry["pushed"] is True and entry["error"] is None
        # read past the faults: the sandbox's own port
        assert registry.digest(repo, entry["tags"][0]) == entry["digest"]
        assert image_tags(ecr, repo) == {entry["digest"]: set(entry["tags"])}
    # The faults fired, every kind of them, and the run retried its way through.
    assert fired["requests"] > 100
    for kind in KINDS:
        assert fired[kind] > 0, (kind, dict(fired))
    assert sum(attempts.values()) > 0, "no push was ever retried"
    assert "retrying in" in result.stderr


def _plan_image(project: Project, env: dict[str, str], repository: str) -> ImagePlan:
    plan = app.make_plan(app.Source(project.root / "pipeline.yaml"), stages=("push",), env=env)
    image = plan.images[0]
    host = image.image.split("/", 1)[0]
    return dataclasses.replace(image, repository=repository, image=f"{host}/{repository}")


class WrongPassword:
    """Credentials the registry will always refuse, however often they are fetched."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.refreshes = 0

    def get(self) -> Credentials:
        return Credentials("AWS", "not-the-password", self.host)

    def refresh(self) -> Credentials:
        self.refreshes += 1
        return self.get()


def test_unfixable_errors_fail_fast_without_retry_pauses(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
    faults: Faults,
    fault_proxy: ReverseProxy,
    docker_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real adapters and retry policy, behind the same proxy with its faults off.

    Faults stay off here so that every pause the policy might take would be
    one it took for the error itself.
    """
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # boto3 in this process: the sandbox's ECR
    host = fault_proxy.address
    project = make_project("app")
    project.write("Dockerfile", "FROM local/busybox:1\n")
    project.config(ecr_config([{"name": "app", "repository": f"{prefix}/app"}], create=False))
    project.commit("first")
    plan_env = {**env, "PIPELINE_REGISTRY_HOST": host}
    for name in ("not-local", "refused"):
        ecr.create_repository(repositoryName=f"{prefix}/{name}", registryId=ACCOUNT)

    def pusher(credentials: Any) -> tuple[Pusher, list[float]]:
        sleeps: list[float] = []
        engine = Engine()
        registry = RegistryClient(host, credentials)
        retagger = ecr_adapter.PutImageRetagger("us-east-1", ACCOUNT)
        waits = retry.Waits(sleep=sleeps.append)
        return Pusher(engine, registry, retagger, credentials, retry.Policy(), waits), sleeps

    def tagged(image: ImagePlan) -> None:
        docker_client.images.get("local/busybox:1").tag(image.image, image.tags.immutable[0])

    token = ecr_adapter.TokenCredentials(ecr_adapter.private_token("us-east-1", host))
    missing_repo = _plan_image(project, plan_env, f"{prefix}/no-such-repository")
    not_local = _plan_image(project, plan_env, f"{prefix}/not-local")
    refused = _plan_image(project, plan_env, f"{prefix}/refused")
    tagged(missing_repo)
    tagged(refused)
    wrong = WrongPassword(host)
    cases = [
        (token, missing_repo, f"repository with name '{prefix}/no-such-repository' does not exist"),
        (token, not_local, "An image does not exist locally"),
        (wrong, refused, "rejects our credentials"),
    ]
    share, faults.share = faults.share, 0.0
    try:
        for credentials, image, cause in cases:
            push, sleeps = pusher(credentials)
            started = time.monotonic()
            with pytest.raises(PushError) as err:
                push.publish(image, image.repository)
            took = time.monotonic() - started
            assert cause in str(err.value), str(err.value)
            assert took < 2.0, (cause, took)
            assert [s for s in sleeps if s > 0] == [], (cause, sleeps)
    finally:
        faults.share = share
    assert wrong.refreshes == 1  # fetched again once, then believed
