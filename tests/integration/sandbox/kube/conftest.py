"""The real kubectl against the Kubernetes API emulation.

Two targets: an API served from this test process (so a test can call
`fail_next` on it directly), and the session sandbox's own, reached only
through what `pipeline sandbox env` exports. kubectl is required: without it
these tests fail and say how to get it; they never skip.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.sandbox.kube.api import KubeApi
from tests.integration.sandbox.kube.support import Kubectl

MISSING = (
    "kubectl is not on PATH: the Kubernetes API emulation is tested with the real client. "
    "Install kubectl v1.27 or later (tested with v1.32; https://kubernetes.io/docs/tasks/tools/ "
    "- Debian's own `kubernetes-client` package is too old) and run the tests again"
)


@pytest.fixture(scope="session")
def kubectl_binary() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail(MISSING, pytrace=False)
    return found


@pytest.fixture
def kube_api() -> Iterator[KubeApi]:
    api = KubeApi(port=0).start()
    yield api
    api.stop()


@pytest.fixture
def kubectl(kubectl_binary: str, kube_api: KubeApi, tmp_path: Path) -> Kubectl:
    """kubectl against the in-process API."""
    return Kubectl(kubectl_binary, kube_api.write_kubeconfig(tmp_path / "kubeconfig"), tmp_path)


@pytest.fixture
def sandbox_kubectl(kubectl_binary: str, sandbox: dict[str, str], tmp_path: Path) -> Kubectl:
    """kubectl as a user of the session sandbox has it: KUBECONFIG from `sandbox env`."""
    return Kubectl(kubectl_binary, sandbox["KUBECONFIG"], tmp_path)


@pytest.fixture
def namespace(sandbox_kubectl: Kubectl) -> str:
    """A namespace of its own in the session sandbox's API."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    sandbox_kubectl("create", "namespace", name)
    return name
