"""The kubernetes-client adapter over real HTTP(S), against a small recording API server.

What waits for the sandbox's Kubernetes emulation: the same calls against an
API server that kubectl itself accepts, and a rollout that progresses there.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from pipeline import log
from pipeline.adapters import kube
from pipeline.adapters.eks import Connector
from pipeline.deployment import DeployError
from pipeline.kube import token
from pipeline.kube.ports import Cluster, KubeUnavailable
from tests.integration.kube.fakeapi import PATH, FakeApi, status
from tests.unit.kube.fakes import deployment

REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"
NEW = f"{REPO}@sha256:" + "d" * 64


def obj() -> dict[str, Any]:
    return deployment({"app": f"{REPO}:1", "envoy": "envoy:1"}, init={"migrate": f"{REPO}:1"})


class Tokens:
    """Hands out a new fake token each time it is asked after `rotate()`."""

    def __init__(self) -> None:
        self.n = 1

    def rotate(self) -> None:
        self.n += 1

    def __call__(self) -> str:
        value = token.encode(f"https://sts.eu-west-1.amazonaws.com/?X-Amz-Signature=s3cr3t{self.n}")
        log.mask(value)
        return value


def test_get_and_strategic_merge_patch_over_tls_with_the_clusters_ca(tmp_path: Path) -> None:
    with FakeApi(obj(), tls_dir=tmp_path) as api:
        assert api.ca_pem is not None
        ca = base64.b64encode(api.ca_pem).decode()
        tokens = Tokens()
        client = kube.from_endpoint(api.url, ca, tokens, "EKS cluster prod (eu-west-1)")
        try:
            got = client.get_deployment("default", "backend")
            assert got["spec"]["template"]["spec"]["containers"][0]["image"] == f"{REPO}:1"
            tokens.rotate()
            body = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": NEW}]}}}}
            patched = client.patch_deployment("default", "backend", body)
        finally:
            client.close()
        assert [c["image"] for c in patched["spec"]["template"]["spec"]["containers"]] == [
            NEW,
            "envoy:1",
        ]
    get, patch = api.requests
    assert (get.method, get.path) == ("GET", PATH)
    assert get.headers["authorization"] == "Bearer " + token.encode(
        "https://sts.eu-west-1.amazonaws.com/?X-Amz-Signature=s3cr3t1"
    )
    assert (patch.method, patch.path.split("?")[0]) == ("PATCH", PATH)
    assert "fieldManager=pipeline" in patch.path
    assert patch.headers["content-type"] == "application/strategic-merge-patch+json"
    assert json.loads(patch.body) == body
    # the token source is asked per request: a refreshed token is used at once
    assert patch.headers["authorization"].endswith(
        token.encode("https://sts.eu-west-1.amazonaws.com/?X-Amz-Signature=s3cr3t2")[
            len(token.PREFIX) :
        ]
    )


def test_the_temporary_ca_file_is_removed_on_close(tmp_path: Path) -> None:
    with FakeApi(obj(), tls_dir=tmp_path) as api:
        assert api.ca_pem is not None
        client = kube.from_endpoint(api.url, base64.b64encode(api.ca_pem).decode(), Tokens(), "x")
        ca_file = Path(client._ca_file or "")
        assert ca_file.read_bytes() == api.ca_pem
        client.close()
        assert not ca_file.exists()


def test_a_server_the_ca_does_not_vouch_for_is_refused(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other = FakeApi(obj(), tls_dir=tmp_path / "other")
    with FakeApi(obj(), tls_dir=tmp_path) as api:
        other_ca = base64.b64encode(other.ca_pem or b"").decode()
        client = kube.from_endpoint(api.url, other_ca, Tokens(), "EKS cluster prod")
        with pytest.raises(KubeUnavailable, match="did not answer"):
            client.get_deployment("default", "backend")
        client.close()
    other.server.server_close()


@pytest.mark.parametrize(
    ("answer", "kind", "fragment"),
    [
        (
            (404, status(404, 'deployments.apps "backend" not found')),
            DeployError,
            'reading deployment default/backend in EKS cluster prod: 404 deployments.apps "backend"'
            " not found",
        ),
        (
            (401, status(401, "Unauthorized")),
            DeployError,
            "grant the IAM principal an access entry",
        ),
        (
            (403, status(403, 'deployments.apps "backend" is forbidden: User "ci" cannot get')),
            DeployError,
            "403 deployments.apps",
        ),
        ((503, status(503, "etcd leader changed")), KubeUnavailable, "503 etcd leader changed"),
        ((429, status(429, "too many requests")), KubeUnavailable, "429 too many requests"),
    ],
)
def test_api_errors_become_ours_without_the_token(
    answer: tuple[int, dict[str, Any]], kind: type[Exception], fragment: str
) -> None:
    tokens = Tokens()
    with FakeApi(obj()) as api:
        api.errors.append(answer)
        client = kube.from_endpoint(api.url, None, tokens, "EKS cluster prod")
        with pytest.raises(kind) as caught:
            client.get_deployment("default", "backend")
        client.close()
    text = str(caught.value)
    assert type(caught.value) is kind
    assert fragment in text
    assert "s3cr3t" not in text and token.PREFIX not in text


def test_an_unreachable_server_is_transient() -> None:
    with FakeApi(obj()) as api:
        url = api.url
    client = kube.from_endpoint(url, None, Tokens(), "EKS cluster prod")
    with pytest.raises(KubeUnavailable, match="the API server did not answer"):
        client.get_deployment("default", "backend")
    client.close()


def _kubeconfig(path: Path, server: str, secret: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "users": [{"name": "ci", "user": {"token": secret}}],
        "contexts": [
            {"name": "fake-ctx", "context": {"cluster": "fake", "user": "ci"}},
            {"name": "other", "context": {"cluster": "fake", "user": "ci"}},
        ],
        "current-context": "other",
    }
    path.write_text(json.dumps(config))
    return path


def test_a_kubeconfig_context_is_used_instead_of_an_eks_cluster(tmp_path: Path) -> None:
    with FakeApi(obj()) as api:
        config = _kubeconfig(tmp_path / "config", api.url, "kubeconfig-token-123")
        connector = Connector(None, {"KUBECONFIG": f"{tmp_path / 'missing'}:{config}"})
        client = connector.connect(Cluster(context="fake-ctx"))
        try:
            assert client.get_deployment("default", "backend")["metadata"]["name"] == "backend"
        finally:
            client.close()
    assert api.requests[0].headers["authorization"] == "Bearer kubeconfig-token-123"


def test_an_unknown_context_is_a_clear_error(tmp_path: Path) -> None:
    config = _kubeconfig(tmp_path / "config", "http://127.0.0.1:1", "kubeconfig-token-123")
    connector = Connector(None, {"KUBECONFIG": str(config)})
    with pytest.raises(DeployError, match="context nope") as caught:
        connector.connect(Cluster(context="nope"))
    assert "kubeconfig-token-123" not in str(caught.value)


class FakeEks:
    def __init__(self, url: str, ca: str | None) -> None:
        self.url = url
        self.ca = ca
        self.asked: list[str] = []

    def describe_cluster(self, name: str) -> dict[str, Any]:
        self.asked.append(name)
        return {
            "cluster": {
                "name": name,
                "status": "ACTIVE",
                "endpoint": self.url,
                "certificateAuthority": {"data": self.ca},
            }
        }


def test_an_eks_cluster_is_reached_with_its_endpoint_ca_and_a_presigned_token(
    tmp_path: Path,
) -> None:
    from botocore.credentials import Credentials

    with FakeApi(obj(), tls_dir=tmp_path) as api:
        eks = FakeEks(api.url, base64.b64encode(api.ca_pem or b"").decode())
        regions: list[str] = []

        def eks_for(region: str) -> FakeEks:
            regions.append(region)
            return eks

        connector = Connector(
            None,
            {"AWS_REGION": "cn-north-1"},
            clock=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
            credentials=lambda: Credentials("AKIDEXAMPLE", "secret-key-value", "session-value"),
            eks=eks_for,
        )
        client = connector.connect(Cluster(name="prod"))
        client.get_deployment("default", "backend")
        client.close()
    assert (regions, eks.asked) == (["cn-north-1"], ["prod"])
    bearer = api.requests[0].headers["authorization"].removeprefix("Bearer ")
    url = token.decode(bearer)
    assert url.startswith("https://sts.cn-north-1.amazonaws.com.cn/?Action=GetCallerIdentity&")
    assert log.redact(bearer) == "***"


def test_a_token_that_cannot_be_signed_leaves_no_ca_file(tmp_path: Path) -> None:
    import tempfile

    def before() -> set[str]:
        return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("pipeline-ca-")}

    existing = before()

    def no_credentials() -> str:
        raise DeployError("no AWS credentials to sign a token for EKS cluster prod")

    with pytest.raises(DeployError, match="no AWS credentials"):
        kube.from_endpoint(
            "https://127.0.0.1:1", base64.b64encode(b"pem").decode(), no_credentials, "x"
        )
    assert before() == existing
