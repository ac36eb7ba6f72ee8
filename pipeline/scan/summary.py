"""A Markdown summary of the scan and the gate, for $GITHUB_STEP_SUMMARY.

One line per image with its decision and counts, then each image's findings
(worst first) with what the gate made of each: blocking, counted, or
suppressed with the reason. GitHub caps a step summary at 1 MiB, so a table
stops after `max_rows` findings and says how many more the SARIF report has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pipeline.scan.findings import SEVERITIES, Finding, fixed_text, rank
from pipeline.scan.gate import GateResult, ImageGate
from pipeline.scan.wait import ScanOutcome

_DECISION = {"pass": "✅ pass", "block": "❌ blocked", "skipped": "⚪ skipped"}
_TITLE = {"pass": "passed", "block": "blocked", "skipped": "skipped"}


def _cell(text: str | None) -> str:
    return (text or "-").replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _status(finding: Finding, gate: ImageGate) -> str:
    if finding in gate.blocking:
        return "**blocking**"
    reason = next((s.reason for s in gate.suppressed if s.finding == finding), None)
    return f"suppressed: {reason}" if reason else "counted"


def _overview(outcomes: Sequence[ScanOutcome], gate: GateResult) -> list[str]:
    head = (
        "| Image | Gate | Scan | " + " | ".join(s.title() for s in SEVERITIES) + " | Suppressed |"
    )
    lines = [head, "|" + "---|" * (len(SEVERITIES) + 4)]
    for outcome in outcomes:
        image = gate.image(outcome.name)
        numbers = " | ".join(str(image.counts.get(s, 0)) for s in SEVERITIES)
        scan = outcome.status + (" (enhanced)" if outcome.enhanced else "")
        lines.append(
            f"| {_cell(outcome.name)} | {_DECISION[image.decision]} | {scan} | {numbers}"
            f" | {len(image.suppressed)} |"
        )
    return lines


def _details(outcome: ScanOutcome, image: ImageGate, max_rows: int) -> list[str]:
    lines = [f"### {_cell(outcome.name)}: {_TITLE[image.decision]}", ""]
    taken = outcome.taken_at
    when = f", scanned {taken.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC" if taken else ""
    lines.append(f"`{outcome.image}`{when}" + (" (an earlier scan)" if outcome.stale else ""))
    notes = [f"- {_cell(r)}" for r in image.reasons]
    notes += [f"- ⚠️ {_cell(w)}" for w in dict.fromkeys((*outcome.warnings, *image.warnings))]
    if notes:
        lines += ["", *notes]
    if not outcome.findings:
        return [*lines, "", "No findings." if outcome.usable else "No scan result.", ""]
    lines += [
        "",
        "| Severity | ID | Package | Version | Fixed in | Gate |",
        "|---|---|---|---|---|---|",
    ]
    ordered = sorted(
        outcome.findings,
        key=lambda f: (f not in image.blocking, rank(f.severity), f.id),
    )
    for finding in ordered[:max_rows]:
        link = f"[{_cell(finding.id)}]({finding.uri})" if finding.uri else _cell(finding.id)
        lines.append(
            f"| {finding.severity} | {link} | {_cell(finding.package)} | {_cell(finding.version)}"
            f" | {_cell(fixed_text(finding))} | {_cell(_status(finding, image))} |"
        )
    if len(ordered) > max_rows:
        lines.append(f"\n… and {len(ordered) - max_rows} more findings (see the SARIF report).")
    return [*lines, ""]


def markdown(outcomes: Sequence[ScanOutcome], gate: GateResult, max_rows: int = 200) -> str:
    lines = [f"## Image scan: {_TITLE[gate.decision]}", "", *_overview(outcomes, gate), ""]
    for outcome in outcomes:
        lines += _details(outcome, gate.image(outcome.name), max_rows)
    return "\n".join(lines)
