"""The KubeApi port's contract: the fake the Kubernetes deploy's unit tests use (FakeKube)
and the Kubernetes client adapter (against the sandbox's API server, through its
kubeconfig) answer the same cases the same way: a Deployment as the API's JSON, a
strategic-merge patch that changes one container's image by name and leaves the others,
annotations set and removed, a rollout that ends, and a missing Deployment refused."""

from __future__ import annotations

import copy
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.adapters.kube import from_kubeconfig
from pipeline.deployment import DeployError
from pipeline.kube.ports import KubeApi, KubeObject, KubeUnavailable
from pipeline.kube.rollout import judge, state
from tests.integration.sandbox.kube.conftest import MISSING
from tests.integration.sandbox.kube.support import Kubectl
from tests.unit.kube.fakes import FakeClock, FakeKube, deployment

IMAGES = {"app": "registry.example/app:1", "envoy": "registry.example/envoy:1.30"}


@dataclass
class World:
    """One side of the contract: the port, where its Deployment is, and how to wait until
    the cluster has acted on the last change."""

    port: KubeApi
    namespace: str
    name: str
    settle: Callable[[], KubeObject]


def _fake() -> World:
    clock = FakeClock()
    kube = FakeKube(deployment(IMAGES), clock, roll_seconds=5)

    def settle() -> KubeObject:
        clock.sleep(5)
        return kube.get_deployment("default", "backend")

    return World(kube, "default", "backend", settle)


def _manifest(namespace: str) -> dict[str, Any]:
    """The fake's Deployment, as a manifest the API server takes."""
    made = copy.deepcopy(deployment(IMAGES))
    spec = made["spec"]
    spec["selector"] = {"matchLabels": {"app": "backend"}}
    spec["template"]["metadata"] = {"labels": {"app": "backend"}}
    spec["template"]["spec"].pop("initContainers")
    meta = {"name": "backend", "namespace": namespace, "annotations": {}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def _real(sandbox: dict[str, str], tmp_path: Path) -> Iterator[World]:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.fail(MISSING, pytrace=False)
    kubectl = Kubectl(binary, sandbox["KUBECONFIG"], tmp_path)
    namespace = f"c-{uuid.uuid4().hex[:10]}"
    kubectl("create", "namespace", namespace)
    kubectl.apply(_manifest(namespace))
    context = yaml.safe_load(Path(sandbox["KUBECONFIG"]).read_text())["current-context"]
    api = from_kubeconfig(context, sandbox["KUBECONFIG"])

    def settle() -> KubeObject:
        give_up = time.monotonic() + 60
        while True:  # the emulated controller rolls out in a few seconds of real time
            obj = api.get_deployment(namespace, "backend")
            if judge(state(obj)).done or time.monotonic() > give_up:
                return obj
            time.sleep(0.2)

    try:
        yield World(api, namespace, "backend", settle)
    finally:
        api.close()
        kubectl("delete", "namespace", namespace, "--wait=false")


@pytest.fixture(params=["fake", "kube-client"])
def world(
    request: pytest.FixtureRequest, sandbox: dict[str, str], tmp_path: Path
) -> Iterator[World]:
    if request.param == "fake":
        yield _fake()
    else:
        yield from _real(sandbox, tmp_path)


def _images(obj: KubeObject) -> dict[str, str]:
    return {c["name"]: c["image"] for c in obj["spec"]["template"]["spec"]["containers"]}


def test_a_deployment_is_the_api_s_json(world: World) -> None:
    obj = world.port.get_deployment(world.namespace, world.name)
    assert obj["metadata"]["name"] == world.name
    assert _images(obj) == IMAGES
    assert isinstance(obj["metadata"]["generation"], int)
    assert judge(state(world.settle())).done


def test_a_patch_changes_one_container_by_name_and_leaves_the_others(world: World) -> None:
    before = world.port.get_deployment(world.namespace, world.name)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "r/app:2"}]}}}}
    after = world.port.patch_deployment(world.namespace, world.name, patch)
    assert _images(after) == {**IMAGES, "app": "r/app:2"}
    assert after["metadata"]["generation"] > before["metadata"]["generation"]
    ports = after["spec"]["template"]["spec"]["containers"][0].get("ports")
    assert ports == before["spec"]["template"]["spec"]["containers"][0].get("ports")
    assert _images(world.port.get_deployment(world.namespace, world.name)) == _images(after)


def test_annotations_are_set_and_removed(world: World) -> None:
    key = "pipeline.example/revision"
    world.port.patch_deployment(
        world.namespace, world.name, {"metadata": {"annotations": {key: "a" * 40}}}
    )
    got = world.port.get_deployment(world.namespace, world.name)
    assert got["metadata"]["annotations"][key] == "a" * 40
    world.port.patch_deployment(
        world.namespace, world.name, {"metadata": {"annotations": {key: None}}}
    )
    got = world.port.get_deployment(world.namespace, world.name)
    assert key not in (got["metadata"].get("annotations") or {})


def test_a_new_image_rolls_out_to_every_replica(world: World) -> None:
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "envoy", "image": "r/envoy:2"}]}}}
    }
    world.port.patch_deployment(world.namespace, world.name, patch)
    settled = state(world.settle())
    assert judge(settled).done, settled
    assert settled.updated == settled.desired


def test_a_missing_deployment_is_refused_and_named(world: World) -> None:
    with pytest.raises(DeployError) as refused:
        world.port.get_deployment(world.namespace, "nowhere")
    assert not isinstance(refused.value, KubeUnavailable)  # asking again would not help
    assert "nowhere" in str(refused.value) and "404" in str(refused.value)
