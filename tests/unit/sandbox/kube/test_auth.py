"""Bearer tokens: the sandbox's own, and EKS `k8s-aws-v1.` tokens checked for form."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from pipeline.sandbox.kube.auth import Rejected, check

OWN = "sandbox-own-token"
NOW = time.time()


def presigned_token(
    cluster: str = "demo", endpoint: str | None = None, region: str = "us-west-2"
) -> str:
    """A token as `aws eks get-token` makes it (botocore presigning, fake credentials)."""
    import botocore.session

    session = botocore.session.get_session()
    session.set_credentials("AKIAEXAMPLEEXAMPLE00", "secret")
    sts = session.create_client("sts", region_name=region, endpoint_url=endpoint)

    def add_cluster(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["eks_cluster"] = params.pop("ClusterName")

    def header(request: Any, **_: Any) -> None:
        request.headers["x-k8s-aws-id"] = request.context["eks_cluster"]

    sts.meta.events.register("provide-client-params.sts.GetCallerIdentity", add_cluster)
    sts.meta.events.register("before-sign.sts.GetCallerIdentity", header)
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={"ClusterName": cluster}, ExpiresIn=60, HttpMethod="GET"
    )
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def token_for(url: str) -> str:
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def _url(**changes: str | None) -> str:
    params: dict[str, str | None] = {
        "Action": "GetCallerIdentity",
        "Version": "2011-06-15",
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": "AKIA/20240101/us-east-1/sts/aws4_request",
        "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(NOW - 60)),
        "X-Amz-Expires": "60",
        "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
        "X-Amz-Signature": "ab" * 32,
    }
    host = changes.pop("host", None) or "https://sts.us-east-1.amazonaws.com/"
    params.update(changes)
    query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"{host}?{query}"


def test_the_sandbox_token_passes() -> None:
    assert check(f"Bearer {OWN}", OWN, NOW) == "sandbox"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(presigned_token(), id="regional aws"),
        pytest.param(presigned_token(region="cn-north-1"), id="aws-cn"),
        pytest.param(presigned_token(region="us-gov-west-1"), id="aws-us-gov"),
        pytest.param(presigned_token(endpoint="http://127.0.0.1:5100"), id="the sandbox's STS"),
        pytest.param(token_for(_url(host="https://sts.amazonaws.com/")), id="global endpoint"),
    ],
)
def test_eks_tokens_pass(token: str) -> None:
    assert check(f"Bearer {token}", OWN, NOW) == "eks"


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "no bearer token"),
        ("", "no bearer token"),
        (f"Basic {OWN}", "not `Bearer"),
        ("Bearer ", "not `Bearer"),
        ("Bearer someone-elses-token", "unknown token"),
        ("Bearer k8s-aws-v1.!!!", "not base64url"),
        ("Bearer k8s-aws-v1.aGVsbG8=", "unpadded"),
        (f"Bearer {token_for(_url(host='http://sts.us-east-1.amazonaws.com/'))}", "https"),
        (
            f"Bearer {token_for(_url(host='https://sts.us-east-1.amazonaws.com.evil.com/'))}",
            "not an STS",
        ),
        (f"Bearer {token_for(_url(host='https://sts.us-east-1.amazonaws.com/other'))}", "path"),
        (f"Bearer {token_for(_url(Action='AssumeRole'))}", "GetCallerIdentity"),
        (f"Bearer {token_for(_url(**{'X-Amz-SignedHeaders': 'host'}))}", "x-k8s-aws-id"),
        (f"Bearer {token_for(_url(**{'X-Amz-Signature': None}))}", "x-amz-signature"),
        (f"Bearer {token_for(_url(Extra='1'))}", "unexpected parameter"),
        (f"Bearer {token_for(_url(**{'X-Amz-Expires': '3600'}))}", "X-Amz-Expires"),
        (f"Bearer {token_for(_url(**{'X-Amz-Date': 'yesterday'}))}", "X-Amz-Date"),
        (
            "Bearer "
            + token_for(
                _url(**{"X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(NOW - 901))})
            ),
            "expired",
        ),
        (f"Bearer {token_for(_url() + '&X-Amz-Security-Token=' + 'x' * 4000)}", "longer than 4096"),
    ],
)
def test_malformed_or_missing_tokens_are_rejected(header: str | None, why: str) -> None:
    with pytest.raises(Rejected) as err:
        check(header, OWN, NOW)
    assert why in str(err.value)


def test_a_rejection_never_contains_the_token() -> None:
    token = token_for(_url(Action="AssumeRole"))
    with pytest.raises(Rejected) as err:
        check(f"Bearer {token}", OWN, NOW)
    assert token[11:30] not in str(err.value)


def test_a_token_fourteen_minutes_old_still_passes() -> None:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(NOW - 14 * 60))
    assert check(f"Bearer {token_for(_url(**{'X-Amz-Date': stamp}))}", OWN, NOW) == "eks"
