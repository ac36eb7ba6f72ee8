"""The ECR scan adapter and the wait loop against the sandbox's emulated ECR.

The image is pushed through the sandbox registry (whose webhook registers it
with the emulated ECR under its real digest), then scanned by digest. The
emulation's scan result is whatever the sandbox serves; the tests check what
our side makes of it, not its content.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.adapters import ecr_scan
from pipeline.scan.findings import counts
from pipeline.scan.ports import ImageNotFound, ImageRef, LimitExceeded, ScanNotFound, ScanSettings
from pipeline.scan.wait import WaitPolicy, WaitRequest, wait_one
from tests.integration.sandbox.support import Images


@pytest.fixture
def api(sandbox: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> ecr_scan.EcrScanApi:
    for name, value in sandbox.items():
        monkeypatch.setenv(name, value)
    return ecr_scan.EcrScanApi(ecr_scan.client(sandbox["AWS_REGION"]))


def pushed(images: Images, repository: str) -> ImageRef:
    errors, digest = images.push(images.build(), repository, "v1")
    assert errors == []
    assert digest is not None
    return ImageRef(repository, digest)


def test_a_manual_repository_is_scanned_once_and_every_finding_read(
    api: ecr_scan.EcrScanApi, ecr: Any, images: Images, repository: Callable[..., str]
) -> None:
    image = pushed(images, repository(imageScanningConfiguration={"scanOnPush": False}))
    assert api.settings(image.repository) == ScanSettings(enhanced=False, on_push=False)
    with pytest.raises(ScanNotFound):
        api.findings_page(image)

    started = time.monotonic()
    outcome = wait_one(api, WaitRequest("app", image), WaitPolicy(timeout=60.0))
    assert outcome.error is None, outcome.error
    assert outcome.status in ("COMPLETE", "ACTIVE")
    assert outcome.started_scan
    assert time.monotonic() - started < 60.0

    raw = ecr.describe_image_scan_findings(
        repositoryName=image.repository, imageId={"imageDigest": image.digest}
    )["imageScanFindings"]
    assert counts(outcome.findings) == raw.get("findingSeverityCounts", {})
    assert all(f.id and f.severity for f in outcome.findings)

    # one scan per image per day: a second start is refused, the result stays readable
    with pytest.raises(LimitExceeded):
        api.start_scan(image)
    again = wait_one(api, WaitRequest("app", image, pushed=False), WaitPolicy(timeout=30.0))
    assert again.error is None, again.error
    assert again.findings == outcome.findings
    assert not again.started_scan


def test_an_unknown_digest_is_a_clear_error(
    api: ecr_scan.EcrScanApi, images: Images, repository: Callable[..., str]
) -> None:
    image = pushed(images, repository())
    missing = ImageRef(image.repository, "sha256:" + "0" * 64)
    with pytest.raises(ImageNotFound, match=r"DescribeImageScanFindings .*sha256:0{64}"):
        api.findings_page(missing)
