"""The session sandbox's Kubernetes API, reached as users reach it: through
`pipeline sandbox env` (KUBECONFIG) and through an EKS cluster's describe_cluster."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.sandbox.kube.support import Kubectl, deployment, eks_token
from tests.integration.sandboxes import aws_client


def _aws(sandbox: dict[str, str], service: str) -> Any:
    return aws_client(sandbox, service)


@pytest.fixture
def eks_cluster(sandbox: dict[str, str]) -> Iterator[dict[str, Any]]:
    eks = _aws(sandbox, "eks")
    name = f"sbx-{uuid.uuid4().hex[:8]}"
    eks.create_cluster(
        name=name,
        roleArn=f"arn:aws:iam::{sandbox['AWS_ACCOUNT_ID']}:role/eks",
        resourcesVpcConfig={"subnetIds": []},
    )
    yield eks.describe_cluster(name=name)["cluster"]
    eks.delete_cluster(name=name)


def _apps_api(cluster: dict[str, Any], token: str | None, folder: Path) -> Any:
    """The official client configured the way an EKS deploy configures it."""
    from kubernetes import client

    ca = folder / "ca.pem"
    ca.write_bytes(base64.b64decode(cluster["certificateAuthority"]["data"]))
    config = client.Configuration()
    config.host = cluster["endpoint"]
    config.ssl_ca_cert = str(ca)
    if token is not None:
        config.api_key = {"authorization": f"Bearer {token}"}
    return client.AppsV1Api(client.ApiClient(config))


def _rolled_out(obj: Any) -> bool:
    """kubectl rollout status's test, on the client's objects."""
    status, want = obj.status, obj.spec.replicas
    return (
        (status.observed_generation or 0) >= obj.metadata.generation
        and (status.updated_replicas or 0) >= want
        and (status.replicas or 0) <= (status.updated_replicas or 0)
        and (status.available_replicas or 0) >= (status.updated_replicas or 0)
    )


def test_sandbox_env_gives_kubectl_a_working_kubeconfig(
    sandbox_kubectl: Kubectl, namespace: str
) -> None:
    manifest = deployment(namespace=namespace)
    assert "created" in sandbox_kubectl.apply(manifest)
    sandbox_kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=30s")
    sandbox_kubectl("set", "image", "deployment/web", "app=registry.example/app:2", "-n", namespace)
    sandbox_kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=30s")
    got = sandbox_kubectl.json("get", "deploy", "web", "-n", namespace)
    assert got["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert got["status"]["availableReplicas"] == 3


def test_an_eks_cluster_points_at_the_api_with_its_ca(
    sandbox: dict[str, str], eks_cluster: dict[str, Any]
) -> None:
    kubeconfig = json.loads(Path(sandbox["KUBECONFIG"]).read_text())
    server = kubeconfig["clusters"][0]["cluster"]
    assert eks_cluster["endpoint"] == server["server"]
    assert eks_cluster["endpoint"].startswith("https://127.0.0.1:")
    assert eks_cluster["certificateAuthority"]["data"] == server["certificate-authority-data"]
    assert b"BEGIN CERTIFICATE" in base64.b64decode(eks_cluster["certificateAuthority"]["data"])


def test_the_python_client_with_an_eks_token_reads_and_patches_a_deployment(
    sandbox: dict[str, str],
    eks_cluster: dict[str, Any],
    sandbox_kubectl: Kubectl,
    namespace: str,
    tmp_path: Path,
) -> None:
    from kubernetes import watch

    sandbox_kubectl.apply(deployment(namespace=namespace))
    # The first template must have rolled out: a controller that first looks after
    # the patch sees one template only (revision 1), as a busy real one may.
    sandbox_kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=30s")
    apps = _apps_api(eks_cluster, eks_token(sandbox, eks_cluster["name"]), tmp_path)
    before = apps.read_namespaced_deployment("web", namespace)
    assert [c.name for c in before.spec.template.spec.containers] == ["app", "envoy"]

    # A strategic-merge patch naming only the app container (the client's default for a dict).
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "image": "registry.example/app@sha256:" + "a" * 64}
                    ]
                }
            }
        }
    }
    patched = apps.patch_namespaced_deployment("web", namespace, patch)
    pod = patched.spec.template.spec
    assert [(c.name, c.image) for c in pod.containers] == [
        ("app", "registry.example/app@sha256:" + "a" * 64),
        ("envoy", "registry.example/envoy:1.30"),
    ]
    assert pod.containers[1].args == ["--config", "/etc/envoy.yaml"]
    assert pod.init_containers[0].image == "registry.example/migrate:7"
    assert pod.containers[0].env[0].value == "prod"

    started = time.monotonic()
    stream = watch.Watch()
    done = None
    for event in stream.stream(
        apps.list_namespaced_deployment,
        namespace,
        field_selector="metadata.name=web",
        timeout_seconds=30,
    ):
        if event["object"].metadata.generation == patched.metadata.generation and _rolled_out(
            event["object"]
        ):
            done = event["object"]
            stream.stop()
    assert done is not None, "the rollout did not finish within 30 s"
    assert time.monotonic() - started < 10
    assert done.metadata.annotations["deployment.kubernetes.io/revision"] == "2"


def test_requests_without_a_valid_eks_token_are_401(
    eks_cluster: dict[str, Any], tmp_path: Path
) -> None:
    from kubernetes.client import ApiException

    for token in (None, "k8s-aws-v1.bm90LWEtdXJs", "garbage"):
        with pytest.raises(ApiException) as err:
            _apps_api(eks_cluster, token, tmp_path).list_namespaced_deployment("default")
        assert err.value.status == 401


def test_the_python_client_loads_the_sandbox_kubeconfig(
    sandbox: dict[str, str], sandbox_kubectl: Kubectl, namespace: str
) -> None:
    from kubernetes import client, config

    sandbox_kubectl.apply(deployment(name="api", namespace=namespace, replicas=1))
    api = client.AppsV1Api(config.new_client_from_config(config_file=sandbox["KUBECONFIG"]))
    names = [d.metadata.name for d in api.list_namespaced_deployment(namespace).items]
    assert names == ["api"]
