"""deploy_eks against a fake cluster whose controller runs on a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.config.schema import EksTarget
from pipeline.deployment import DeployError
from pipeline.kube.deploy import Running, deploy_eks
from pipeline.kube.patch import REVISION_ANNOTATION
from pipeline.kube.ports import Cluster
from tests.unit.kube.fakes import FakeClock, FakeConnector, FakeKube, deployment

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/myapp/backend"
OLD = f"{REPO}:sha-0000001"
NEW = f"{REPO}@sha256:" + "a" * 64
ENVOY = "public.ecr.aws/envoy/envoy:v1.30"


def settings(**overrides: Any) -> EksTarget:
    values: dict[str, Any] = {
        "type": "eks",
        "image": "backend",
        "cluster": "prod",
        "deployment": "backend",
        "wait": "10m",
    }
    values.update(overrides)
    return EksTarget.model_validate(values)


def setup(
    containers: dict[str, str] | None = None, init: dict[str, str] | None = None, **kube: Any
) -> tuple[FakeClock, FakeKube, FakeConnector]:
    clock = FakeClock()
    obj = deployment(
        containers or {"app": OLD, "envoy": ENVOY},
        init={"migrate": OLD} if init is None else init,
    )
    fake = FakeKube(obj, clock, **kube)
    return clock, fake, FakeConnector(fake)


def test_a_rollout_changes_only_the_app_container_and_completes() -> None:
    clock, kube, ports = setup()
    result = deploy_eks(settings(), NEW, ports, clock, clock.sleep)
    assert result.status == "completed", result.message
    assert (result.type, result.target, result.image, result.previous) == (
        "eks",
        "prod/default/backend",
        NEW,
        OLD,
    )
    assert kube.patches == [
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": "app", "image": NEW}],
                        "initContainers": [{"name": "migrate", "image": NEW}],
                    }
                }
            }
        }
    ]
    # the sidecar stays; the init container of the same repository moves with the app
    assert kube.images() == {"app": NEW, "envoy": ENVOY}
    assert kube.images("initContainers") == {"migrate": NEW}
    assert kube.closed
    assert ports.clusters == [Cluster(name="prod", context=None, region=None)]


@pytest.mark.parametrize("roll_seconds", [0.0, 2.5, 7.2, 61.0])
def test_a_finished_rollout_is_noticed_within_three_seconds(roll_seconds: float) -> None:
    clock, _, ports = setup(roll_seconds=roll_seconds)
    start = clock()
    result = deploy_eks(settings(), NEW, ports, clock, clock.sleep)
    assert result.status == "completed"
    assert clock() - (start + roll_seconds) < 3.0


def test_a_missed_deadline_rolls_back_to_the_previous_image() -> None:
    clock, kube, ports = setup(failing=frozenset({NEW}))
    result = deploy_eks(settings(), NEW, ports, clock, clock.sleep)
    assert result.status == "rolled_back"
    assert "exceeded its progress deadline" in result.message
    assert f"rolled back to {OLD}" in result.message
    assert [p["spec"]["template"]["spec"]["containers"] for p in kube.patches] == [
        [{"name": "app", "image": NEW}],
        [{"name": "app", "image": OLD}],
    ]
    assert kube.images() == {"app": OLD, "envoy": ENVOY}
    assert result.previous == OLD and result.image == NEW


def test_the_deadline_fails_fast_not_at_the_end_of_wait() -> None:
    clock, _, ports = setup(failing=frozenset({NEW}), roll_seconds=20)
    start = clock()
    deploy_eks(settings(wait="1h", rollback=False), NEW, ports, clock, clock.sleep)
    assert clock() - start < 25


def test_without_rollback_a_missed_deadline_fails_and_leaves_the_new_image() -> None:
    clock, kube, ports = setup(failing=frozenset({NEW}))
    result = deploy_eks(settings(rollback=False), NEW, ports, clock, clock.sleep)
    assert result.status == "failed"
    assert "exceeded its progress deadline" in result.message
    assert len(kube.patches) == 1


def test_a_rollout_that_outlasts_wait_fails_with_the_last_state() -> None:
    clock, _kube, ports = setup(roll_seconds=10_000)
    result = deploy_eks(settings(wait="30s", rollback=False), NEW, ports, clock, clock.sleep)
    assert result.status == "failed"
    assert "did not finish within 30s" in result.message
    assert "1 out of 3 new replicas have been updated" in result.message
    assert 30 <= sum(clock.slept) <= 31


def test_a_failed_rollback_is_a_failure_that_says_both() -> None:
    clock, _kube, ports = setup(failing=frozenset({NEW, OLD}))
    result = deploy_eks(settings(), NEW, ports, clock, clock.sleep)
    assert result.status == "failed"
    assert "rollback to" in result.message and "failed too" in result.message


def test_an_unchanged_image_is_a_no_op_that_does_not_wait() -> None:
    clock, kube, ports = setup({"app": NEW, "envoy": ENVOY}, init={"migrate": NEW})
    result = deploy_eks(settings(), NEW, ports, clock, clock.sleep)
    assert result.status == "skipped"
    assert result.message == f"already runs {NEW}"
    assert kube.patches == [] and clock.slept == []


def test_dry_run_reads_and_describes_but_patches_nothing() -> None:
    clock, kube, ports = setup()
    result = deploy_eks(settings(), NEW, ports, clock, clock.sleep, dry_run=True)
    assert result.status == "skipped"
    assert result.message == (
        f'dry run: container "app": {OLD} -> {NEW}; init container "migrate": {OLD} -> {NEW}'
    )
    assert kube.patches == []


def test_a_named_init_container_is_changed_as_kubectl_set_image_would() -> None:
    clock, kube, ports = setup()
    result = deploy_eks(settings(containers=["migrate"]), NEW, ports, clock, clock.sleep)
    assert result.status == "completed", result.message
    assert kube.images() == {"app": OLD, "envoy": ENVOY}
    assert kube.images("initContainers") == {"migrate": NEW}


def test_named_containers_are_the_ones_changed() -> None:
    clock, kube, ports = setup({"app": OLD, "worker": "other/worker:1", "envoy": ENVOY})
    result = deploy_eks(settings(containers=["worker"]), NEW, ports, clock, clock.sleep)
    assert result.status == "completed"
    assert kube.images() == {"app": OLD, "worker": NEW, "envoy": ENVOY}
    assert result.previous == "other/worker:1"


@pytest.mark.parametrize(
    ("containers", "fragment"),
    [
        (["ap"], "has no container named 'ap'; its containers: app, envoy (init containers:"),
        (["app", "wait"], "has no container named 'wait'"),
    ],
)
def test_an_unknown_container_fails_before_any_patch(containers: list[str], fragment: str) -> None:
    clock, kube, ports = setup()
    result = deploy_eks(settings(containers=containers), NEW, ports, clock, clock.sleep)
    assert result.status == "failed"
    assert fragment in result.message
    assert kube.patches == []


def test_no_container_running_the_repository_fails_and_lists_them() -> None:
    clock, kube, ports = setup({"web": "nginx:1.27", "envoy": ENVOY}, init={"wait": "busybox:1"})
    result = deploy_eks(settings(), NEW, ports, clock, clock.sleep)
    assert result.status == "failed"
    assert "web (nginx:1.27), envoy" in result.message
    assert "wait (busybox:1, init)" in result.message
    assert kube.patches == []


def test_the_revision_is_noted_and_restored_on_rollback() -> None:
    clock = FakeClock()
    obj = deployment({"app": OLD}, annotations={REVISION_ANNOTATION: "1" * 40})
    kube = FakeKube(obj, clock, failing=frozenset({NEW}))
    result = deploy_eks(settings(), NEW, FakeConnector(kube), clock, clock.sleep, revision="2" * 40)
    assert result.status == "rolled_back"
    assert [p["metadata"] for p in kube.patches] == [
        {"annotations": {REVISION_ANNOTATION: "2" * 40}},
        {"annotations": {REVISION_ANNOTATION: "1" * 40}},
    ]
    assert kube.obj["metadata"]["annotations"] == {REVISION_ANNOTATION: "1" * 40}


def test_the_guard_sees_what_runs_and_can_refuse() -> None:
    clock = FakeClock()
    obj = deployment({"app": OLD, "envoy": ENVOY}, annotations={REVISION_ANNOTATION: "f" * 40})
    kube = FakeKube(obj, clock)
    seen: list[Running] = []

    def guard(running: Running) -> None:
        seen.append(running)
        raise DeployError("prod/default/backend runs a newer commit; use --force")

    result = deploy_eks(settings(), NEW, FakeConnector(kube), clock, clock.sleep, guard=guard)
    assert seen == [Running("prod/default/backend", {"app": OLD}, "f" * 40)]
    assert result.status == "failed" and "--force" in result.message
    assert kube.patches == []


def test_transient_api_errors_while_waiting_are_asked_again() -> None:
    clock, kube, ports = setup()
    kube.unavailable = 0
    original = kube.patch_deployment

    def patch_then_flap(namespace: str, name: str, body: Any) -> Any:
        out = original(namespace, name, body)
        kube.unavailable = 3
        return out

    kube.patch_deployment = patch_then_flap  # type: ignore[method-assign]
    result = deploy_eks(settings(), NEW, ports, clock, clock.sleep)
    assert result.status == "completed"


def test_a_paused_deployment_fails_at_once() -> None:
    clock, kube, ports = setup()
    kube.obj["spec"]["paused"] = True
    kube.roll_seconds = 10_000
    result = deploy_eks(settings(rollback=False), NEW, ports, clock, clock.sleep)
    assert result.status == "failed" and "paused" in result.message
    assert sum(clock.slept) < 5


@pytest.mark.parametrize("image", [f"{REPO}:1.2.3", "not an image", ""])
def test_an_image_without_a_digest_is_refused(image: str) -> None:
    clock, _kube, ports = setup()
    result = deploy_eks(settings(), image, ports, clock, clock.sleep)
    assert result.status == "failed" and "by digest" in result.message
    assert ports.clusters == []


def test_a_connection_failure_is_a_failed_result() -> None:
    clock = FakeClock()
    ports = FakeConnector(error=DeployError("EKS cluster prod not found in us-east-1"))
    result = deploy_eks(settings(), NEW, ports, clock, clock.sleep)
    assert (result.status, result.message) == ("failed", "EKS cluster prod not found in us-east-1")


def test_a_context_target_connects_by_context_and_names_it() -> None:
    clock, _, ports = setup()
    target = settings(cluster=None, context="kind-dev", region="eu-west-1")
    result = deploy_eks(target, NEW, ports, clock, clock.sleep)
    assert result.target == "kind-dev/default/backend"
    assert ports.clusters == [Cluster(name=None, context="kind-dev", region="eu-west-1")]


def test_a_hiccup_on_the_first_read_is_asked_again() -> None:
    clock, _kube, ports = setup(unavailable=2)
    result = deploy_eks(settings(), NEW, ports, clock, clock.sleep)
    assert result.status == "completed"
    assert clock.slept[:2] == [1.0, 2.0]


def test_an_api_server_that_stays_down_is_a_failed_result_naming_it() -> None:
    clock, kube, ports = setup(unavailable=100)
    result = deploy_eks(settings(), NEW, ports, clock, clock.sleep)
    assert result.status == "failed"
    assert result.message == "reading deployment default/backend: 503 Service Unavailable"
    assert kube.patches == [] and kube.closed
