"""The KubeConnector port's contract: the fake the Kubernetes deploy's unit tests use
(FakeConnector, told its clusters) and the real connector (kubeconfig contexts and EKS
clusters, against the sandbox's Kubernetes API and its moto EKS) answer the same cases
the same way: a context or an EKS cluster reached, an unknown context or cluster refused
by name, a server that does not answer worth asking again, credentials the cluster
refuses not (401), a cluster without a region or without AWS credentials to sign for
refused; and no token or secret in any message."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.adapters.eks import Connector
from pipeline.deployment import DeployError
from pipeline.kube.ports import Cluster, KubeConnector, KubeUnavailable
from tests.integration.sandbox.kube.conftest import MISSING
from tests.integration.sandbox.kube.support import Kubectl
from tests.integration.sandboxes import aws_client
from tests.unit.kube.fakes import FakeClock, FakeConnector, FakeKube, deployment

WRONG_TOKEN = "s3cr3t-wrong-token-value"
AWS_SECRET = "s3cr3t-aws-secret-key"
UNREACHABLE = "https://127.0.0.1:1"  # nothing listens on port 1: refused at once


@dataclass
class World:
    """One side of the contract: a connector maker (whether AWS_REGION is set, whether
    AWS credentials are there), where the Deployment `backend` is, the kubeconfig
    context that works, an EKS cluster of the region, and the secrets no message may hold."""

    connector: Callable[[bool, bool], KubeConnector]
    namespace: str
    context: str
    region: str
    eks_cluster: str
    secrets: tuple[str, ...]


def _fake() -> World:
    clock = FakeClock()
    region, eks_cluster = "eu-west-1", "contract-eks"

    def kube(label: str, **how: Any) -> FakeKube:
        return FakeKube(deployment({"app": "r.example/app:1"}), clock, label=label, **how)

    contexts = {
        "sandbox": kube("context sandbox"),
        "bad-token": kube("context bad-token", unauthorized=True),
        "unreachable": kube("context unreachable", unavailable=10**6),
    }
    clusters = {(region, eks_cluster): kube(f"EKS cluster {eks_cluster} ({region})")}

    def connector(with_region: bool, credentials: bool) -> KubeConnector:
        return FakeConnector(
            contexts=contexts,
            eks=clusters,
            region=region if with_region else None,
            credentials=credentials,
        )

    return World(connector, "default", "sandbox", region, eks_cluster, (WRONG_TOKEN, AWS_SECRET))


def _kubeconfig(sandbox: dict[str, str], path: Path) -> tuple[str, str]:
    """The sandbox's kubeconfig plus a context whose token the cluster refuses and one whose
    server does not answer; returns the working context and the sandbox's own token."""
    config = yaml.safe_load(Path(sandbox["KUBECONFIG"]).read_text())
    good = config["current-context"]
    context = next(c["context"] for c in config["contexts"] if c["name"] == good)
    user = next(u for u in config["users"] if u["name"] == context["user"])
    config["users"].append({"name": "wrong", "user": {"token": WRONG_TOKEN}})
    config["clusters"].append({"name": "unreachable", "cluster": {"server": UNREACHABLE}})
    config["contexts"] += [
        {"name": "bad-token", "context": {"cluster": context["cluster"], "user": "wrong"}},
        {"name": "unreachable", "context": {"cluster": "unreachable", "user": context["user"]}},
    ]
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return good, str(user["user"]["token"])


