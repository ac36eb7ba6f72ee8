"""The Markdown step summary."""

from __future__ import annotations

from pipeline.scan.findings import Finding
from pipeline.scan.gate import GatePolicy, evaluate
from pipeline.scan.summary import markdown
from pipeline.scan.wait import ScanOutcome
from tests.unit.scan.scenario import BACKEND, OUTCOMES, TODAY, gate


def test_the_summary_has_an_overview_and_every_finding() -> None:
    text = markdown(OUTCOMES, gate())
    lines = text.splitlines()
    assert lines[0] == "## Image scan: blocked"
    assert "| backend | ❌ blocked | COMPLETE | 1 | 1 | 0 | 1 | 0 | 0 | 0 | 1 |" in lines
    assert "| frontend | ✅ pass | ACTIVE (enhanced) | 0 | 0 | 1 | 0 | 0 | 0 | 1 | 0 |" in lines
    assert (
        "| CRITICAL | [CVE-2026-0001](https://security-tracker.debian.org/tracker/CVE-2026-0001)"
        " | openssl | 3.0.11 | - | **blocking** |"
    ) in lines
    assert (
        "| HIGH | CVE-2026-0002 | zlib | 1.2.13 | -"
        " | suppressed: not reachable (until 2027-01-25) |" in lines
    )
    assert "| MEDIUM | CVE-2026-0004 | urllib3 | 1.26.5 | 1.26.17 | counted |" in lines
    assert "- 1 CRITICAL finding (at most 0 allowed)" in lines
    assert any(line.startswith("- ⚠️ ignore entry for CVE-2026-0002 expires") for line in lines)
    assert "`myapp/backend@sha256:" + "1" * 64 + "`, scanned 2027-01-20 09:30 UTC" in lines


def test_cells_cannot_break_the_table() -> None:
    odd = Finding("CVE-1", "LOW", package="a|b", version="1\n2")
    outcome = ScanOutcome("backend", BACKEND, "COMPLETE", (odd,))
    text = markdown([outcome], evaluate([outcome], GatePolicy(), TODAY))
    assert "| LOW | CVE-1 | a\\|b | 1 2 | - | counted |" in text.splitlines()


def test_long_tables_are_cut_and_say_so() -> None:
    many = tuple(Finding(f"CVE-{i:04d}", "LOW") for i in range(30))
    outcome = ScanOutcome("backend", BACKEND, "COMPLETE", many)
    text = markdown([outcome], evaluate([outcome], GatePolicy(), TODAY), max_rows=10)
    assert sum(1 for line in text.splitlines() if line.startswith("| LOW |")) == 10
    assert "… and 20 more findings (see the SARIF report)." in text


def test_an_image_without_findings_says_so() -> None:
    outcome = ScanOutcome("backend", BACKEND, "COMPLETE", ())
    text = markdown([outcome], evaluate([outcome], GatePolicy(), TODAY))
    assert "## Image scan: passed" in text
    assert "No findings." in text
