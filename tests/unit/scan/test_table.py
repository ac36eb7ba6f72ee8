"""The terminal table of blocking findings."""

from __future__ import annotations

from pipeline.scan.findings import Finding, Fix
from pipeline.scan.gate import GatePolicy, evaluate
from pipeline.scan.table import blocking, rows
from tests.unit.scan.scenario import OUTCOMES, TODAY, gate


def test_blocked_images_list_their_blocking_findings() -> None:
    text = blocking(gate())
    assert text.splitlines() == [
        "backend: blocked: 1 CRITICAL finding (at most 0 allowed)",
        "  ID             SEVERITY  PACKAGE  VERSION  FIXED IN",
        "  CVE-2026-0001  CRITICAL  openssl  3.0.11   -",
    ]


def test_nothing_blocked_prints_nothing() -> None:
    assert blocking(evaluate(OUTCOMES, GatePolicy(), TODAY)) == ""


def test_fixed_in_says_what_is_known() -> None:
    findings = [
        Finding("A", "HIGH", package="p", version="1", fixed_in="2", fix=Fix.YES),
        Finding("B", "HIGH", package="p", version="1", fix=Fix.YES),
        Finding("C", "HIGH", package="p", version="1", fix=Fix.NO),
        Finding("D", "HIGH"),
    ]
    assert [r.split()[-1] for r in rows(findings)[1:]] == ["2", "yes", "fix", "-"]
    assert rows(findings)[4].split() == ["D", "HIGH", "-", "-", "-"]
