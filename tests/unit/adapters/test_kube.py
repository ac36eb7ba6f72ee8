"""The kubernetes client is optional: without it, a clear error says what to install."""

from __future__ import annotations

import sys

import pytest

from pipeline.adapters import kube
from pipeline.deployment import DeployError


def test_a_missing_client_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes", None)  # import now raises ImportError
    with pytest.raises(DeployError, match=r"pip install 'pipeline-release\[eks\]'"):
        kube.from_endpoint("https://127.0.0.1:1", None, lambda: "t", "EKS cluster prod")
    with pytest.raises(DeployError, match=r"pip install 'pipeline-release\[eks\]'"):
        kube.from_kubeconfig("ctx", None)


def test_importing_the_package_does_not_import_the_client() -> None:
    import subprocess

    code = (
        "import sys, pipeline.adapters.kube, pipeline.adapters.eks, pipeline.kube.deploy;"
        "print('kubernetes' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
