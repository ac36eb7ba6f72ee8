"""The ECR scan adapter against botocore's Stubber: requests pinned by digest,
pagination, scanning settings, and every vendor error translated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from pipeline.adapters.ecr_scan import EcrScanApi, client, translate
from pipeline.scan.ports import (
    ImageNotFound,
    ImageRef,
    LimitExceeded,
    RepositoryNotFound,
    ScanAccessDenied,
    ScanError,
    ScanNotFound,
    ScanNotStartable,
    ScanSettings,
    Throttled,
    UnsupportedImage,
)

IMAGE = ImageRef("team/app", "sha256:" + "ef" * 32)
DONE = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def ecr() -> Iterator[tuple[Any, Stubber]]:
    ecr = boto3.client(
        "ecr",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(ecr) as stub:
        yield ecr, stub
        stub.assert_no_pending_responses()


def basic(name: str) -> dict[str, Any]:
    return {"name": name, "severity": "HIGH", "attributes": [{"key": "package_name", "value": "x"}]}


def test_a_findings_page_is_asked_by_digest_with_the_page_size(ecr: tuple[Any, Stubber]) -> None:
    client_, stub = ecr
    stub.add_response(
        "describe_image_scan_findings",
        {
            "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed."},
            "imageScanFindings": {
                "imageScanCompletedAt": DONE,
                "findings": [basic("CVE-1"), basic("CVE-2")],
                "findingSeverityCounts": {"HIGH": 250},
            },
            "nextToken": "page-2",
        },
        {
            "registryId": "123456789012",
            "repositoryName": "team/app",
            "imageId": {"imageDigest": IMAGE.digest},
            "maxResults": 100,
        },
    )
    stub.add_response(
        "describe_image_scan_findings",
        {"imageScanStatus": {"status": "COMPLETE"}, "imageScanFindings": {"findings": []}},
        {
            "registryId": "123456789012",
            "repositoryName": "team/app",
            "imageId": {"imageDigest": IMAGE.digest},
            "maxResults": 100,
            "nextToken": "page-2",
        },
    )
    api = EcrScanApi(client_, "123456789012", page_size=100)
    first = api.findings_page(IMAGE)
    assert first.status == "COMPLETE"
    assert first.completed_at == DONE
    assert [f.id for f in first.findings] == ["CVE-1", "CVE-2"]
    assert first.severity_counts == {"HIGH": 250}
    assert first.next_token == "page-2"
    assert first.has_basic
    assert not first.has_enhanced
    assert api.findings_page(IMAGE, "page-2").next_token is None


def test_enhanced_findings_are_read(ecr: tuple[Any, Stubber]) -> None:
    client_, stub = ecr
    stub.add_response(
        "describe_image_scan_findings",
        {
            "imageScanStatus": {"status": "ACTIVE"},
            "imageScanFindings": {
                "enhancedFindings": [
                    {
                        "severity": "CRITICAL",
                        "fixAvailable": "NO",
                        "packageVulnerabilityDetails": {
                            "vulnerabilityId": "CVE-2026-7",
                            "vulnerablePackages": [{"name": "glibc", "version": "2.36"}],
                        },
                    }
                ]
            },
        },
    )
    page = EcrScanApi(client_).findings_page(IMAGE)
    assert page.status == "ACTIVE"
    assert page.has_enhanced
    assert [(f.id, f.package, f.fix.value) for f in page.findings] == [
        ("CVE-2026-7", "glibc", "no")
    ]


def test_start_scan_returns_the_status(ecr: tuple[Any, Stubber]) -> None:
    client_, stub = ecr
    stub.add_response(
        "start_image_scan",
        {"imageScanStatus": {"status": "IN_PROGRESS"}},
        {"repositoryName": "team/app", "imageId": {"imageDigest": IMAGE.digest}},
    )
    assert EcrScanApi(client_).start_scan(IMAGE) == "IN_PROGRESS"


def _settings(
    stub: Stubber,
    scan_type: str,
    frequency: str,
    repo_flag: bool | None,
    registry: str | None = None,
) -> None:
    stub.add_response(
        "get_registry_scanning_configuration",
        {"registryId": "123456789012", "scanningConfiguration": {"scanType": scan_type}},
    )
    stub.add_response(
        "batch_get_repository_scanning_configuration",
        {
            "scanningConfigurations": [
                {"repositoryName": "team/app", "scanOnPush": False, "scanFrequency": frequency}
            ],
            "failures": [],
        },
        {"repositoryNames": ["team/app"]},
    )
    if repo_flag is not None:
        stub.add_response(
            "describe_repositories",
            {"repositories": [{"imageScanningConfiguration": {"scanOnPush": repo_flag}}]},
            {"repositoryNames": ["team/app"], **({"registryId": registry} if registry else {})},
        )


@pytest.mark.parametrize(
    ("scan_type", "frequency", "repo_flag", "expected"),
    [
        ("BASIC", "SCAN_ON_PUSH", None, ScanSettings(enhanced=False, on_push=True)),
        ("BASIC", "MANUAL", True, ScanSettings(enhanced=False, on_push=True)),
        ("BASIC", "MANUAL", False, ScanSettings(enhanced=False, on_push=False)),
        ("ENHANCED", "CONTINUOUS_SCAN", None, ScanSettings(enhanced=True, on_push=True)),
        ("ENHANCED", "SCAN_ON_PUSH", None, ScanSettings(enhanced=True, on_push=True)),
    ],
)
def test_scanning_settings(
    ecr: tuple[Any, Stubber],
    scan_type: str,
    frequency: str,
    repo_flag: bool | None,
    expected: ScanSettings,
) -> None:
    client_, stub = ecr
    _settings(stub, scan_type, frequency, repo_flag)
    assert EcrScanApi(client_).settings("team/app") == expected


def test_enhanced_scanning_that_does_not_cover_the_repository_fails_fast(
    ecr: tuple[Any, Stubber],
) -> None:
    client_, stub = ecr
    _settings(stub, "ENHANCED", "MANUAL", None)
    with pytest.raises(ScanNotStartable, match="no registry scanning rule matches it"):
        EcrScanApi(client_).settings("team/app")


def test_a_missing_repository_in_the_settings_is_named(ecr: tuple[Any, Stubber]) -> None:
    client_, stub = ecr
    stub.add_response(
        "get_registry_scanning_configuration",
        {"registryId": "1", "scanningConfiguration": {"scanType": "BASIC"}},
    )
    stub.add_response(
        "batch_get_repository_scanning_configuration",
        {
            "scanningConfigurations": [],
            "failures": [{"repositoryName": "team/app", "failureCode": "REPOSITORY_NOT_FOUND"}],
        },
    )
    with pytest.raises(RepositoryNotFound, match=r"team/app: REPOSITORY_NOT_FOUND"):
        EcrScanApi(client_).settings("team/app")


@pytest.mark.parametrize(
    ("code", "http", "kind"),
    [
        ("ScanNotFoundException", 400, ScanNotFound),
        ("LimitExceededException", 400, LimitExceeded),
        ("ImageNotFoundException", 400, ImageNotFound),
        ("RepositoryNotFoundException", 400, RepositoryNotFound),
        ("UnsupportedImageTypeException", 400, UnsupportedImage),
        ("ValidationException", 400, ScanNotStartable),
        ("AccessDeniedException", 400, ScanAccessDenied),
        ("ExpiredTokenException", 400, ScanAccessDenied),
        ("ThrottlingException", 400, Throttled),
        ("ServerException", 500, Throttled),
        ("500", 500, Throttled),  # moto answers what it cannot do with a bare 500
        ("SlowDown", 429, Throttled),
        ("KmsException", 400, ScanError),
    ],
)
def test_vendor_errors_become_the_ports_errors(
    ecr: tuple[Any, Stubber], code: str, http: int, kind: type[ScanError]
) -> None:
    client_, stub = ecr
    stub.add_client_error(
        "start_image_scan",
        service_error_code=code,
        service_message="something happened",
        http_status_code=http,
    )
    with pytest.raises(ScanError) as err:
        EcrScanApi(client_).start_scan(IMAGE)
    assert type(err.value) is kind
    if code == "AccessDeniedException":
        assert str(err.value) == (
            f"ECR StartImageScan {IMAGE}: access denied (AccessDeniedException): the AWS"
            " credentials' policy does not allow ecr:StartImageScan; `pipeline iam-policy`"
            " prints the policy this config needs"
        )
        return
    assert str(err.value) == f"ECR StartImageScan {IMAGE}: {code}: something happened"


def test_a_lost_connection_is_worth_another_try() -> None:
    err = translate(EndpointConnectionError(endpoint_url="http://x"), "StartImageScan", "r")
    assert isinstance(err, Throttled)
    assert str(err) == "ECR StartImageScan r: EndpointConnectionError"


def test_the_client_makes_one_attempt_per_call() -> None:
    made = client("eu-west-1")
    assert made.meta.region_name == "eu-west-1"
    assert made.meta.config.retries["total_max_attempts"] == 1


def test_settings_for_a_named_registry_pass_its_id_only_where_the_api_takes_one(
    ecr: tuple[Any, Stubber],
) -> None:
    client_, stub = ecr
    _settings(stub, "BASIC", "MANUAL", True, registry="123456789012")
    api = EcrScanApi(client_, "123456789012")
    assert api.settings("team/app") == ScanSettings(enhanced=False, on_push=True)
