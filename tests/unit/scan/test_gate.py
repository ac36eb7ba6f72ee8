"""The gate: thresholds at their boundaries, unknown severities, ignores with expiry,
scope and until_fixed, ignore_unfixed on basic and enhanced scans, one decision."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import pytest

from pipeline.config.schema import Scan
from pipeline.scan.findings import Finding, Fix
from pipeline.scan.gate import GatePolicy, IgnoreRule, evaluate, evaluate_image, skipped
from pipeline.scan.ports import ImageRef
from pipeline.scan.wait import ScanOutcome
from tests.unit.scan.fakes import finding

TODAY = dt.date(2027, 1, 20)
REF = ImageRef("team/app", "sha256:" + "cd" * 32)


def outcome(
    findings: Sequence[Finding],
    *,
    name: str = "backend",
    enhanced: bool = False,
    status: str = "COMPLETE",
    error: str | None = None,
    warnings: tuple[str, ...] = (),
) -> ScanOutcome:
    return ScanOutcome(
        name,
        REF,
        status,
        tuple(findings),
        enhanced=enhanced,
        error=error,
        warnings=warnings,
    )


def many(severity: str, n: int) -> list[Finding]:
    return [finding(f"CVE-2026-{severity[:2]}{i:03d}", severity) for i in range(n)]


# ---------------------------------------------------------------- thresholds


@pytest.mark.parametrize("severity", ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"])
@pytest.mark.parametrize(
    ("limit", "found", "decision"),
    [(0, 0, "pass"), (0, 1, "block"), (1, 1, "pass"), (1, 2, "block")],
)
def test_each_threshold_at_its_boundary(
    severity: str, limit: int, found: int, decision: str
) -> None:
    result = evaluate_image(outcome(many(severity, found)), GatePolicy({severity: limit}), TODAY)
    assert result.decision == decision
    assert len(result.blocking) == (found if decision == "block" else 0)
    if decision == "block":
        assert result.reasons == (
            f"{found} {severity} finding{'s' * (found != 1)} (at most {limit} allowed)",
        )


@pytest.mark.parametrize(("highs", "decision"), [(5, "pass"), (6, "block")])
def test_a_count_budget(highs: int, decision: str) -> None:
    policy = GatePolicy({"HIGH": 5, "CRITICAL": 0})
    assert evaluate_image(outcome(many("HIGH", highs)), policy, TODAY).decision == decision


def test_a_severity_without_threshold_is_unlimited() -> None:
    policy = GatePolicy({"CRITICAL": 0})
    result = evaluate_image(outcome(many("HIGH", 40) + many("LOW", 100)), policy, TODAY)
    assert result.decision == "pass"
    assert result.counts == {"HIGH": 40, "LOW": 100}


def test_critical_zero_blocks_one_critical_and_passes_only_highs() -> None:
    policy = GatePolicy({"CRITICAL": 0})
    assert evaluate_image(outcome(many("CRITICAL", 1)), policy, TODAY).decision == "block"
    assert evaluate_image(outcome(many("HIGH", 3)), policy, TODAY).decision == "pass"


def test_blocking_findings_are_listed_worst_first() -> None:
    findings = [finding("CVE-3", "HIGH"), finding("CVE-1", "CRITICAL"), finding("CVE-2", "HIGH")]
    result = evaluate_image(outcome(findings), GatePolicy({"CRITICAL": 0, "HIGH": 0}), TODAY)
    assert [f.id for f in result.blocking] == ["CVE-1", "CVE-2", "CVE-3"]


# ---------------------------------------------------------------- unknown severities


@pytest.mark.parametrize("unknown", ["UNDEFINED", "UNTRIAGED"])
@pytest.mark.parametrize(("undefined_as", "decision"), [("HIGH", "block"), ("LOW", "pass")])
def test_unknown_severities_count_as_configured(
    unknown: str, undefined_as: str, decision: str
) -> None:
    policy = GatePolicy({"HIGH": 0}, undefined_as=undefined_as)
    result = evaluate_image(outcome([finding("CVE-9", unknown)]), policy, TODAY)
    assert result.decision == decision
    assert result.counts == {unknown: 1}  # reported as the scanner said
    assert result.gated_counts == {undefined_as: 1}  # judged as configured


# ---------------------------------------------------------------- ignores


def test_an_ignored_finding_is_suppressed_with_its_reason_and_still_reported() -> None:
    rule = IgnoreRule("cve-2026-0001", "not reachable from the service")
    policy = GatePolicy({"HIGH": 0}, ignore=(rule,))
    result = evaluate_image(outcome([finding("CVE-2026-0001", "HIGH")]), policy, TODAY)
    assert result.decision == "pass"
    assert [(s.finding.id, s.reason) for s in result.suppressed] == [
        ("CVE-2026-0001", "not reachable from the service")
    ]
    assert result.counts == {"HIGH": 1}
    assert result.gated_counts == {}


@pytest.mark.parametrize(
    ("images", "image", "applies"),
    [
        (None, "backend", True),
        (("backend",), "backend", True),
        (("backend",), "frontend", False),
        (("back*",), "backend", True),
        (("back*",), "worker", False),
        (("frontend", "backend"), "backend", True),
    ],
)
def test_ignore_scope_by_image(images: tuple[str, ...] | None, image: str, applies: bool) -> None:
    policy = GatePolicy({"HIGH": 0}, ignore=(IgnoreRule("CVE-2026-0001", "ok", images=images),))
    result = evaluate_image(outcome([finding()], name=image), policy, TODAY)
    assert (result.decision == "pass") is applies


EXPIRES = dt.date(2027, 1, 31)


@pytest.mark.parametrize(
    ("today", "suppressed", "warning"),
    [
        (dt.date(2027, 1, 23), True, None),  # 8 days left: quiet
        (dt.date(2027, 1, 24), True, "expires on 2027-01-31 (in 7 days)"),
        (dt.date(2027, 1, 30), True, "expires on 2027-01-31 (in 1 day)"),
        (dt.date(2027, 1, 31), False, "expired on 2027-01-31"),  # the day of: no longer applies
        (dt.date(2027, 3, 1), False, "expired on 2027-01-31"),
    ],
)
def test_ignore_expiry_boundaries(today: dt.date, suppressed: bool, warning: str | None) -> None:
    rule = IgnoreRule("CVE-2026-0001", "accepted risk", expires=EXPIRES)
    result = evaluate_image(outcome([finding()]), GatePolicy({"HIGH": 0}, ignore=(rule,)), today)
    assert (result.decision == "pass") is suppressed
    assert bool(result.suppressed) is suppressed
    assert (result.expired == (rule,)) is (not suppressed)
    if warning is None:
        assert result.warnings == ()
    else:
        assert any(warning in w for w in result.warnings), result.warnings
    if suppressed:
        assert result.suppressed[0].reason == "accepted risk (until 2027-01-31)"


def test_an_expired_entry_does_not_hide_a_later_valid_one() -> None:
    old = IgnoreRule("CVE-2026-0001", "old", expires=dt.date(2027, 1, 1))
    new = IgnoreRule("CVE-2026-0001", "renewed", expires=dt.date(2027, 6, 1))
    result = evaluate_image(outcome([finding()]), GatePolicy({"HIGH": 0}, ignore=(old, new)), TODAY)
    assert result.decision == "pass"
    assert result.suppressed[0].reason.startswith("renewed")
    assert result.expired == (old,)


@pytest.mark.parametrize(
    ("fix", "fixed_in", "suppressed", "warning"),
    [
        (Fix.NO, None, True, None),
        (Fix.YES, "3.0.12", False, "no longer applies: a fix is available (fixed in 3.0.12)"),
        (Fix.UNKNOWN, None, False, "says nothing about fixes"),
    ],
)
def test_until_fixed_applies_only_while_no_fix_exists(
    fix: Fix, fixed_in: str | None, suppressed: bool, warning: str | None
) -> None:
    rule = IgnoreRule("CVE-2026-0001", "waiting for upstream", until_fixed=True)
    found = finding(fix=fix, fixed_in=fixed_in)
    result = evaluate_image(
        outcome([found], enhanced=fix is not Fix.UNKNOWN),
        GatePolicy({"HIGH": 0}, ignore=(rule,)),
        TODAY,
    )
    assert (result.decision == "pass") is suppressed
    if warning:
        assert any(warning in w for w in result.warnings), result.warnings
    else:
        assert result.suppressed[0].reason == "waiting for upstream (while no fix is available)"


def test_until_fixed_on_enhanced_finding_without_fix_data_does_not_blame_basic_scanning() -> None:
    # Inspector left fixAvailable out of this finding: the scan is enhanced, so
    # the warning must not tell the user to switch to enhanced scanning.
    rule = IgnoreRule("CVE-2026-0001", "waiting for upstream", until_fixed=True)
    found = replace(finding(), enhanced=True)
    result = evaluate_image(
        outcome([found], enhanced=True), GatePolicy({"HIGH": 0}, ignore=(rule,)), TODAY
    )
    assert result.decision == "block"
    assert any("does not say whether a fix exists" in w for w in result.warnings), result.warnings
    assert not any("basic" in w for w in result.warnings), result.warnings


# ---------------------------------------------------------------- ignore_unfixed


def test_ignore_unfixed_on_an_enhanced_scan_gates_only_fixable_findings() -> None:
    findings = [
        finding("CVE-NOFIX", "CRITICAL", fix=Fix.NO),
        finding("CVE-FIX", "CRITICAL", fix=Fix.YES, fixed_in="1.2"),
        finding("CVE-UNSAID", "CRITICAL", fix=Fix.UNKNOWN),
    ]
    policy = GatePolicy({"CRITICAL": 0}, ignore_unfixed=True)
    result = evaluate_image(outcome(findings, enhanced=True), policy, TODAY)
    assert result.decision == "block"
    assert [f.id for f in result.blocking] == ["CVE-FIX", "CVE-UNSAID"]
    assert [(s.finding.id, s.reason) for s in result.suppressed] == [
        ("CVE-NOFIX", "no fix available (scan.ignore_unfixed)")
    ]
    assert result.warnings == ()


def test_ignore_unfixed_on_a_basic_scan_warns_and_gates_on_everything() -> None:
    findings = [finding("CVE-A", "CRITICAL"), finding("CVE-B", "CRITICAL")]
    policy = GatePolicy({"CRITICAL": 0}, ignore_unfixed=True)
    result = evaluate_image(outcome(findings, enhanced=False), policy, TODAY)
    assert result.decision == "block"
    assert len(result.blocking) == 2
    assert result.suppressed == ()
    assert len(result.warnings) == 1
    assert "enhanced scanning" in result.warnings[0]


@pytest.mark.parametrize("state", ["SUPPRESSED", "CLOSED"])
def test_findings_inspector_suppressed_or_closed_do_not_count(state: str) -> None:
    result = evaluate_image(
        outcome([finding(status=state, fix=Fix.YES)], enhanced=True),
        GatePolicy({"HIGH": 0}),
        TODAY,
    )
    assert result.decision == "pass"
    assert "Amazon Inspector" in result.suppressed[0].reason


# ---------------------------------------------------------------- the release


def test_one_blocked_image_blocks_the_release() -> None:
    outcomes = [outcome([], name="frontend"), outcome(many("CRITICAL", 1), name="backend")]
    result = evaluate(outcomes, GatePolicy({"CRITICAL": 0}), TODAY)
    assert result.decision == "block"
    assert result.blocked
    assert result.image("frontend").decision == "pass"
    assert result.image("backend").decision == "block"


def test_an_image_without_a_scan_result_never_passes() -> None:
    result = evaluate(
        [outcome([], status="TIMEOUT", error="no scan result after 600s")], GatePolicy(), TODAY
    )
    assert result.decision == "block"
    assert result.images[0].reasons == ("no scan result: no scan result after 600s",)


def test_an_unscannable_image_let_through_is_skipped_with_its_warning() -> None:
    warning = "the registry cannot scan team/app: UNSUPPORTED_IMAGE; released unscanned"
    result = evaluate(
        [
            outcome([], status="UNSUPPORTED_IMAGE", warnings=(warning,)),
            outcome([], name="frontend"),
        ],
        GatePolicy({"CRITICAL": 0}),
        TODAY,
    )
    assert result.decision == "pass"
    assert result.images[0].decision == "skipped"
    assert warning in result.images[0].warnings[0]


def test_all_skipped_is_skipped() -> None:
    result = evaluate([], GatePolicy(), TODAY)
    assert result.decision == "skipped"
    assert skipped("backend", "scan.enabled: false").decision == "skipped"


def test_the_policy_comes_from_the_config() -> None:
    scan = Scan.model_validate(
        {
            "thresholds": {"critical": 0, "HIGH": 2},
            "undefined_as": "medium",
            "ignore_unfixed": True,
            "ignore": [
                {"id": "CVE-1", "reason": "r", "expires": "2027-01-31", "images": ["backend"]},
                {"id": "CVE-2", "reason": "s", "until_fixed": True},
            ],
        }
    )
    policy = GatePolicy.from_config(scan)
    assert policy.thresholds == {"CRITICAL": 0, "HIGH": 2}
    assert policy.undefined_as == "MEDIUM"
    assert policy.ignore_unfixed
    assert policy.ignore == (
        IgnoreRule("CVE-1", "r", dt.date(2027, 1, 31), ("backend",), False),
        IgnoreRule("CVE-2", "s", None, None, True),
    )
