"""One finding, read from either shape DescribeImageScanFindings returns.

Basic scanning lists `findings` (name, severity, package attributes, no fix
data); enhanced scanning (Amazon Inspector) lists `enhancedFindings` with the
package, the fixed-in version and `fixAvailable`. Both become a `Finding`.
Counts are always recomputed from the findings: `findingSeverityCounts` covers
every page and knows nothing of our ignores (reference/scan-gate-and-moto.md).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Worst first; the two "unknown" severities stay distinct from the rest so
# that the gate maps them on purpose (`undefined_as`) rather than losing them.
SEVERITIES: tuple[str, ...] = (
    "CRITICAL",
    "HIGH",
    "MEDIUM",
    "LOW",
    "INFORMATIONAL",
    "UNDEFINED",
    "UNTRIAGED",
)
UNKNOWN_SEVERITIES = frozenset({"UNDEFINED", "UNTRIAGED"})
# Spellings other scanners (and Clair-era ECR) use for the same levels.
_ALIASES = {"NEGLIGIBLE": "INFORMATIONAL", "INFO": "INFORMATIONAL", "UNKNOWN": "UNDEFINED"}
_SHORT = 240  # characters of a description kept for reports


class Fix(enum.Enum):
    """Whether a fixed version exists. Basic scans never say: UNKNOWN."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    package: str | None = None
    version: str | None = None
    fixed_in: str | None = None
    fix: Fix = Fix.UNKNOWN
    uri: str | None = None
    title: str | None = None
    description: str | None = None
    score: float | None = None
    #: Inspector's own state (ACTIVE, SUPPRESSED, CLOSED); None for basic findings
    status: str | None = None
    enhanced: bool = False


def severity(raw: Any) -> str:
    """Upper-case, aliases resolved; anything unrecognised is UNDEFINED, never dropped."""
    text = str(raw or "").strip().upper()
    text = _ALIASES.get(text, text)
    return text if text in SEVERITIES else "UNDEFINED"


def rank(sev: str) -> int:
    """Sort key: CRITICAL first, unknown severities last."""
    return SEVERITIES.index(sev) if sev in SEVERITIES else len(SEVERITIES)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per severity, worst first, only severities present (as ECR lists them)."""
    seen: dict[str, int] = {}
    for finding in findings:
        seen[finding.severity] = seen.get(finding.severity, 0) + 1
    return {sev: seen[sev] for sev in sorted(seen, key=rank)}


def _short(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = " ".join(raw.split())
    return text if len(text) <= _SHORT else text[: _SHORT - 1].rstrip() + "…"


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def basic(raw: Mapping[str, Any]) -> Finding:
    """A basic-scanning finding: `{name, description, uri, severity, attributes}`."""
    attributes = {
        str(a.get("key")): a.get("value")
        for a in raw.get("attributes") or ()
        if isinstance(a, Mapping)
    }
    return Finding(
        id=str(raw.get("name") or "UNNAMED"),
        severity=severity(raw.get("severity")),
        package=attributes.get("package_name") or None,
        version=attributes.get("package_version") or None,
        uri=raw.get("uri") or None,
        description=_short(raw.get("description")),
        score=_float(attributes.get("CVSS3_SCORE") or attributes.get("CVSS2_SCORE")),
    )


def _fix(flag: Any, fixed_in: str | None) -> Fix:
    # PARTIAL means a fix exists for some of the affected packages: fixable.
    text = str(flag or "").upper()
    if text in ("YES", "PARTIAL") or fixed_in:
        return Fix.YES
    if text == "NO":
        return Fix.NO
    return Fix.UNKNOWN


def enhanced(raw: Mapping[str, Any]) -> Finding:
    """An Inspector finding; the first vulnerable package names the package."""
    details = raw.get("packageVulnerabilityDetails") or {}
    packages = [p for p in details.get("vulnerablePackages") or () if isinstance(p, Mapping)]
    package = packages[0] if packages else {}
    fixed_in = package.get("fixedInVersion") or None
    if fixed_in in ("NotAvailable", "None"):
        fixed_in = None  # Inspector's spelling of "no fixed version"
    version = package.get("version")
    if version and package.get("release"):
        version = f"{version}-{package['release']}"
    refs = details.get("referenceUrls") or ()
    return Finding(
        id=str(details.get("vulnerabilityId") or raw.get("title") or raw.get("findingArn") or "?"),
        severity=severity(raw.get("severity")),
        package=package.get("name") or None,
        version=version or None,
        fixed_in=fixed_in,
        fix=_fix(raw.get("fixAvailable"), fixed_in),
        uri=details.get("sourceUrl") or (refs[0] if refs else None),
        title=_short(raw.get("title")),
        description=_short(raw.get("description")),
        score=_float(raw.get("score")),
        status=str(raw["status"]).upper() if raw.get("status") else None,
        enhanced=True,
    )


@dataclass(frozen=True)
class Parsed:
    findings: tuple[Finding, ...]
    #: which lists the response carried (a response may carry neither, or both)
    has_basic: bool
    has_enhanced: bool


def parse(scan_findings: Mapping[str, Any] | None) -> Parsed:
    """The `imageScanFindings` object of one DescribeImageScanFindings page."""
    data = scan_findings or {}
    basic_list = data.get("findings")
    enhanced_list = data.get("enhancedFindings")
    found = [basic(f) for f in basic_list or () if isinstance(f, Mapping)]
    found += [enhanced(f) for f in enhanced_list or () if isinstance(f, Mapping)]
    return Parsed(
        tuple(found),
        has_basic=basic_list is not None,
        has_enhanced=enhanced_list is not None,
    )


def fixed_text(finding: Finding) -> str:
    """The fixed-in column of a report: a version where known, else what is known."""
    if finding.fixed_in:
        return finding.fixed_in
    return {Fix.YES: "yes", Fix.NO: "no fix", Fix.UNKNOWN: "-"}[finding.fix]
