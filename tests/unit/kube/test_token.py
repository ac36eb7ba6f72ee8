"""The EKS bearer token: format, signed contents, regional hosts, refresh and masking."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from botocore.credentials import Credentials

from pipeline import log
from pipeline.adapters.eks import presign
from pipeline.kube import token

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION = "IQoJb3JpZ2luX2VjEJr" + "x" * 1200  # STS session tokens run to ~1 KB and more


def credentials(session: str | None = SESSION) -> Credentials:
    return Credentials("AKIAIOSFODNN7EXAMPLE", SECRET, session)


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "sts.us-east-1.amazonaws.com"),  # regional, never the global host
        ("eu-west-1", "sts.eu-west-1.amazonaws.com"),
        ("cn-north-1", "sts.cn-north-1.amazonaws.com.cn"),
        ("cn-northwest-1", "sts.cn-northwest-1.amazonaws.com.cn"),
        ("us-gov-west-1", "sts.us-gov-west-1.amazonaws.com"),
        ("us-gov-east-1", "sts.us-gov-east-1.amazonaws.com"),
        ("us-iso-east-1", "sts.us-iso-east-1.c2s.ic.gov"),
        ("us-isob-east-1", "sts.us-isob-east-1.sc2s.sgov.gov"),
        ("eusc-de-east-1", "sts.eusc-de-east-1.amazonaws.eu"),
    ],
)
def test_the_token_names_the_regional_sts_host_of_the_partition(region: str, host: str) -> None:
    url = token.decode(token.encode(presign(credentials(), region, "prod")))
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", host, "/")
    query = dict(parse_qsl(parts.query))
    assert query["X-Amz-Credential"].split("/")[2:4] == [region, "sts"]


def _canonical_query(query: list[tuple[str, str]]) -> str:
    pairs = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in query)
    return "&".join(f"{k}={v}" for k, v in pairs)


def _verify_sigv4(url: str, headers: dict[str, str], secret: str) -> bool:
    """Recompute a SigV4 query signature from scratch (as STS would) and compare."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(query)
    signed = params["X-Amz-SignedHeaders"].split(";")
    all_headers = {"host": parts.netloc, **{k.lower(): v for k, v in headers.items()}}
    canonical_headers = "".join(f"{h}:{all_headers[h].strip()}\n" for h in signed)
    unsigned = [(k, v) for k, v in query if k != "X-Amz-Signature"]
    canonical = "\n".join(
        [
            "GET",
            parts.path or "/",
            _canonical_query(unsigned),
            canonical_headers,
            params["X-Amz-SignedHeaders"],
            hashlib.sha256(b"").hexdigest(),  # a GET has an empty body
        ]
    )
    date = params["X-Amz-Date"]
    _, day, region, service, _ = params["X-Amz-Credential"].split("/")
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, params["X-Amz-Signature"])


def test_the_presigned_url_is_get_caller_identity_with_the_cluster_header_signed() -> None:
    value = token.encode(presign(credentials(), "eu-west-1", "prod-eks"))
    assert value.startswith("k8s-aws-v1.")
    assert "=" not in value and "+" not in value and "/" not in value
    url = token.decode(value)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["Action"] == "GetCallerIdentity"
    assert query["Version"] == "2011-06-15"
    assert query["X-Amz-Expires"] == "60"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert query["X-Amz-Security-Token"] == SESSION
    assert _verify_sigv4(url, {"x-k8s-aws-id": "prod-eks"}, SECRET)
    # the cluster name is part of the signature: the token is worthless for another cluster
    assert not _verify_sigv4(url, {"x-k8s-aws-id": "other-cluster"}, SECRET)


def test_with_a_session_token_the_token_stays_within_what_eks_accepts() -> None:
    value = token.encode(presign(credentials(), "us-gov-west-1", "c" * 100))
    assert len(value) <= token.MAX_LENGTH


def test_without_a_session_token_there_is_no_security_token_parameter() -> None:
    url = presign(credentials(session=None), "us-east-1", "prod")
    assert "X-Amz-Security-Token" not in url


def test_no_credentials_is_a_clear_error() -> None:
    from pipeline.deployment import DeployError

    with pytest.raises(
        DeployError, match="no AWS credentials to sign a token for EKS cluster prod"
    ):
        presign(None, "us-east-1", "prod")


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.mark.parametrize(
    ("elapsed", "fresh"),
    [
        (dt.timedelta(0), False),
        (dt.timedelta(minutes=13, seconds=59), False),
        (dt.timedelta(minutes=14), True),
        (dt.timedelta(minutes=15), True),
        (dt.timedelta(hours=3), True),
    ],
)
def test_a_token_is_replaced_after_fourteen_minutes(elapsed: dt.timedelta, fresh: bool) -> None:
    clock = Clock()
    made: list[int] = []

    def sign() -> str:
        made.append(1)
        return f"https://sts.us-east-1.amazonaws.com/?n={len(made)}&X-Amz-Signature=abcd{len(made)}"

    source = token.TokenSource(sign, clock)
    first = source.get()
    assert source.expires_at == clock.now + dt.timedelta(minutes=15)
    clock.now += elapsed
    second = source.get()
    assert (second != first) is fresh
    assert len(made) == (2 if fresh else 1)


def test_every_token_is_masked_the_moment_it_is_made() -> None:
    url = presign(credentials(), "us-east-1", "prod")
    source = token.TokenSource(lambda: url, Clock())
    value = source.get()
    assert log.redact(f"Authorization: Bearer {value}") == "Authorization: Bearer ***"
    assert log.redact(url) == "***"
    assert value not in repr(source)


@pytest.mark.parametrize("bad", ["Bearer abc", "k8s-aws-v2.abc"])
def test_decode_refuses_what_is_not_a_token(bad: str) -> None:
    with pytest.raises(ValueError, match=r"missing the 'k8s-aws-v1\.' prefix"):
        token.decode(bad)
