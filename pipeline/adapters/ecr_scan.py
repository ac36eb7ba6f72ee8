"""Amazon ECR's scan API through boto3: the `ScanApi` port of `pipeline.scan`.

The client is injected. It should make one attempt per call (`client()` below
builds one so): the wait loop retries throttling itself, with jitter, inside
the scan's deadline, where botocore's own retries would spend time it does not
see. Vendor error codes become the port's errors, naming the operation and
the image or repository; no credential is ever part of a message.
"""

from __future__ import annotations

from typing import Any

from pipeline.adapters import aws_errors
from pipeline.scan import findings
from pipeline.scan.ports import (
    FindingsPage,
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

_ERRORS: dict[str, type[ScanError]] = {
    "ScanNotFoundException": ScanNotFound,
    "LimitExceededException": LimitExceeded,
    "ImageNotFoundException": ImageNotFound,
    "RepositoryNotFoundException": RepositoryNotFound,
    "UnsupportedImageTypeException": UnsupportedImage,
    # StartImageScan under enhanced scanning, among others
    "ValidationException": ScanNotStartable,
    "AccessDeniedException": ScanAccessDenied,
    "UnrecognizedClientException": ScanAccessDenied,
    "InvalidSignatureException": ScanAccessDenied,
    "ExpiredTokenException": ScanAccessDenied,
    "ThrottlingException": Throttled,
    "ThrottledException": Throttled,
    "TooManyRequestsException": Throttled,
    "RequestLimitExceeded": Throttled,
    "ServerException": Throttled,
    "InternalFailure": Throttled,
    "ServiceUnavailable": Throttled,
    "ServiceUnavailableException": Throttled,
}
_SCANS_BY_THEMSELVES = ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")


def client(region: str) -> Any:
    """An ECR client that tries each call once (AWS_ENDPOINT_URL is honoured by boto3)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "ecr",
        region_name=region,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=10,
            read_timeout=30,
        ),
    )


def translate(err: Exception, operation: str, resource: str) -> ScanError:
    """A botocore error as one of the port's errors."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    what = f"ECR {operation} {resource}"
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        code = aws_errors.error_code(err)
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        message = str(error.get("Message") or "").strip()
        refused = aws_errors.refusal(err, "ecr")
        text = f"{what}: " + (refused or code + (f": {message}" if message else ""))
        kind = ScanAccessDenied if refused else _ERRORS.get(code)
        if kind is None:
            kind = Throttled if status == 429 or status >= 500 else ScanError
        return kind(text)
    if isinstance(err, (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError)):
        return Throttled(f"{what}: {type(err).__name__}")
    return ScanError(f"{what}: {type(err).__name__}: {err}")


class EcrScanApi:
    def __init__(self, ecr: Any, registry_id: str | None = None, page_size: int = 1000) -> None:
        self._ecr = ecr
        self._ids = {"registryId": registry_id} if registry_id else {}
        self._page_size = page_size

    def _call(
        self, operation: str, resource: str, method: str, *, own: bool = False, **kwargs: Any
    ) -> Any:
        """`own`: an API of the caller's own registry, which takes no registryId."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._ecr, method)(**({} if own else self._ids), **kwargs)
        except (ClientError, BotoCoreError) as err:
            raise translate(err, operation, resource) from None

    def settings(self, repository: str) -> ScanSettings:
        # The scanning configuration APIs read the caller's own registry only.
        registry = self._call(
            "GetRegistryScanningConfiguration",
            "(registry)",
            "get_registry_scanning_configuration",
            own=True,
        ).get("scanningConfiguration", {})
        enhanced = str(registry.get("scanType", "BASIC")).upper() == "ENHANCED"
        answer = self._call(
            "BatchGetRepositoryScanningConfiguration",
            repository,
            "batch_get_repository_scanning_configuration",
            own=True,
            repositoryNames=[repository],
        )
        if answer.get("failures"):
            code = answer["failures"][0].get("failureCode", "failure")
            raise RepositoryNotFound(
                f"ECR BatchGetRepositoryScanningConfiguration {repository}: {code}"
            )
        configs = answer.get("scanningConfigurations") or [{}]
        frequency = str(configs[0].get("scanFrequency", "MANUAL")).upper()
        on_push = frequency in _SCANS_BY_THEMSELVES or bool(configs[0].get("scanOnPush"))
        if enhanced and not on_push:
            raise ScanNotStartable(
                f"enhanced scanning does not scan repository {repository} (no registry"
                " scanning rule matches it, and Inspector cannot be asked to scan);"
                " add a rule whose filter matches it, or set scan.enabled: false"
            )
        if not enhanced and not on_push:
            on_push = self._repository_flag(repository)
        return ScanSettings(enhanced=enhanced, on_push=on_push)

    def _repository_flag(self, repository: str) -> bool:
        """The older per-repository scanOnPush flag, which registry rules supersede."""
        answer = self._call(
            "DescribeRepositories",
            repository,
            "describe_repositories",
            repositoryNames=[repository],
        )
        repos = answer.get("repositories") or [{}]
        return bool(repos[0].get("imageScanningConfiguration", {}).get("scanOnPush"))

    def findings_page(self, image: ImageRef, token: str | None = None) -> FindingsPage:
        extra: dict[str, Any] = {"nextToken": token} if token else {}
        answer = self._call(
            "DescribeImageScanFindings",
            str(image),
            "describe_image_scan_findings",
            repositoryName=image.repository,
            imageId={"imageDigest": image.digest},
            maxResults=self._page_size,
            **extra,
        )
        status = answer.get("imageScanStatus") or {}
        scan = answer.get("imageScanFindings") or {}
        parsed = findings.parse(scan)
        return FindingsPage(
            status=str(status.get("status") or "").upper(),
            description=status.get("description") or None,
            completed_at=scan.get("imageScanCompletedAt"),
            findings=parsed.findings,
            has_basic=parsed.has_basic,
            has_enhanced=parsed.has_enhanced,
            severity_counts=dict(scan.get("findingSeverityCounts") or {}),
            next_token=answer.get("nextToken") or None,
        )

    def start_scan(self, image: ImageRef) -> str:
        answer = self._call(
            "StartImageScan",
            str(image),
            "start_image_scan",
            repositoryName=image.repository,
            imageId={"imageDigest": image.digest},
        )
        return str((answer.get("imageScanStatus") or {}).get("status") or "")
