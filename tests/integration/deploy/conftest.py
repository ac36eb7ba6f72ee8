"""Fixtures for `pipeline run` deploys against a sandbox of their own.

ECS clusters cannot be removed from the emulation (DeleteCluster only marks
them INACTIVE), and other suites check what a fresh sandbox lists: these
tests get their own sandbox, as the ECS core's do.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.sandbox import Sandbox
from tests.integration.run.conftest import ecr, home, make_project, prefix, token
from tests.integration.run.support import clean_env
from tests.integration.sandbox.kube.conftest import MISSING
from tests.integration.sandbox.kube.support import Kubectl
from tests.integration.sandboxes import aws_client, running_sandbox

__all__ = ["ecr", "home", "make_project", "prefix", "token"]


@pytest.fixture(scope="session")
def sandbox_handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    yield from running_sandbox(tmp_path_factory, "deploy-sandbox")


@pytest.fixture(scope="session")
def sandbox(sandbox_handle: Sandbox) -> dict[str, str]:
    return sandbox_handle.env()


@pytest.fixture
def env(sandbox: dict[str, str], home: Path) -> dict[str, str]:
    return clean_env(sandbox, home)


@pytest.fixture(scope="session")
def aws(sandbox: dict[str, str]) -> Callable[[str], Any]:
    def client(name: str) -> Any:
        return aws_client(sandbox, name)

    return client


@pytest.fixture
def unique() -> str:
    return f"d-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def cluster(aws: Callable[[str], Any], unique: str) -> str:
    aws("ecs").create_cluster(clusterName=unique)
    return unique


@pytest.fixture(scope="session")
def kubectl_binary() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(MISSING, pytrace=False)
    return found


@pytest.fixture
def kubectl(kubectl_binary: str, sandbox: dict[str, str], tmp_path: Path) -> Kubectl:
    """kubectl as a user of the sandbox has it: KUBECONFIG from `sandbox env`."""
    return Kubectl(kubectl_binary, sandbox["KUBECONFIG"], tmp_path)


@pytest.fixture
def namespace(kubectl: Kubectl) -> str:
    name = f"t-{uuid.uuid4().hex[:10]}"
    kubectl("create", "namespace", name)
    return name


@pytest.fixture
def eks_cluster(aws: Callable[[str], Any], sandbox: dict[str, str]) -> Iterator[str]:
    """An EKS cluster of the emulation: it points at the sandbox's Kubernetes API."""
    eks = aws("eks")
    name = f"eks-{uuid.uuid4().hex[:8]}"
    eks.create_cluster(
        name=name,
        roleArn=f"arn:aws:iam::{sandbox['AWS_ACCOUNT_ID']}:role/eks",
        resourcesVpcConfig={"subnetIds": []},
    )
    yield name
    eks.delete_cluster(name=name)