def _real(sandbox: dict[str, str], tmp_path: Path) -> Iterator[World]:
    from botocore.credentials import Credentials

    binary = shutil.which("kubectl")
    if binary is None:
        pytest.fail(MISSING, pytrace=False)
    kubectl = Kubectl(binary, sandbox["KUBECONFIG"], tmp_path)
    namespace = f"c-{uuid.uuid4().hex[:10]}"
    kubectl("create", "namespace", namespace)
    kubectl.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "backend", "namespace": namespace},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "backend"}},
                "template": {
                    "metadata": {"labels": {"app": "backend"}},
                    "spec": {"containers": [{"name": "app", "image": "r.example/app:1"}]},
                },
            },
        }
    )
    kubeconfig = tmp_path / "kubeconfig"
    good, own_token = _kubeconfig(sandbox, kubeconfig)
    region = sandbox["AWS_REGION"]
    eks_cluster = f"contract-{uuid.uuid4().hex[:8]}"
    aws_client(sandbox, "eks").create_cluster(
        name=eks_cluster,
        roleArn="arn:aws:iam::123456789012:role/eks-cluster",
        resourcesVpcConfig={"subnetIds": []},
    )

    def eks(in_region: str) -> Any:
        return aws_client({**sandbox, "AWS_REGION": in_region}, "eks", one_attempt=True)

    def connector(with_region: bool, credentials: bool) -> KubeConnector:
        env = {"KUBECONFIG": str(kubeconfig), **({"AWS_REGION": region} if with_region else {})}
        return Connector(
            None,
            env,
            credentials=lambda: Credentials("AKIDEXAMPLE", AWS_SECRET) if credentials else None,
            eks=eks,
        )

    try:
        yield World(
            connector, namespace, good, region, eks_cluster, (WRONG_TOKEN, AWS_SECRET, own_token)
        )
    finally:
        kubectl("delete", "namespace", namespace, "--wait=false")


@pytest.fixture(params=["fake", "real"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "fake":
        yield _fake()
    else:
        yield from _real(request.getfixturevalue("sandbox"), tmp_path)


def _no_secret(world: World, err: BaseException) -> None:
    text = str(err)
    assert not [s for s in world.secrets if s in text], text


def _reaches(world: World, cluster: Cluster) -> None:
    api = world.connector(True, True).connect(cluster)
    try:
        obj = api.get_deployment(world.namespace, "backend")
        assert obj["metadata"]["name"] == "backend"
    finally:
        api.close()


def test_a_kubeconfig_context_reaches_its_cluster(world: World) -> None:
    _reaches(world, Cluster(context=world.context))


def test_an_eks_cluster_is_reached_by_name_in_the_default_or_its_own_region(
    world: World,
) -> None:
    _reaches(world, Cluster(name=world.eks_cluster))
    _reaches(world, Cluster(name=world.eks_cluster, region=world.region))


def test_an_unknown_context_is_refused_and_named_without_a_token(world: World) -> None:
    with pytest.raises(DeployError, match="context no-such-context") as refused:
        world.connector(True, True).connect(Cluster(context="no-such-context"))
    assert not isinstance(refused.value, KubeUnavailable)
    _no_secret(world, refused.value)


def test_a_server_that_does_not_answer_is_worth_asking_again(world: World) -> None:
    api = world.connector(True, True).connect(Cluster(context="unreachable"))
    try:
        with pytest.raises(KubeUnavailable, match="context unreachable") as unavailable:
            api.get_deployment(world.namespace, "backend")
    finally:
        api.close()
    _no_secret(world, unavailable.value)


def test_credentials_the_cluster_refuses_are_a_401_that_asking_again_would_not_fix(
    world: World,
) -> None:
    api = world.connector(True, True).connect(Cluster(context="bad-token"))
    try:
        with pytest.raises(DeployError, match="context bad-token") as refused:
            api.get_deployment(world.namespace, "backend")
    finally:
        api.close()
    assert not isinstance(refused.value, KubeUnavailable)
    assert "401" in str(refused.value) and "credentials" in str(refused.value)
    _no_secret(world, refused.value)


def test_an_eks_cluster_that_does_not_exist_is_refused_and_named(world: World) -> None:
    with pytest.raises(
        DeployError, match=f"EKS cluster no-such-cluster not found in {world.region}"
    ):
        world.connector(True, True).connect(Cluster(name="no-such-cluster"))


def test_an_eks_cluster_without_a_region_is_refused(world: World) -> None:
    with pytest.raises(DeployError, match="no region for EKS cluster"):
        world.connector(False, True).connect(Cluster(name=world.eks_cluster))


def test_an_eks_cluster_without_aws_credentials_to_sign_with_is_refused(world: World) -> None:
    with pytest.raises(DeployError, match="no AWS credentials") as refused:
        world.connector(True, False).connect(Cluster(name=world.eks_cluster))
    _no_secret(world, refused.value)


def test_a_cluster_named_neither_way_is_refused(world: World) -> None:
    with pytest.raises(DeployError, match="either `cluster`"):
        world.connector(True, True).connect(Cluster())
