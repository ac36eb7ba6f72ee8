"""Scripted scan results: the target, the file's shapes, and what is refused."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.sandbox import findings
from pipeline.sandbox.findings import ScanScript, Target, from_payload, to_payload

DIGEST = "sha256:" + "a" * 64
BASIC = [{"name": "CVE-1", "severity": "HIGH"}, {"name": "CVE-2", "severity": "LOW"}]
ENHANCED = [{"findingArn": "arn:x", "severity": "UNTRIAGED", "fixAvailable": "NO"}]


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("team/app", Target("team/app")),
        ("team/app:1.2.3", Target("team/app", tag="1.2.3")),
        (f"team/app@{DIGEST}", Target("team/app", digest=DIGEST)),
        ("a.b/c-d_e/f:latest", Target("a.b/c-d_e/f", tag="latest")),
    ],
)
def test_targets(text: str, target: Target) -> None:
    assert Target.parse(text) == target
    assert str(target) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Team/app", "not an ECR repository name"),
        ("a", "not an ECR repository name"),
        ("team/app:", "not a valid image tag"),
        ("team/app:bad tag", "not a valid image tag"),
        ("team/app@sha256:zz", "sha256:<64 hex digits>"),
        ("../etc:1", "not an ECR repository name"),
    ],
)
def test_bad_targets(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Target.parse(text)


@pytest.mark.parametrize(
    ("document", "status", "basic", "enhanced", "description"),
    [
        ({"findings": BASIC}, "COMPLETE", BASIC, None, None),
        ({"findings": []}, "COMPLETE", [], None, None),
        ({"enhancedFindings": ENHANCED}, "COMPLETE", None, ENHANCED, None),
        ({"findings": BASIC, "enhancedFindings": ENHANCED}, "COMPLETE", BASIC, ENHANCED, None),
        (  # a whole saved DescribeImageScanFindings response
            {
                "imageScanFindings": {"enhancedFindings": ENHANCED},
                "imageScanStatus": {"status": "ACTIVE", "description": "continuous"},
                "repositoryName": "x",
            },
            "ACTIVE",
            None,
            ENHANCED,
            "continuous",
        ),
    ],
)
def test_the_file_shapes(
    document: dict[str, Any],
    status: str,
    basic: list[Any] | None,
    enhanced: list[Any] | None,
    description: str | None,
) -> None:
    script = findings.script_from_document(document)
    assert (script.status, script.findings, script.enhanced_findings) == (status, basic, enhanced)
    assert script.description == description
    assert script.enhanced is (enhanced is not None)


def test_the_status_option_wins_over_the_files() -> None:
    document = {"imageScanFindings": {"findings": []}, "imageScanStatus": {"status": "ACTIVE"}}
    assert findings.script_from_document(document, "FAILED").status == "FAILED"


def test_counts_are_counted_unless_the_file_gives_them() -> None:
    counted = findings.script_from_document({"findings": [*BASIC, {"name": "no severity"}]})
    assert counted.severity_counts() == {"HIGH": 1, "LOW": 1, "UNDEFINED": 1}
    given = findings.script_from_document(
        {"enhancedFindings": ENHANCED, "findingSeverityCounts": {"CRITICAL": 7}}
    )
    assert given.severity_counts() == {"CRITICAL": 7}  # served as scripted, even when wrong


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "expected a JSON object"),
        ({}, "neither findings nor enhancedFindings"),
        ({"findings": "CVE-1"}, "findings must be a list of objects"),
        ({"enhancedFindings": [1]}, "enhancedFindings must be a list of objects"),
        ({"imageScanFindings": []}, "imageScanFindings must be an object"),
        ({"findings": [], "findingSeverityCounts": {"HIGH": -1}}, "map severities to counts"),
        ({"findings": [], "findingSeverityCounts": {"HIGH": True}}, "map severities to counts"),
        (
            {"findings": [], "imageScanStatus": {"status": "COMPLETE", "description": 5}},
            "description must be a string",
        ),
    ],
)
def test_bad_documents(document: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        findings.script_from_document(document, origin="F.json")


@pytest.mark.parametrize("status", [*findings.STATUSES, "SOMETHING_NEW"])
def test_every_status_passes(status: str) -> None:
    assert findings.script_from_document({"findings": []}, status).status == status


@pytest.mark.parametrize(
    ("typed", "status"),
    [("complete", "COMPLETE"), ("Failed", "FAILED"), ("unsupported_image", "UNSUPPORTED_IMAGE")],
)
def test_a_known_status_in_any_case_is_that_status(typed: str, status: str) -> None:
    assert findings.script_from_document({"findings": []}, typed).status == status


def test_an_unknown_status_passes_as_typed() -> None:
    assert findings.script_from_document({"findings": []}, "Brand_New").status == "Brand_New"


@pytest.mark.parametrize(
    ("status", "delay", "message"),
    [
        ("two words", 0.0, "not a status word"),
        ("", 0.0, "not a status word"),
        ("COMPLETE", -1.0, "within 0..86400"),
        ("COMPLETE", float("nan"), "a number of seconds"),
        ("COMPLETE", 1e9, "within 0..86400"),
    ],
)
def test_bad_status_or_delay(status: str, delay: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        findings.check(ScanScript(status=status, delay=delay))


def test_payloads_round_trip() -> None:
    script = findings.script_from_document(
        {
            "enhancedFindings": ENHANCED,
            "findingSeverityCounts": {"UNTRIAGED": 1},
            "imageScanCompletedAt": "2030-01-01T00:00:00Z",
        },
        "ACTIVE",
        2.5,
    )
    payload = json.loads(json.dumps(to_payload(Target("team/app", tag="1"), script)))
    assert from_payload(payload) == (Target("team/app", tag="1"), script)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"repository": None}, "names no repository"),
        ({"repository": "X"}, "not an ECR repository name"),
        ({"status": 5}, "status is not a string"),
        ({"delay": "soon"}, "a number of seconds"),
        ({"findings": None}, "neither findings"),
    ],
)
def test_bad_payloads(change: dict[str, Any], message: str) -> None:
    payload = to_payload(Target("team/app"), ScanScript(findings=[]))
    payload.update(change)
    if payload["findings"] is None:
        del payload["findings"]
    with pytest.raises(ValueError, match=message):
        from_payload(payload)


def test_reading_a_file(tmp_path: Path) -> None:
    good = tmp_path / "f.json"
    good.write_text(json.dumps({"findings": BASIC}))
    assert findings.read_document(good) == {"findings": BASIC}


def test_reading_refuses_what_is_not_a_small_json_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(ValueError, match="not a regular file"):
        findings.read_document(fifo)
    assert time.monotonic() - started < 2  # no writer, and still no wait
    with pytest.raises(ValueError, match="not a regular file"):
        findings.read_document(tmp_path)
    with pytest.raises(ValueError, match="cannot open"):
        findings.read_document(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "findings": [,]\n}')
    with pytest.raises(ValueError, match=r"broken.json:2:16: not JSON"):
        findings.read_document(broken)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"findings": ["\xe9"]}')
    with pytest.raises(ValueError, match="not UTF-8"):
        findings.read_document(latin)
    monkeypatch.setattr(findings, "MAX_FILE", 10)
    good = tmp_path / "big.json"
    good.write_text(json.dumps({"findings": BASIC}))
    with pytest.raises(ValueError, match="larger than"):
        findings.read_document(good)
