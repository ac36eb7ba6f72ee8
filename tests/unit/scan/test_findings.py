"""Findings from both DescribeImageScanFindings shapes, and counts recomputed from them."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.scan.findings import Finding, Fix, counts, parse, severity

BASIC = {
    "name": "CVE-2023-1234",
    "description": "  A  buffer overflow\nin openssl. ",
    "uri": "https://security-tracker.debian.org/tracker/CVE-2023-1234",
    "severity": "HIGH",
    "attributes": [
        {"key": "package_version", "value": "3.0.11-1~deb12u1"},
        {"key": "package_name", "value": "openssl"},
        {"key": "CVSS2_VECTOR", "value": "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
        {"key": "CVSS2_SCORE", "value": "7.5"},
    ],
}

ENHANCED: dict[str, Any] = {
    "awsAccountId": "123456789012",
    "description": "urllib3 leaks the Proxy-Authorization header.",
    "findingArn": "arn:aws:inspector2:us-east-1:123456789012:finding/abc",
    "score": 6.1,
    "severity": "MEDIUM",
    "status": "ACTIVE",
    "title": "CVE-2023-43804 - urllib3",
    "fixAvailable": "YES",
    "exploitAvailable": "NO",
    "packageVulnerabilityDetails": {
        "vulnerabilityId": "CVE-2023-43804",
        "source": "NVD",
        "sourceUrl": "https://nvd.nist.gov/vuln/detail/CVE-2023-43804",
        "vulnerablePackages": [
            {
                "name": "urllib3",
                "version": "1.26.5",
                "fixedInVersion": "1.26.17",
                "packageManager": "PYTHONPKG",
                "filePath": "usr/lib/python3/dist-packages/urllib3",
            }
        ],
    },
}


def test_a_basic_finding_keeps_package_version_and_no_fix_data() -> None:
    (found,) = parse({"findings": [BASIC]}).findings
    assert found == Finding(
        id="CVE-2023-1234",
        severity="HIGH",
        package="openssl",
        version="3.0.11-1~deb12u1",
        fixed_in=None,
        fix=Fix.UNKNOWN,
        uri="https://security-tracker.debian.org/tracker/CVE-2023-1234",
        description="A buffer overflow in openssl.",
        score=7.5,
    )


def test_an_enhanced_finding_carries_the_fix() -> None:
    parsed = parse({"enhancedFindings": [ENHANCED]})
    (found,) = parsed.findings
    assert (found.id, found.severity, found.package, found.version) == (
        "CVE-2023-43804",
        "MEDIUM",
        "urllib3",
        "1.26.5",
    )
    assert (found.fixed_in, found.fix, found.status, found.enhanced) == (
        "1.26.17",
        Fix.YES,
        "ACTIVE",
        True,
    )
    assert found.uri == "https://nvd.nist.gov/vuln/detail/CVE-2023-43804"
    assert found.title == "CVE-2023-43804 - urllib3"
    assert found.score == 6.1
    assert parsed.has_enhanced
    assert not parsed.has_basic


def _with(**changes: Any) -> dict[str, Any]:
    raw = {**ENHANCED, **changes}
    pkg = {**ENHANCED["packageVulnerabilityDetails"]["vulnerablePackages"][0]}
    for key in ("fixedInVersion", "release"):
        if key in changes:
            pkg[key] = changes.pop(key)
            raw.pop(key)
            if pkg[key] is None:
                del pkg[key]
    raw["packageVulnerabilityDetails"] = {
        **ENHANCED["packageVulnerabilityDetails"],
        "vulnerablePackages": [pkg],
    }
    return raw


@pytest.mark.parametrize(
    ("changes", "fix", "fixed_in"),
    [
        ({"fixAvailable": "YES"}, Fix.YES, "1.26.17"),
        ({"fixAvailable": "PARTIAL", "fixedInVersion": None}, Fix.YES, None),
        ({"fixAvailable": "NO", "fixedInVersion": None}, Fix.NO, None),
        ({"fixAvailable": "NO", "fixedInVersion": "NotAvailable"}, Fix.NO, None),
        ({"fixAvailable": "NO", "fixedInVersion": "2.0.7"}, Fix.YES, "2.0.7"),
        ({"fixAvailable": None, "fixedInVersion": None}, Fix.UNKNOWN, None),
    ],
)
def test_fix_availability(changes: dict[str, Any], fix: Fix, fixed_in: str | None) -> None:
    (found,) = parse({"enhancedFindings": [_with(**changes)]}).findings
    assert (found.fix, found.fixed_in) == (fix, fixed_in)


def test_an_rpm_release_is_part_of_the_version() -> None:
    (found,) = parse({"enhancedFindings": [_with(release="3.el9")]}).findings
    assert found.version == "1.26.5-3.el9"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("critical", "CRITICAL"),
        (" High ", "HIGH"),
        ("INFORMATIONAL", "INFORMATIONAL"),
        ("NEGLIGIBLE", "INFORMATIONAL"),
        ("UNDEFINED", "UNDEFINED"),
        ("UNTRIAGED", "UNTRIAGED"),
        ("UNKNOWN", "UNDEFINED"),
        ("SPICY", "UNDEFINED"),
        (None, "UNDEFINED"),
    ],
)
def test_severities_are_normalised_and_never_dropped(raw: Any, expected: str) -> None:
    assert severity(raw) == expected


def test_counts_are_recomputed_from_the_findings_not_copied() -> None:
    scan = {
        "findings": [BASIC, {**BASIC, "name": "CVE-1", "severity": "UNDEFINED"}],
        "enhancedFindings": [ENHANCED, {**ENHANCED, "severity": "UNTRIAGED"}],
        "findingSeverityCounts": {"HIGH": 40, "CRITICAL": 2},
    }
    parsed = parse(scan)
    assert parsed.has_basic
    assert parsed.has_enhanced
    assert counts(parsed.findings) == {"HIGH": 1, "MEDIUM": 1, "UNDEFINED": 1, "UNTRIAGED": 1}
    assert list(counts(parsed.findings)) == ["HIGH", "MEDIUM", "UNDEFINED", "UNTRIAGED"]


@pytest.mark.parametrize("scan", [None, {}, {"findings": []}, {"findings": None}])
def test_empty_or_missing_lists_give_no_findings(scan: Any) -> None:
    assert parse(scan).findings == ()


def test_malformed_entries_are_skipped_but_partial_ones_kept() -> None:
    parsed = parse({"findings": ["junk", {"severity": "LOW"}], "enhancedFindings": [{}]})
    assert [(f.id, f.severity) for f in parsed.findings] == [
        ("UNNAMED", "LOW"),
        ("?", "UNDEFINED"),
    ]


def test_long_descriptions_are_shortened() -> None:
    (found,) = parse({"findings": [{**BASIC, "description": "word " * 200}]}).findings
    assert found.description is not None
    assert len(found.description) <= 240
    assert found.description.endswith("…")
