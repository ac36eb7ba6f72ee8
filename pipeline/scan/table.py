"""The terminal's table of blocking findings: what to fix before the release can go."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.scan.findings import Finding, fixed_text
from pipeline.scan.gate import GateResult

HEADER = ("ID", "SEVERITY", "PACKAGE", "VERSION", "FIXED IN")


def _row(finding: Finding) -> tuple[str, ...]:
    return (
        finding.id,
        finding.severity,
        finding.package or "-",
        finding.version or "-",
        fixed_text(finding),
    )


def rows(findings: Sequence[Finding]) -> list[str]:
    """Aligned plain-text rows (header first) for these findings."""
    table = [HEADER, *(_row(f) for f in findings)]
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]


def blocking(result: GateResult) -> str:
    """Every blocked image with its reasons and its blocking findings; "" when none."""
    lines: list[str] = []
    for image in result.images:
        if image.decision != "block":
            continue
        lines.append(f"{image.name}: blocked: {'; '.join(image.reasons)}")
        if image.blocking:
            lines += ["  " + row for row in rows(image.blocking)]
    return "\n".join(lines)
