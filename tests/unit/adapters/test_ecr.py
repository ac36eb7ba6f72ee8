"""ECR adapter: token decoding, refresh at half-life, public in us-east-1, repositories."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from pipeline import log
from pipeline.adapters import ecr
from pipeline.adapters.ports import Credentials, Manifest
from pipeline.errors import AuthError
from pipeline.retry import Kind, RegistryFailure

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def token(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("raw", "user", "password"),
    [("AWS:abc", "AWS", "abc"), ("AWS:p:w:x", "AWS", "p:w:x"), ("u:=:", "u", "=:")],
)
def test_decode_splits_on_the_first_colon(raw: str, user: str, password: str) -> None:
    assert ecr.decode_token(base64.b64encode(raw.encode()).decode()) == (user, password)


@pytest.mark.parametrize("raw", [b"nocolon", b"AWS:", b"\xff\xfe"])
def test_decode_rejects_garbage_without_echoing_it(raw: bytes) -> None:
    with pytest.raises(AuthError) as err:
        ecr.decode_token(base64.b64encode(raw).decode())
    assert "nocolon" not in str(err.value)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def test_token_is_reused_until_half_life_then_refreshed() -> None:
    clock = Clock()
    fetched: list[int] = []

    def fetch() -> Credentials:
        fetched.append(1)
        return Credentials(
            "AWS", f"pw{len(fetched)}", "h", clock.now + dt.timedelta(hours=12), clock.now
        )

    source = ecr.TokenCredentials(fetch, clock)
    assert source.get().password == "pw1"
    clock.now += dt.timedelta(hours=5, minutes=59)
    assert source.get().password == "pw1"
    clock.now += dt.timedelta(minutes=2)  # past 6 h: half of the 12 h life
    assert source.get().password == "pw2"
    assert source.refresh().password == "pw3"


def test_token_expiring_in_minutes_is_refreshed() -> None:
    clock = Clock()
    calls: list[int] = []

    def fetch() -> Credentials:
        calls.append(1)
        return Credentials("AWS", "x", "h", clock.now + dt.timedelta(minutes=10), clock.now)

    source = ecr.TokenCredentials(fetch, clock)
    source.get()
    source.get()
    assert len(calls) == 2


def stubbed(monkeypatch: pytest.MonkeyPatch, service: str) -> tuple[Stubber, list[str]]:
    regions: list[str] = []
    real = boto3.client(
        service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    stub = Stubber(real)

    def make(name: str, region: str) -> Any:
        assert name == service
        regions.append(region)
        return real

    monkeypatch.setattr(ecr, "client", make)
    return stub, regions


def test_private_token_is_masked_and_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    stub, regions = stubbed(monkeypatch, "ecr")
    expires = T0 + dt.timedelta(hours=12)
    stub.add_response(
        "get_authorization_token",
        {
            "authorizationData": [
                {
                    "authorizationToken": token("AWS", "s3cr3t-pass"),
                    "expiresAt": expires,
                    "proxyEndpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
                }
            ]
        },
    )
    with stub:
        creds = ecr.private_token("eu-west-1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com")()
    assert regions == ["eu-west-1"]
    assert (creds.username, creds.password, creds.expires_at) == ("AWS", "s3cr3t-pass", expires)
    assert "s3cr3t-pass" not in repr(creds) and "s3cr3t-pass" not in str(creds)
    assert log.redact("x s3cr3t-pass y") == "x *** y"


def test_public_token_always_uses_us_east_1_and_the_object_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    stub, regions = stubbed(monkeypatch, "ecr-public")
    stub.add_response(
        "get_authorization_token",
        {"authorizationData": {"authorizationToken": token("AWS", "pub-pass-1"), "expiresAt": T0}},
    )
    with stub:
        creds = ecr.public_token("public.ecr.aws")()
    assert regions == ["us-east-1"]
    assert creds.password == "pub-pass-1"
    assert creds.host == "public.ecr.aws"


def test_token_failure_names_the_operation_not_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    stub, _ = stubbed(monkeypatch, "ecr")
    stub.add_client_error("get_authorization_token", "AccessDeniedException", "nope")
    with (
        stub,
        pytest.raises(
            AuthError,
            match=r"GetAuthorizationToken in us-east-1: access denied \(AccessDeniedException\)"
            r".* does not allow ecr:GetAuthorizationToken",
        ),
    ):
        ecr.private_token("us-east-1", "h")()


@pytest.mark.parametrize("code", ["ThrottlingException", "ServiceUnavailableException"])
def test_a_throttled_token_fetch_is_transient_for_the_caller_to_retry(
    monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    stub, _ = stubbed(monkeypatch, "ecr")
    stub.add_client_error("get_authorization_token", code, "slow down")
    with stub, pytest.raises(RegistryFailure) as err:
        ecr.private_token("us-east-1", "h")()
    assert err.value.kind is Kind.TRANSIENT


def test_every_form_of_the_token_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    stub, _ = stubbed(monkeypatch, "ecr")
    raw = token("AWS", "ecr-pass-Zq9")
    stub.add_response(
        "get_authorization_token",
        {"authorizationData": [{"authorizationToken": raw, "expiresAt": T0}]},
    )
    with stub:
        ecr.private_token("us-east-1", "h")()
    for form in (raw, raw.rstrip("="), "ecr-pass-Zq9"):
        assert log.redact(f"<{form}>") == "<***>", form
    assert log.redact("AWS:ecr-pass-Zq9") == "AWS:***"  # the decoded pair


def test_boto3_makes_a_single_attempt_inside_our_policy() -> None:
    made = ecr.client("ecr", "us-east-1")
    assert made.meta.config.retries["total_max_attempts"] == 1


def test_a_run_shares_one_client_per_service_and_region() -> None:
    made: list[tuple[str, str]] = []
    clients = ecr.Clients(lambda service, region: made.append((service, region)) or object())
    first = clients("ecr", "us-east-1")
    assert clients("ecr", "us-east-1") is first
    assert clients("ecr", "eu-west-1") is not first
    assert made == [("ecr", "us-east-1"), ("ecr", "eu-west-1")]
    assert ecr.Clients(lambda *_: object())("ecr", "us-east-1") is not first  # a new run


def _client_error(code: str, status: int = 400) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Op",
    )


def _boto_errors() -> list[tuple[Exception, Kind]]:
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
        SSLError,
    )

    return [
        (_client_error("ThrottlingException"), Kind.TRANSIENT),
        (_client_error("TooManyRequestsException"), Kind.TRANSIENT),
        (_client_error("ServerException", 500), Kind.TRANSIENT),
        (_client_error("Whatever", 503), Kind.TRANSIENT),
        (_client_error("Whatever", 429), Kind.TRANSIENT),
        (_client_error("AccessDeniedException", 400), Kind.FATAL),
        (_client_error("RepositoryNotFoundException", 400), Kind.FATAL),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), Kind.TRANSIENT),
        (ConnectTimeoutError(endpoint_url="http://x"), Kind.TRANSIENT),
        (ReadTimeoutError(endpoint_url="http://x"), Kind.TRANSIENT),
        (SSLError(endpoint_url="https://x", error="cert"), Kind.FATAL),
        (NoCredentialsError(), Kind.FATAL),
    ]


@pytest.mark.parametrize(("error", "kind"), _boto_errors(), ids=lambda e: type(e).__name__)
def test_botocore_errors_are_classified(error: Exception, kind: Kind) -> None:
    assert ecr.failure_kind(error) is kind


def test_repository_calls_run_under_the_given_retry_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline import retry

    stub, _ = stubbed(monkeypatch, "ecr")
    stub.add_client_error("describe_repositories", "ThrottlingException", "slow", 400)
    stub.add_response("describe_repositories", {"repositories": []})
    sleeps: list[float] = []
    waits = retry.Waits(sleep=sleeps.append, jitter=lambda high: high)

    def retrying(what: str, operation: Any) -> Any:
        return retry.call(operation, what=what, policy=retry.Policy(), waits=waits)

    with stub:
        repos = ecr.Repositories("us-east-1", None, ecr.RepositoryRules(), None, retrying=retrying)
        assert repos.missing(["a/b"]) == []
    assert sleeps == [1.0]


def test_create_immutable_repository_with_exclusions(monkeypatch: pytest.MonkeyPatch) -> None:
    stub, _ = stubbed(monkeypatch, "ecr")
    settings = ecr.RepositoryRules(
        tag_mutability="IMMUTABLE",
        mutable_tags=("latest", "*.*"),
        encryption="KMS",
        kms_key="alias/ecr",
    )
    policy = ecr.lifecycle_text(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": 9,
                    },
                    "action": {"type": "expire"},
                }
            ]
        },
        None,
    )
    assert policy is not None
    stub.add_response(
        "create_repository",
        {"repository": {"repositoryName": "team/app"}},
        {
            "repositoryName": "team/app",
            "registryId": "123456789012",
            "imageScanningConfiguration": {"scanOnPush": True},
            "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            "imageTagMutabilityExclusionFilters": [
                {"filterType": "WILDCARD", "filter": "latest"},
                {"filterType": "WILDCARD", "filter": "*.*"},
            ],
            "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": "alias/ecr"},
        },
    )
    stub.add_response(
        "put_lifecycle_policy",
        {},
        {"repositoryName": "team/app", "lifecyclePolicyText": policy, "registryId": "123456789012"},
    )
    with stub:
        ecr.Repositories("us-east-1", "123456789012", settings, policy).create("team/app")
    stub.assert_no_pending_responses()


def test_missing_repositories_are_found_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    stub, _ = stubbed(monkeypatch, "ecr")
    stub.add_response("describe_repositories", {"repositories": []})
    stub.add_client_error("describe_repositories", "RepositoryNotFoundException", "missing")
    with stub:
        repos = ecr.Repositories("us-east-1", None, ecr.RepositoryRules(), None)
        assert repos.missing(["a/b", "c/d"]) == ["c/d"]


def _described(name: str, mode: str | None, *filters: str) -> dict[str, Any]:
    repo: dict[str, Any] = {"repositoryName": name}
    if mode is not None:
        repo["imageTagMutability"] = mode
    if filters:
        repo["imageTagMutabilityExclusionFilters"] = [
            {"filterType": "WILDCARD", "filter": f} for f in filters
        ]
    return {"repositories": [repo]}


def test_mutability_comes_from_the_answers_missing_already_had(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.adapters.ports import TagMutability

    stub, _ = stubbed(monkeypatch, "ecr")
    stub.add_response("describe_repositories", _described("a/b", "IMMUTABLE"))
    stub.add_response(
        "describe_repositories", _described("c/d", "IMMUTABLE_WITH_EXCLUSION", "latest", "v*")
    )
    stub.add_client_error("describe_repositories", "RepositoryNotFoundException", "missing")
    with stub:  # three calls in all: the stub refuses a fourth
        repos = ecr.Repositories("us-east-1", None, ecr.RepositoryRules(), None)
        assert repos.missing(["a/b", "c/d", "e/f"]) == ["e/f"]
        assert repos.mutability(["a/b", "c/d", "e/f"]) == {
            "a/b": TagMutability("IMMUTABLE"),
            "c/d": TagMutability("IMMUTABLE_WITH_EXCLUSION", ("latest", "v*")),
        }
    stub.assert_no_pending_responses()


def test_mutability_asks_for_repositories_not_described_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.adapters.ports import TagMutability

    stub, _ = stubbed(monkeypatch, "ecr")
    stub.add_response("describe_repositories", _described("a/b", None))  # no field: the default
    stub.add_response("describe_repositories", _described("c/d", "MUTABLE"))
    with stub:
        repos = ecr.Repositories("us-east-1", None, ecr.RepositoryRules(), None)
        assert repos.mutability(["a/b", "c/d"]) == {
            "a/b": TagMutability("MUTABLE"),
            "c/d": TagMutability("MUTABLE"),
        }
        assert repos.mutability([]) == {}
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("ImageTagAlreadyExistsException", Kind.IMMUTABLE),
        ("ThrottlingException", Kind.TRANSIENT),
        ("RepositoryNotFoundException", Kind.FATAL),
    ],
)
def test_put_image_errors_are_classified(
    monkeypatch: pytest.MonkeyPatch, code: str, kind: Kind
) -> None:
    stub, _ = stubbed(monkeypatch, "ecr")
    stub.add_client_error("put_image", code, "x")
    manifest = Manifest(
        "sha256:" + "a" * 64, "application/vnd.docker.distribution.manifest.v2+json", b"{}"
    )
    with stub, pytest.raises(RegistryFailure) as err:
        ecr.PutImageRetagger("us-east-1", None).tag("team/app", "1.0.0", manifest)
    assert err.value.kind is kind


def test_put_image_of_an_existing_identical_tag_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    stub, _ = stubbed(monkeypatch, "ecr")
    stub.add_client_error("put_image", "ImageAlreadyExistsException", "same")
    manifest = Manifest(
        "sha256:" + "a" * 64, "application/vnd.docker.distribution.manifest.v2+json", b"{}"
    )
    with stub:
        ecr.PutImageRetagger("us-east-1", None).tag("team/app", "1.0.0", manifest)
