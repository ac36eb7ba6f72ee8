"""Emulated ECR scanning through boto3: scan on push, scripts, statuses, quota, pages.

moto runs in-process with the sandbox's patches; the registry is a fake and
time a fake clock, so a scan's IN_PROGRESS delay passes without sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from pipeline.sandbox.aws import patch_ecr
from pipeline.sandbox.aws_scans import conform, patch_scans
from pipeline.sandbox.channel import ActionError
from pipeline.sandbox.ecr import EcrState
from pipeline.sandbox.findings import STATUSES, ScanScript, Target, to_payload
from pipeline.sandbox.scans import Scanner
from pipeline.sandbox.sync import Bridge
from tests.unit.sandbox.fakes import ACCOUNT, REGION, FakeRegistry, manifest

REPO = "team/app"
ONE_TRY = Config(retries={"total_max_attempts": 1})
# One session for the module: a client of it costs milliseconds, a new session's 0.1 s.
SESSION = boto3.session.Session(
    aws_access_key_id="a", aws_secret_access_key="b", region_name=REGION
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class World:
    ecr: Any
    scanner: Scanner
    clock: Clock
    seeds: int = 0

    def push(self, tag: str | None = "1", repository: str = REPO) -> str:
        """A new image (its own digest) as PutImage records it; returns the digest."""
        self.seeds += 1
        kwargs = {"imageTag": tag} if tag else {}
        image = self.ecr.put_image(
            repositoryName=repository, imageManifest=manifest(f"seed-{self.seeds}"), **kwargs
        )
        return str(image["image"]["imageId"]["imageDigest"])

    def script(self, target: str, **script: Any) -> dict[str, Any]:
        return self.scanner.script(to_payload(Target.parse(target), ScanScript(**script)))

    def findings(self, tag: str = "1", **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.ecr.describe_image_scan_findings(
            repositoryName=REPO, imageId={"imageTag": tag}, **kwargs
        )
        return answer

    def status(self, tag: str = "1") -> str:
        return str(self.findings(tag)["imageScanStatus"]["status"])


@pytest.fixture
def world() -> Iterator[World]:
    clock = Clock()
    with mock_aws():
        bridge = Bridge(EcrState(ACCOUNT, REGION), FakeRegistry())  # type: ignore[arg-type]
        scanner = Scanner(bridge.ecr, bridge.lock, now=clock, conform=conform)
        bridge.on_new_image.append(scanner.pushed)
        undo = [patch_ecr(bridge, "pw"), patch_scans(scanner)]
        # botocore retries LimitExceededException, with real sleeps: one try only.
        ecr = SESSION.client("ecr", config=ONE_TRY)
        ecr.create_repository(repositoryName=REPO)
        try:
            yield World(ecr, scanner, clock)
        finally:
            for step in undo:
                step()


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_no_scan_until_one_starts(world: World) -> None:
    world.push()
    with pytest.raises(ClientError) as err:
        world.findings()
    assert _code(err) == "ScanNotFoundException"
    assert "imageTag:'1'" in str(err.value)
    detail = world.ecr.describe_images(repositoryName=REPO)["imageDetails"][0]
    assert "imageScanStatus" not in detail


def test_a_scan_without_a_script_completes_clean(world: World) -> None:
    world.push()
    started = world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    assert started["imageScanStatus"]["status"] == "COMPLETE"  # no delay scripted
    answer = world.findings()
    assert answer["imageScanStatus"]["status"] == "COMPLETE"
    assert answer["imageScanFindings"]["findings"] == []
    assert answer["imageScanFindings"]["findingSeverityCounts"] == {}
    assert "enhancedFindings" not in answer["imageScanFindings"]


def test_a_scripted_scan_is_in_progress_for_its_delay(world: World) -> None:
    findings = [{"name": "CVE-2030-1", "severity": "CRITICAL", "uri": "https://x"}]
    world.script(f"{REPO}:1", status="COMPLETE", delay=10, findings=findings)
    world.push()
    started = world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    assert started["imageScanStatus"]["status"] == "IN_PROGRESS"
    world.clock.advance(9.9)
    answer = world.findings()
    assert answer["imageScanStatus"]["status"] == "IN_PROGRESS"
    assert "imageScanFindings" not in answer
    world.clock.advance(0.1)
    answer = world.findings()
    assert answer["imageScanStatus"] == {
        "status": "COMPLETE",
        "description": "The scan was completed successfully.",
    }
    assert answer["imageScanFindings"]["findings"] == findings
    assert answer["imageScanFindings"]["findingSeverityCounts"] == {"CRITICAL": 1}
    completed = answer["imageScanFindings"]["imageScanCompletedAt"]
    assert completed == datetime(2030, 1, 2, 3, 4, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize("status", [*STATUSES, "SOMETHING_AWS_ADDS_LATER"])
def test_every_status_passes_through(world: World, status: str) -> None:
    world.script(REPO, status=status, findings=[])
    world.push()
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    answer = world.findings()
    assert answer["imageScanStatus"]["status"] == status
    assert answer["imageScanStatus"]["description"]
    shown = world.ecr.describe_images(repositoryName=REPO)["imageDetails"][0]
    assert shown["imageScanStatus"]["status"] == status
    with_findings = status in ("COMPLETE", "ACTIVE")
    assert ("imageScanFindings" in answer) is with_findings
    assert ("imageScanFindingsSummary" in shown) is with_findings


def test_stale_findings_are_served_with_a_terminal_status_when_scripted(world: World) -> None:
    world.script(
        REPO,
        status="SCAN_ELIGIBILITY_EXPIRED",
        description="stale",
        findings=[{"name": "CVE-1", "severity": "LOW"}],
    )
    world.push()
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    answer = world.findings()
    expired = {"status": "SCAN_ELIGIBILITY_EXPIRED", "description": "stale"}
    assert answer["imageScanStatus"] == expired
    assert answer["imageScanFindings"]["findingSeverityCounts"] == {"LOW": 1}


def test_scan_on_push_by_repository_setting(world: World) -> None:
    world.ecr.create_repository(
        repositoryName="team/scanned", imageScanningConfiguration={"scanOnPush": True}
    )
    world.script("team/scanned:1", delay=5, findings=[{"name": "CVE-1", "severity": "HIGH"}])
    digest = world.push(repository="team/scanned")
    image = {"imageDigest": digest}
    answer = world.ecr.describe_image_scan_findings(repositoryName="team/scanned", imageId=image)
    assert answer["imageScanStatus"]["status"] == "IN_PROGRESS"
    world.clock.advance(5)
    answer = world.ecr.describe_image_scan_findings(repositoryName="team/scanned", imageId=image)
    assert answer["imageScanFindings"]["findingSeverityCounts"] == {"HIGH": 1}
    with pytest.raises(ClientError) as err:  # the push's scan counts toward the quota
        world.ecr.start_image_scan(repositoryName="team/scanned", imageId=image)
    assert _code(err) == "LimitExceededException"


@pytest.mark.parametrize(
    ("pattern", "scanned"),
    [("team/*", True), ("*app", True), ("eam/a", True), ("other*", False), ("team/app/*", False)],
)
def test_scan_on_push_by_registry_rule(world: World, pattern: str, scanned: bool) -> None:
    world.ecr.put_registry_scanning_configuration(
        scanType="BASIC",
        rules=[
            {
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": pattern, "filterType": "WILDCARD"}],
            }
        ],
    )
    world.push()
    if scanned:
        assert world.status() == "COMPLETE"
    else:
        with pytest.raises(ClientError, match="ScanNotFoundException"):
            world.findings()


def test_enhanced_scanning(world: World) -> None:
    world.ecr.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[
            {
                "scanFrequency": "CONTINUOUS_SCAN",
                "repositoryFilters": [{"filter": "team/*", "filterType": "WILDCARD"}],
            }
        ],
    )
    enhanced = [
        {
            "findingArn": "arn:aws:inspector2:us-east-1:123456789012:finding/1",
            "severity": "UNTRIAGED",
            "status": "ACTIVE",
            "fixAvailable": "NO",
            "score": 7.5,
            "firstObservedAt": "2030-01-01T00:00:00Z",
            "lastObservedAt": 1893456000,
            "packageVulnerabilityDetails": {
                "vulnerabilityId": "CVE-2030-2",
                "vulnerablePackages": [{"name": "openssl", "version": "1", "fixedInVersion": ""}],
            },
        }
    ]
    world.scanner.script({"repository": REPO, "status": "ACTIVE", "enhancedFindings": enhanced})
    world.push()
    answer = world.findings()
    assert answer["imageScanStatus"]["status"] == "ACTIVE"
    served = answer["imageScanFindings"]["enhancedFindings"]
    assert served[0]["firstObservedAt"] == datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert served[0]["packageVulnerabilityDetails"]["vulnerablePackages"][0]["name"] == "openssl"
    assert answer["imageScanFindings"]["findingSeverityCounts"] == {"UNTRIAGED": 1}
    assert "findings" not in answer["imageScanFindings"]
    with pytest.raises(ClientError) as err:  # Inspector scans; StartImageScan is refused
        world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    assert _code(err) == "ValidationException"
    world.push(tag="2")  # no script: a clean enhanced scan
    assert world.findings("2")["imageScanFindings"]["enhancedFindings"] == []


def test_a_repository_setting_does_not_scan_on_push_in_an_enhanced_registry(world: World) -> None:
    world.ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=[])
    world.ecr.put_image_scanning_configuration(
        repositoryName=REPO, imageScanningConfiguration={"scanOnPush": True}
    )
    world.push()
    with pytest.raises(ClientError, match="ScanNotFoundException"):
        world.findings()


def test_the_quota_is_a_rolling_day(world: World) -> None:
    world.push()
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    world.clock.advance(24 * 3600 - 1)
    with pytest.raises(ClientError) as err:
        world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    assert _code(err) == "LimitExceededException"
    assert "scan quota per image has been exceeded" in str(err.value)
    world.script(REPO, status="FAILED", findings=[])
    world.clock.advance(1)
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    assert world.status() == "FAILED"


def test_scripts_match_digest_then_tag_then_repository_and_are_used_once(world: World) -> None:
    world.script(REPO, status="ACTIVE", findings=[])
    world.script(f"{REPO}:1", status="FAILED", findings=[])
    digest = world.push("1")
    world.script(f"{REPO}@{digest}", status="UNSUPPORTED_IMAGE", findings=[])
    world.push("2")
    answers = {}
    for tag in ("1", "2"):
        world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": tag})
        answers[tag] = world.status(tag)
    assert answers == {"1": "UNSUPPORTED_IMAGE", "2": "ACTIVE"}
    world.push("3")  # the repository's script went to image 2; the tag's is left
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "3"})
    assert world.status("3") == "COMPLETE"


def test_scripting_an_image_scanned_already_says_when(world: World) -> None:
    world.push()
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    answer = world.script(f"{REPO}:1", status="FAILED", findings=[])
    assert answer["scanned_at"] == "2030-01-02T03:04:05+00:00"
    assert "scanned_at" not in world.script(f"{REPO}:2", findings=[])
    world.push("1")  # a new image under the tag uses the script
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    assert world.status() == "FAILED"


def test_a_new_script_replaces_the_one_before(world: World) -> None:
    assert world.script(f"{REPO}:1", status="FAILED", findings=[])["replaced"] is False
    assert world.script(f"{REPO}:1", status="ACTIVE", findings=[])["replaced"] is True
    world.push()
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    assert world.status() == "ACTIVE"


def test_more_than_a_hundred_findings_come_in_pages(world: World) -> None:
    findings = [{"name": f"CVE-2030-{i}", "severity": "MEDIUM"} for i in range(250)]
    world.script(REPO, findings=findings)
    digest = world.push()
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageDigest": digest})
    pages = list(
        world.ecr.get_paginator("describe_image_scan_findings").paginate(
            repositoryName=REPO, imageId={"imageDigest": digest}
        )
    )
    assert [len(p["imageScanFindings"]["findings"]) for p in pages] == [100, 100, 50]
    names = [f["name"] for p in pages for f in p["imageScanFindings"]["findings"]]
    assert names == [f["name"] for f in findings]
    assert all(p["imageScanFindings"]["findingSeverityCounts"] == {"MEDIUM": 250} for p in pages)
    big = world.findings(maxResults=1000)
    assert len(big["imageScanFindings"]["findings"]) == 250
    assert "nextToken" not in big
    small = world.findings(maxResults=7)
    assert len(small["imageScanFindings"]["findings"]) == 7
    following = world.findings(maxResults=7, nextToken=small["nextToken"])
    assert following["imageScanFindings"]["findings"][0]["name"] == "CVE-2030-7"


@pytest.mark.parametrize(
    "kwargs", [{"maxResults": 1001}, {"nextToken": "garbage"}, {"nextToken": "eyJ4IjogMX0="}]
)
def test_bad_page_parameters(world: World, kwargs: dict[str, Any]) -> None:
    world.push()
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    with pytest.raises(ClientError) as err:
        world.findings(**kwargs)
    assert _code(err) == "InvalidParameterException"


def test_a_token_belongs_to_its_scan(world: World) -> None:
    findings = [{"name": f"CVE-{i}", "severity": "LOW"} for i in range(3)]
    world.script(REPO, findings=findings)
    world.push()
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    token = world.findings(maxResults=1)["nextToken"]
    world.clock.advance(24 * 3600)
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    with pytest.raises(ClientError, match="nextToken"):
        world.findings(maxResults=1, nextToken=token)


def test_counts_from_the_file_are_served_as_scripted(world: World) -> None:
    world.scanner.script(
        {
            "repository": REPO,
            "delay": 0,
            "findings": [{"name": "CVE-1", "severity": "CRITICAL"}],
            "findingSeverityCounts": {"LOW": 3},
        }
    )
    world.push()
    world.ecr.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    assert world.findings()["imageScanFindings"]["findingSeverityCounts"] == {"LOW": 3}


def test_a_retag_is_no_new_scan_and_a_repush_after_delete_is(world: World) -> None:
    world.ecr.put_image_scanning_configuration(
        repositoryName=REPO, imageScanningConfiguration={"scanOnPush": True}
    )
    world.script(REPO, status="FAILED", findings=[])
    digest = world.push("1")
    assert world.status("1") == "FAILED"
    text = world.ecr.batch_get_image(repositoryName=REPO, imageIds=[{"imageDigest": digest}])
    body = text["images"][0]["imageManifest"]
    world.ecr.put_image(repositoryName=REPO, imageManifest=body, imageTag="again")
    assert world.status("again") == "FAILED"  # the same image, the same scan
    world.ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": digest}])
    world.ecr.put_image(repositoryName=REPO, imageManifest=body, imageTag="back")
    assert world.status("back") == "COMPLETE"  # a new image: a new scan


@pytest.mark.parametrize(
    ("finding", "message"),
    [
        ({"firstObservedAt": "yesterday"}, r"enhancedFindings\[0\].firstObservedAt"),
        ({"score": "high"}, r"enhancedFindings\[0\].score: expected double"),
        ({"packageVulnerabilityDetails": []}, "expected an object"),
    ],
)
def test_a_script_that_does_not_fit_ecrs_model_is_refused(
    world: World, finding: dict[str, Any], message: str
) -> None:
    with pytest.raises(ActionError, match=message):
        world.scanner.script({"repository": REPO, "enhancedFindings": [finding]})


def test_a_script_names_an_existing_repository(world: World) -> None:
    with pytest.raises(ActionError, match="no ECR repository 'team/other'"):
        world.script("team/other", findings=[])


def test_other_regions_are_plain_moto(world: World) -> None:
    other = SESSION.client("ecr", region_name="eu-west-1")
    other.create_repository(repositoryName=REPO)
    other.put_image(repositoryName=REPO, imageManifest=manifest("x"), imageTag="1")
    other.start_image_scan(repositoryName=REPO, imageId={"imageTag": "1"})
    answer = other.describe_image_scan_findings(repositoryName=REPO, imageId={"imageTag": "1"})
    assert answer["imageScanFindings"]["findings"][0]["name"] == "CVE-9999-9999"  # moto's own
