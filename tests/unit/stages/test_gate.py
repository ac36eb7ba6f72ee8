"""The gate stage: scan outcomes to one decision; nothing scanned means every image skipped."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.scan.gate import GatePolicy, IgnoreRule
from pipeline.scan.ports import ImageRef
from pipeline.scan.wait import ScanOutcome
from pipeline.stages import gate
from pipeline.stages.results import ImagePublished, Published, Scanned
from tests.unit.scan.fakes import DIGEST, finding

TODAY = dt.date(2026, 11, 27)
PUBLISHED = Published(
    (
        ImagePublished("api", "reg/api", "api", DIGEST, pushed=True),
        ImagePublished("web", "reg/web", "web", DIGEST, pushed=True),
    )
)
STRICT = GatePolicy(thresholds={"CRITICAL": 0})


def outcome(name: str, *findings: object, error: str | None = None) -> ScanOutcome:
    status = "ERROR" if error else "COMPLETE"
    return ScanOutcome(name, ImageRef(name, DIGEST), status, tuple(findings), error=error)  # type: ignore[arg-type]


CRITICAL = finding("CVE-2026-9", "CRITICAL")


@pytest.mark.parametrize(
    ("case", "scanned", "policy", "decision", "per_image"),
    [
        (
            "clean images pass",
            Scanned((outcome("api"), outcome("web"))),
            STRICT,
            "pass",
            {"api": "pass", "web": "pass"},
        ),
        (
            "one CRITICAL blocks the whole release",
            Scanned((outcome("api", CRITICAL), outcome("web"))),
            STRICT,
            "block",
            {"api": "block", "web": "pass"},
        ),
        (
            "the same finding ignored passes",
            Scanned((outcome("api", CRITICAL), outcome("web"))),
            GatePolicy(
                thresholds={"CRITICAL": 0},
                ignore=(IgnoreRule("CVE-2026-9", "not reachable", dt.date(2027, 1, 31)),),
            ),
            "pass",
            {"api": "pass", "web": "pass"},
        ),
        (
            "an ignore entry expired today counts again",
            Scanned((outcome("api", CRITICAL), outcome("web"))),
            GatePolicy(
                thresholds={"CRITICAL": 0},
                ignore=(IgnoreRule("CVE-2026-9", "not reachable", TODAY),),
            ),
            "block",
            {"api": "block", "web": "pass"},
        ),
        (
            "a scan error fails closed",
            Scanned((outcome("api", error="scan status FAILED"), outcome("web"))),
            STRICT,
            "block",
            {"api": "block", "web": "pass"},
        ),
        (
            "a dry run skips every image",
            Scanned((), skipped="dry run: nothing was scanned"),
            STRICT,
            "skipped",
            {"api": "skipped", "web": "skipped"},
        ),
        (
            "no scan stage (scanning off) skips every image",
            None,
            STRICT,
            "skipped",
            {"api": "skipped", "web": "skipped"},
        ),
    ],
)
def test_decisions(
    case: str,
    scanned: Scanned | None,
    policy: GatePolicy,
    decision: str,
    per_image: dict[str, str],
) -> None:
    result = gate.run(PUBLISHED, scanned, policy, TODAY, off="scanning is off")
    assert result.decision == decision, case
    assert {i.name: i.decision for i in result.images} == per_image, case


def test_skipped_images_carry_the_reason() -> None:
    result = gate.run(PUBLISHED, None, STRICT, TODAY, off="scanning is off (scan.enabled: false)")
    assert [i.warnings for i in result.images] == [("scanning is off (scan.enabled: false)",)] * 2
    assert not result.blocked
