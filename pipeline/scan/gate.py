"""The severity gate: scan outcomes and a policy in, one decision out (pure).

Every finding stays in the result: those that count against the thresholds,
and those suppressed, each with the reason. The decision is for the whole
release: one blocked image blocks it all, and an image with no usable scan
result never passes (fail closed).

Ignore entries: `expires` is exclusive, so an entry expiring 2027-01-31
suppresses through 2027-01-30 and counts again from 2027-01-31 on (the
contract's "from this day on the entry no longer applies"); from 7 days before
that day the result warns. `until_fixed` entries apply only while the scan says
no fix exists; basic scans say nothing about fixes, so there they do not apply.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pipeline.config.schema import Scan
from pipeline.scan.findings import UNKNOWN_SEVERITIES, Finding, Fix, counts, rank
from pipeline.scan.wait import ScanOutcome

Decision = Literal["pass", "block", "skipped"]
WARN_DAYS = 7
_INSPECTOR_STATES = {
    "SUPPRESSED": "suppressed by an Amazon Inspector suppression rule",
    "CLOSED": "closed in Amazon Inspector (no longer present)",
}


@dataclass(frozen=True)
class IgnoreRule:
    id: str
    reason: str
    expires: dt.date | None = None
    #: image names or globs; None: every image
    images: tuple[str, ...] | None = None
    until_fixed: bool = False

    def covers(self, finding: Finding, image: str) -> bool:
        if finding.id.upper() != self.id.upper():
            return False
        return self.images is None or any(fnmatch.fnmatchcase(image, p) for p in self.images)


@dataclass(frozen=True)
class GatePolicy:
    #: most findings allowed per severity (upper case); absent: unlimited
    thresholds: Mapping[str, int] = field(default_factory=dict)
    undefined_as: str = "HIGH"
    ignore_unfixed: bool = False
    ignore: tuple[IgnoreRule, ...] = ()

    @classmethod
    def from_config(cls, scan: Scan) -> GatePolicy:
        return cls(
            thresholds={k.upper(): v for k, v in scan.thresholds.items()},
            undefined_as=scan.undefined_as.upper(),
            ignore_unfixed=scan.ignore_unfixed,
            ignore=tuple(
                IgnoreRule(i.id, i.reason, i.expires, i.images, i.until_fixed) for i in scan.ignore
            ),
        )


@dataclass(frozen=True)
class Suppressed:
    finding: Finding
    reason: str


@dataclass(frozen=True)
class ImageGate:
    name: str
    decision: Decision
    #: every finding per severity, as scanned
    counts: dict[str, int] = field(default_factory=dict)
    #: what the thresholds judged: suppressed findings out, unknown severities mapped
    gated_counts: dict[str, int] = field(default_factory=dict)
    blocking: tuple[Finding, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    #: why it blocks, one line per exceeded threshold (or the missing scan result)
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: ignore entries that matched a finding here but have expired
    expired: tuple[IgnoreRule, ...] = ()


@dataclass(frozen=True)
class GateResult:
    decision: Decision
    images: tuple[ImageGate, ...]

    @property
    def blocked(self) -> bool:
        return self.decision == "block"

    def image(self, name: str) -> ImageGate:
        for image in self.images:
            if image.name == name:
                return image
        raise KeyError(name)


def skipped(name: str, reason: str) -> ImageGate:
    """An image the gate did not judge (scanning off, or an unscannable image let through)."""
    return ImageGate(name, "skipped", warnings=(reason,))


def evaluate(outcomes: Sequence[ScanOutcome], policy: GatePolicy, today: dt.date) -> GateResult:
    images = tuple(evaluate_image(o, policy, today) for o in outcomes)
    return GateResult(decide(images), images)


def decide(images: Iterable[ImageGate]) -> Decision:
    """One decision for the release: any block blocks; all skipped is skipped."""
    decisions = {i.decision for i in images}
    if "block" in decisions:
        return "block"
    return "pass" if "pass" in decisions else "skipped"


def evaluate_image(outcome: ScanOutcome, policy: GatePolicy, today: dt.date) -> ImageGate:
    if outcome.error is not None:
        # Fail closed; the run reports the scan error (exit 1) before any gate.
        reason = f"no scan result: {outcome.error}"
        return ImageGate(outcome.name, "block", reasons=(reason,), warnings=outcome.warnings)
    if not outcome.usable:
        return ImageGate(
            outcome.name,
            "skipped",
            warnings=(*outcome.warnings, f"not gated: scan status {outcome.status}"),
        )
    judge = _Judge(outcome.name, policy, today, outcome.enhanced)
    counted: list[Finding] = []
    suppressed: list[Suppressed] = []
    for finding in outcome.findings:
        why = judge.suppression(finding)
        if why is None:
            counted.append(finding)
        else:
            suppressed.append(Suppressed(finding, why))
    if policy.ignore_unfixed and not outcome.enhanced:
        judge.warn(
            "scan.ignore_unfixed needs fix data, which only enhanced scanning gives;"
            " this basic scan has none, so every finding counts"
        )
    gated = [(_gated_severity(f, policy), f) for f in counted]
    gated_counts = _count(sev for sev, _ in gated)
    reasons: list[str] = []
    blocking: list[Finding] = []
    for sev, limit in sorted(policy.thresholds.items(), key=lambda kv: rank(kv[0])):
        found = gated_counts.get(sev, 0)
        if found > limit:
            reasons.append(f"{found} {sev} finding{'s' * (found != 1)} (at most {limit} allowed)")
            blocking += [f for s, f in gated if s == sev]
    blocking.sort(key=lambda f: (rank(_gated_severity(f, policy)), rank(f.severity), f.id))
    return ImageGate(
        name=outcome.name,
        decision="block" if reasons else "pass",
        counts=counts(outcome.findings),
        gated_counts=gated_counts,
        blocking=tuple(blocking),
        suppressed=tuple(suppressed),
        reasons=tuple(reasons),
        warnings=tuple(outcome.warnings) + judge.warnings(),
        expired=tuple(judge.expired),
    )


def _gated_severity(finding: Finding, policy: GatePolicy) -> str:
    return policy.undefined_as if finding.severity in UNKNOWN_SEVERITIES else finding.severity


def _count(severities: Iterable[str]) -> dict[str, int]:
    seen: dict[str, int] = {}
    for sev in severities:
        seen[sev] = seen.get(sev, 0) + 1
    return {s: seen[s] for s in sorted(seen, key=rank)}


class _Judge:
    """Decides, finding by finding, whether something suppresses it; collects warnings."""

    def __init__(self, image: str, policy: GatePolicy, today: dt.date, enhanced: bool) -> None:
        self.image = image
        self.policy = policy
        self.today = today
        self.enhanced = enhanced
        self.expired: list[IgnoreRule] = []
        self._warnings: dict[str, None] = {}  # ordered, without repeats

    def warn(self, text: str) -> None:
        self._warnings[text] = None

    def warnings(self) -> tuple[str, ...]:
        return tuple(self._warnings)

    def suppression(self, finding: Finding) -> str | None:
        if finding.status in _INSPECTOR_STATES:
            return _INSPECTOR_STATES[finding.status]
        for rule in self.policy.ignore:
            if rule.covers(finding, self.image):
                reason = self._applies(rule, finding)
                if reason is not None:
                    return reason
        if self.policy.ignore_unfixed and self.enhanced and finding.fix is Fix.NO:
            return "no fix available (scan.ignore_unfixed)"
        return None

    def _applies(self, rule: IgnoreRule, finding: Finding) -> str | None:
        what = f"ignore entry for {rule.id}"
        if rule.expires is not None and self.today >= rule.expires:
            if rule not in self.expired:
                self.expired.append(rule)
            self.warn(f"{what} expired on {rule.expires.isoformat()}; the finding counts again")
            return None
        if rule.until_fixed and finding.fix is not Fix.NO:
            if finding.fix is Fix.YES:
                fixed = f" (fixed in {finding.fixed_in})" if finding.fixed_in else ""
                self.warn(f"{what} (until_fixed) no longer applies: a fix is available{fixed}")
            elif finding.enhanced:
                self.warn(
                    f"{what} (until_fixed) does not apply: the scan does not say whether a fix"
                    " exists for this finding, so it counts"
                )
            else:
                self.warn(
                    f"{what} (until_fixed) does not apply: the scan says nothing about fixes"
                    " (basic scanning), so the finding counts"
                )
            return None
        reason = rule.reason
        if rule.expires is not None:
            left = (rule.expires - self.today).days
            reason += f" (until {rule.expires.isoformat()})"
            if left <= WARN_DAYS:
                self.warn(
                    f"{what} expires on {rule.expires.isoformat()}"
                    f" (in {left} day{'s' * (left != 1)}); the finding will count again"
                )
        if rule.until_fixed:
            reason += " (while no fix is available)"
        return reason
