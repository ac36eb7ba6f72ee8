"""SARIF: one result per finding, the CVE as rule, level from severity, the image
as location, suppressions with their reason. (Validation against the official
SARIF 2.1.0 schema: tests/integration/scan/test_sarif_schema.py.)"""

from __future__ import annotations

import json

import pytest

from pipeline.scan.findings import Finding
from pipeline.scan.sarif import build, level
from pipeline.scan.wait import ScanOutcome
from tests.unit.scan.scenario import BACKEND, FRONTEND, OUTCOMES, gate


def test_one_result_per_finding_with_the_cve_as_rule() -> None:
    log = build(OUTCOMES, gate(), {"backend": "127.0.0.1:5000/myapp/backend"})
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == [
        "CVE-2026-0001",
        "CVE-2026-0002",
        "CVE-2026-0003",
        "CVE-2026-0004",
        "CVE-2026-0005",
    ]
    rules = run["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    first = results[0]
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        f"127.0.0.1:5000/myapp/backend@{BACKEND.digest}"
    )
    assert results[3]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        f"myapp/frontend@{FRONTEND.digest}"
    )
    assert first["message"]["text"] == (
        "CVE-2026-0001 (CRITICAL) in openssl 3.0.11 in image backend"
        f" (127.0.0.1:5000/myapp/backend@{BACKEND.digest})"
    )
    assert first["properties"]["gate"] == "blocking"
    assert rules[0]["helpUri"] == "https://security-tracker.debian.org/tracker/CVE-2026-0001"
    assert rules[0]["properties"]["security-severity"] == "9.5"
    json.dumps(log)


def test_suppressed_findings_stay_with_their_reason() -> None:
    results = build(OUTCOMES, gate())["runs"][0]["results"]
    accepted = next(r for r in results if r["ruleId"] == "CVE-2026-0002")
    assert accepted["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "not reachable (until 2027-01-25)",
        }
    ]
    assert accepted["properties"]["gate"] == "suppressed"
    assert all("suppressions" not in r for r in results if r["ruleId"] != "CVE-2026-0002")


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("CRITICAL", "error"),
        ("HIGH", "error"),
        ("MEDIUM", "warning"),
        ("LOW", "note"),
        ("INFORMATIONAL", "note"),
        ("UNDEFINED", "warning"),
        ("UNTRIAGED", "warning"),
    ],
)
def test_level_from_severity(severity: str, expected: str) -> None:
    assert level(severity) == expected


def test_a_cve_in_two_images_is_one_rule_and_two_results() -> None:
    shared = Finding("CVE-2026-9", "LOW", package="zlib")
    worse = Finding("CVE-2026-9", "HIGH", package="zlib")
    outcomes = [
        ScanOutcome("backend", BACKEND, "COMPLETE", (shared,)),
        ScanOutcome("frontend", FRONTEND, "COMPLETE", (worse,)),
    ]
    run = build(outcomes)["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["CVE-2026-9"]
    assert run["tool"]["driver"]["rules"][0]["defaultConfiguration"]["level"] == "error"
    assert [r["level"] for r in run["results"]] == ["note", "error"]


def test_no_findings_is_an_empty_valid_run() -> None:
    run = build([ScanOutcome("backend", BACKEND, "COMPLETE")])["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
