"""The table printed after every run (also with -q), from its report: pure.

Built from the report, not from what the terminal saw, so that it tells the
truth for failed and interrupted runs too: an image that was not pushed has
no digest, a stage that did not run has no time. The scan and the gate are
the report's own fields (the scan fragment `{"status", "counts", "blocking"}`,
the gate `pass|block|skipped`), whatever stage filled them in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.report.run_report import ImageReport, RunReport

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED")
IMAGE_COLUMNS = ("IMAGE", "DIGEST", "TAGS", "FINDINGS", "GATE", "DEPLOY")
DEPLOY_COLUMNS = ("TARGET", "TYPE", "STATUS")
STAGE_COLUMNS = ("STAGE", "TIME", "RESULT")


@dataclass(frozen=True)
class Summary:
    title: str
    images: tuple[tuple[str, ...], ...] = ()
    deployments: tuple[tuple[str, ...], ...] = ()
    stages: tuple[tuple[str, ...], ...] = ()
    #: what a row cannot hold: errors, tags left for the promote stage, rollout messages
    notes: tuple[str, ...] = field(default_factory=tuple)
    ok: bool = True


def short_digest(digest: str | None) -> str:
    if not digest:
        return "-"
    algorithm, _, hexes = digest.partition(":")
    return f"{algorithm}:{hexes[:12]}" if hexes else digest[:19]


def duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def findings(scan: Any) -> str:
    """`2 critical, 1 high` from the report's scan entry; `-` when there was no scan."""
    if not isinstance(scan, Mapping):
        return "-"
    counts = scan.get("counts") or {}
    if not isinstance(counts, Mapping):
        return "-"
    known = [s for s in SEVERITIES if counts.get(s)]
    other = sorted(k for k in counts if k not in SEVERITIES and counts.get(k))
    parts = [f"{counts[s]} {s.lower()}" for s in (*known, *other)]
    if parts:
        return ", ".join(parts)
    status = str(scan.get("status") or "")
    return "none" if status in ("", "COMPLETE", "ACTIVE") else status.lower()


def _deploys(image: ImageReport, report: RunReport) -> str:
    mine = [
        d.status.replace("_", " ")
        for d in report.deployments
        if d.image.startswith((f"{image.image}@", f"{image.image}:")) or d.image == image.image
    ]
    return ", ".join(mine) or "-"


def _image_row(image: ImageReport, report: RunReport) -> tuple[str, ...]:
    return (
        image.name,
        short_digest(image.digest),
        ", ".join(image.tags) or "-",
        findings(image.scan),
        image.gate or "skipped",
        _deploys(image, report),
    )


def _title(report: RunReport) -> str:
    status = report.status
    if report.interrupted:
        status = f"{status} (interrupted)"
    dry = " (dry run)" if report.dry_run else ""
    return f"Run {status}{dry}: {', '.join(report.stages)}"


def _notes(report: RunReport) -> list[str]:
    notes = []
    for image in report.images:
        if image.reused:
            notes.append(f"{image.name}: reused (unchanged inputs)")
        if image.pending_tags:
            notes.append(
                f"{image.name}: not moved (promote stage): {', '.join(image.pending_tags)}"
            )
        if image.error:
            notes.append(f"{image.name}: error: {image.error}")
        scan = image.scan or {}
        blocking = scan.get("blocking") or []
        if blocking:
            notes.append(f"{image.name}: blocking findings: {', '.join(map(str, blocking))}")
        for entry in scan.get("suppressed") or []:
            # what the config accepted, and why: a reviewer sees it without opening the report
            notes.append(f"{image.name}: accepted {entry.get('id')}: {entry.get('reason')}")
    for d in report.deployments:
        if d.message:
            notes.append(f"deploy {d.target}: {d.message}")
    if report.error:
        notes.append(f"error: {report.error}")
    return notes


def shown(stage: str, asked: Sequence[str]) -> bool:
    """A stage the run was asked for (and its preparation). The runner also times steps of
    stages that were not asked for (the deploy step writes CodePipeline's files): their
    time counts in the total, but they get no line of their own."""
    return stage == "prepare" or stage in asked


def summarize(report: RunReport, outcomes: Mapping[str, bool] | None = None) -> Summary:
    """`outcomes`: each stage's ok as the stage observer heard it (a failed stage is marked)."""
    outcomes = outcomes or {}
    stages: list[tuple[str, ...]] = []
    for stage, seconds in report.timings.items():
        if not shown(stage, report.stages):
            continue
        result = {True: "ok", False: "failed"}.get(outcomes.get(stage, True), "ok")
        if stage == "gate" and result == "failed" and any(i.gate == "block" for i in report.images):
            result = "blocked"  # the gate did its job: it did not fail, it said no
        stages.append((stage, duration(seconds), result))
    if report.timings:
        stages.append(("total", duration(sum(report.timings.values())), ""))
    return Summary(
        title=_title(report),
        images=tuple(_image_row(i, report) for i in report.images),
        deployments=tuple(
            (d.target, d.type, d.status.replace("_", " ")) for d in report.deployments
        ),
        stages=tuple(stages),
        notes=tuple(_notes(report)),
        ok=report.status == "ok",
    )


def columns(rows: Sequence[Sequence[str]], head: Sequence[str]) -> list[str]:
    """Rows as aligned text columns, two spaces apart (no trailing blanks)."""
    table = [list(head), *(list(r) for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    ]


def plain(summary: Summary) -> str:
    """The summary as plain text: no colour, no box drawing, no control character."""
    lines = [summary.title]
    if summary.images:
        lines += ["", *columns(summary.images, IMAGE_COLUMNS)]
    if summary.deployments:
        lines += ["", *columns(summary.deployments, DEPLOY_COLUMNS)]
    if summary.stages:
        lines += ["", *columns(summary.stages, STAGE_COLUMNS)]
    if summary.notes:
        lines += ["", *summary.notes]
    return "\n".join(lines)
