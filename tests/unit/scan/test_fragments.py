"""The run report's `scan` and `gate` fields."""

from __future__ import annotations

import json

from pipeline.scan.fragments import gate_fragment, scan_fragment
from pipeline.scan.gate import evaluate
from pipeline.scan.wait import ScanOutcome
from tests.unit.scan.scenario import BACKEND, OUTCOMES, POLICY, TODAY, gate


def test_the_scan_field_has_the_contracts_keys_and_tells_the_truth() -> None:
    result = gate()
    fragment = scan_fragment(OUTCOMES[0], result.image("backend"))
    assert fragment["status"] == "COMPLETE"
    assert fragment["counts"] == {"CRITICAL": 1, "HIGH": 1, "LOW": 1}
    assert fragment["blocking"] == ["CVE-2026-0001"]
    assert fragment["suppressed"] == [
        {"id": "CVE-2026-0002", "package": "zlib", "reason": "not reachable (until 2027-01-25)"}
    ]
    assert fragment["taken_at"] == "2027-01-20T09:30:00+00:00"
    assert fragment["enhanced"] is False
    assert any("expires on 2027-01-25" in w for w in fragment["warnings"])
    assert "error" not in fragment
    json.dumps(fragment)  # plain JSON values only


def test_gate_field_is_the_decision() -> None:
    result = gate()
    assert gate_fragment(result.image("backend")) == "block"
    assert gate_fragment(result.image("frontend")) == "pass"


def test_a_failed_scan_carries_its_error() -> None:
    failed = ScanOutcome("backend", BACKEND, "TIMEOUT", error="no scan result after 600s")
    result = evaluate([failed], POLICY, TODAY)
    fragment = scan_fragment(failed, result.images[0])
    assert fragment["status"] == "TIMEOUT"
    assert fragment["error"] == "no scan result after 600s"
    assert fragment["counts"] == {}
    assert fragment["blocking"] == []
