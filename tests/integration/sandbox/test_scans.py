"""Scripted scans against the running sandbox: `pipeline sandbox findings`, a push, boto3."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pipeline.sandbox.findings import STATUSES
from tests.integration.sandbox.support import Images

Cli = Callable[..., tuple[int, str]]


def _file(tmp_path: Path, document: dict[str, Any], name: str = "findings.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def _basic(count: int, severity: str = "HIGH") -> list[dict[str, Any]]:
    return [
        {
            "name": f"CVE-2030-{i:05d}",
            "uri": f"https://cve.example/CVE-2030-{i:05d}",
            "severity": severity,
            "attributes": [
                {"key": "package_name", "value": "openssl"},
                {"key": "package_version", "value": "3.0.1"},
            ],
        }
        for i in range(count)
    ]


def test_findings_scripted_before_a_scan_on_push(
    ecr: Any, images: Images, repository: Callable[..., str], sandbox_cli: Cli, tmp_path: Path
) -> None:
    name = repository(imageScanningConfiguration={"scanOnPush": True})
    findings = _basic(2, "CRITICAL")
    path = _file(tmp_path, {"findings": findings})
    code, out = sandbox_cli("findings", f"{name}:v1", "--file", path)
    assert code == 0, out
    assert f"the next scan of {name}:v1 returns COMPLETE with 2 basic finding(s)" in out
    errors, digest = images.push(images.build(), name, "v1")
    assert errors == []
    # The scan started with the push, before the push's answer: no ScanNotFound here.
    answer = ecr.describe_image_scan_findings(repositoryName=name, imageId={"imageDigest": digest})
    assert answer["imageScanStatus"]["status"] == "COMPLETE"
    assert answer["imageScanFindings"]["findings"] == findings
    assert answer["imageScanFindings"]["findingSeverityCounts"] == {"CRITICAL": 2}
    detail = ecr.describe_images(repositoryName=name)["imageDetails"][0]
    assert detail["imageScanStatus"]["status"] == "COMPLETE"
    assert detail["imageScanFindingsSummary"]["findingSeverityCounts"] == {"CRITICAL": 2}


def test_a_manual_repository_waits_for_start_image_scan(
    ecr: Any, images: Images, repository: Callable[..., str], sandbox_cli: Cli, tmp_path: Path
) -> None:
    name = repository()
    errors, digest = images.push(images.build(), name, "v1")
    assert errors == []
    image = {"imageDigest": digest}
    with pytest.raises(ClientError) as missing:
        ecr.describe_image_scan_findings(repositoryName=name, imageId=image)
    assert missing.value.response["Error"]["Code"] == "ScanNotFoundException"
    enhanced = [
        {
            "findingArn": "arn:aws:inspector2:us-east-1:123456789012:finding/abc",
            "severity": "HIGH",
            "status": "ACTIVE",
            "fixAvailable": "YES",
            "firstObservedAt": "2030-01-01T00:00:00Z",
            "packageVulnerabilityDetails": {
                "vulnerabilityId": "CVE-2030-0001",
                "vulnerablePackages": [
                    {"name": "openssl", "version": "3.0.1", "fixedInVersion": "3.0.2"}
                ],
            },
        }
    ]
    code, out = sandbox_cli(
        "findings", f"{name}@{digest}", "--file", _file(tmp_path, {"enhancedFindings": enhanced})
    )
    assert code == 0, out
    ecr.start_image_scan(repositoryName=name, imageId=image)
    answer = ecr.describe_image_scan_findings(repositoryName=name, imageId=image)
    served = answer["imageScanFindings"]["enhancedFindings"]
    package = served[0]["packageVulnerabilityDetails"]["vulnerablePackages"][0]
    assert package["fixedInVersion"] == "3.0.2"
    assert "findings" not in answer["imageScanFindings"]
    with pytest.raises(ClientError) as again:
        ecr.start_image_scan(repositoryName=name, imageId=image)
    assert again.value.response["Error"]["Code"] == "LimitExceededException"


def test_more_than_a_hundred_findings_across_pages(
    ecr: Any, images: Images, repository: Callable[..., str], sandbox_cli: Cli, tmp_path: Path
) -> None:
    name = repository(imageScanningConfiguration={"scanOnPush": True})
    findings = _basic(230, "MEDIUM")
    assert sandbox_cli("findings", name, "--file", _file(tmp_path, {"findings": findings}))[0] == 0
    errors, digest = images.push(images.build(), name, "v1")
    assert errors == []
    pages = list(
        ecr.get_paginator("describe_image_scan_findings").paginate(
            repositoryName=name, imageId={"imageDigest": digest}
        )
    )
    assert [len(p["imageScanFindings"]["findings"]) for p in pages] == [100, 100, 30]
    names = [f["name"] for p in pages for f in p["imageScanFindings"]["findings"]]
    assert names == [f["name"] for f in findings]
    assert pages[0]["imageScanFindings"]["findingSeverityCounts"] == {"MEDIUM": 230}
    page = ecr.describe_image_scan_findings(
        repositoryName=name, imageId={"imageDigest": digest}, maxResults=1000
    )
    assert len(page["imageScanFindings"]["findings"]) == 230
    assert "nextToken" not in page


def test_a_delay_is_spent_in_progress(
    ecr: Any, images: Images, repository: Callable[..., str], sandbox_cli: Cli, tmp_path: Path
) -> None:
    name = repository(imageScanningConfiguration={"scanOnPush": True})
    document = {"findings": _basic(1)}
    code, out = sandbox_cli("findings", name, "--file", _file(tmp_path, document), "--delay", "1.5")
    assert code == 0, out
    errors, digest = images.push(images.build(), name, "v1")
    assert errors == []
    pushed = time.monotonic()
    seen = []
    while True:
        answer = ecr.describe_image_scan_findings(
            repositoryName=name, imageId={"imageDigest": digest}
        )
        status = answer["imageScanStatus"]["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status != "IN_PROGRESS" or time.monotonic() - pushed > 10:
            break
        time.sleep(0.1)  # polling the real server, as a client would
    assert seen == ["IN_PROGRESS", "COMPLETE"]
    assert 1.0 < time.monotonic() - pushed < 5


def test_every_status_passes_through(
    ecr: Any, images: Images, repository: Callable[..., str], sandbox_cli: Cli, tmp_path: Path
) -> None:
    """One pushed image, and an OCI index per status: each index is an image of its own."""
    name = repository(imageScanningConfiguration={"scanOnPush": True})
    errors, digest = images.push(images.build(), name, "base")
    assert errors == []
    base = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageDigest": digest}])["images"][0]
    child = {
        "mediaType": base["imageManifestMediaType"],
        "digest": digest,
        "size": len(base["imageManifest"].encode()),
        "platform": {"architecture": "amd64", "os": "linux"},
    }
    for status in (*STATUSES, "SOMETHING_AWS_ADDS_LATER"):
        document = {"findings": _basic(1, "LOW")}
        code, out = sandbox_cli(
            "findings", name, "--file", _file(tmp_path, document), "--status", status
        )
        assert code == 0, out
        index = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [child],
            "annotations": {"status": status},
        }
        tag = status.lower().replace("_", "-")
        ecr.put_image(repositoryName=name, imageManifest=json.dumps(index), imageTag=tag)
        answer = ecr.describe_image_scan_findings(repositoryName=name, imageId={"imageTag": tag})
        assert answer["imageScanStatus"]["status"] == status
        if status == "IN_PROGRESS":  # as the final status: a scan that never ends
            assert "imageScanFindings" not in answer
        else:
            assert answer["imageScanFindings"]["findingSeverityCounts"] == {"LOW": 1}


def test_a_script_for_a_missing_repository_is_refused(sandbox_cli: Cli, tmp_path: Path) -> None:
    path = _file(tmp_path, {"findings": []})
    code, out = sandbox_cli("findings", "sbx/never-made", "--file", path)
    assert code == 1
    assert "no ECR repository 'sbx/never-made' in the sandbox" in out
