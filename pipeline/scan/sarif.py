"""SARIF 2.1.0 of every finding of every image, for code scanning dashboards.

One result per finding and image; the rule is the vulnerability id, the level
follows the severity, the location is the image (by digest). Suppressed
findings are still results, carrying a suppression with the reason, so a
dashboard shows what was accepted and why. GitHub reads the rule's
`security-severity` property to rank results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipeline import __version__
from pipeline.scan.findings import Finding, rank
from pipeline.scan.gate import GateResult, ImageGate
from pipeline.scan.wait import ScanOutcome

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {
    "CRITICAL": "error",
    "HIGH": "error",
    "MEDIUM": "warning",
    "LOW": "note",
    "INFORMATIONAL": "note",
    "UNDEFINED": "warning",
    "UNTRIAGED": "warning",
}
# GitHub's security-severity scale (CVSS-like): critical >= 9, high >= 7, medium >= 4.
_SECURITY_SEVERITY = {
    "CRITICAL": 9.5,
    "HIGH": 8.0,
    "MEDIUM": 5.5,
    "LOW": 2.0,
    "INFORMATIONAL": 0.0,
    "UNDEFINED": 5.5,
    "UNTRIAGED": 5.5,
}


def level(severity: str) -> str:
    return LEVELS.get(severity, "warning")


def _rule(finding: Finding) -> dict[str, Any]:
    text = finding.title or f"{finding.id} in {finding.package or 'a package'}"
    rule: dict[str, Any] = {
        "id": finding.id,
        "shortDescription": {"text": text},
        "fullDescription": {"text": finding.description or text},
        "defaultConfiguration": {"level": level(finding.severity)},
        "properties": {
            "security-severity": f"{_SECURITY_SEVERITY.get(finding.severity, 5.5):.1f}",
            "tags": ["security", "vulnerability", finding.severity.lower()],
        },
    }
    if finding.uri:
        rule["helpUri"] = finding.uri
        rule["help"] = {"text": f"{finding.id}: {finding.uri}"}
    return rule


def _message(finding: Finding, name: str, where: str) -> str:
    package = f"{finding.package} {finding.version or ''}".strip() if finding.package else None
    parts = [f"{finding.id} ({finding.severity})"]
    if package:
        parts.append(f"in {package}")
    if finding.fixed_in:
        parts.append(f"(fixed in {finding.fixed_in})")
    parts.append(f"in image {name} ({where})")
    return " ".join(parts)


def _result(
    finding: Finding,
    rule_index: int,
    name: str,
    where: str,
    gate: ImageGate | None,
) -> dict[str, Any]:
    blocking = gate is not None and finding in gate.blocking
    reason = (
        next((s.reason for s in gate.suppressed if s.finding == finding), None) if gate else None
    )
    result: dict[str, Any] = {
        "ruleId": finding.id,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": {"text": _message(finding, name, where)},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": where}},
                "logicalLocations": [{"name": name, "kind": "module"}],
            }
        ],
        "partialFingerprints": {"vulnerability/v1": f"{name}|{finding.id}|{finding.package or ''}"},
        "properties": {
            "image": name,
            "severity": finding.severity,
            "package": finding.package,
            "installedVersion": finding.version,
            "fixedVersion": finding.fixed_in,
            "fixAvailable": finding.fix.value,
            "gate": "blocking" if blocking else "suppressed" if reason else "counted",
        },
    }
    if reason is not None:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": reason}
        ]
    return result


def build(
    outcomes: Sequence[ScanOutcome],
    gate: GateResult | None = None,
    images: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The SARIF log. `images` maps an image's name to its reference (host/repository);
    the location is that reference pinned to the scanned digest."""
    gates = {g.name: g for g in gate.images} if gate else {}
    rules: dict[str, dict[str, Any]] = {}
    worst: dict[str, str] = {}
    pending: list[tuple[Finding, str, str]] = []
    for outcome in outcomes:
        base = (images or {}).get(outcome.name, outcome.image.repository)
        where = f"{base}@{outcome.image.digest}"
        for finding in sorted(outcome.findings, key=lambda f: (rank(f.severity), f.id)):
            if finding.id not in rules or rank(finding.severity) < rank(worst[finding.id]):
                rules[finding.id] = _rule(finding)
                worst[finding.id] = finding.severity
            pending.append((finding, outcome.name, where))
    index = {rule_id: i for i, rule_id in enumerate(rules)}
    results = [_result(f, index[f.id], name, where, gates.get(name)) for f, name, where in pending]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pipeline",
                        "version": __version__,
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
                "columnKind": "utf16CodeUnits",
            }
        ],
    }
