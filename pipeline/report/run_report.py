"""The JSON report of a run (`--report FILE` and `outputs.report`).

Written on success and on failure alike, atomically, so CI steps that read it
never see half a file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.deployment import Deployment
    from pipeline.plan import Plan
    from pipeline.stages.results import RunResult


@dataclass
class ImageReport:
    name: str
    image: str
    tags: list[str]
    #: the repository path inside the registry, the commit built and its version:
    #: what a fan-out's final job (`--from-report`) needs besides the digest
    repository: str = ""
    revision: str = ""
    version: str | None = None
    input_digest: str | None = None
    image_id: str | None = None
    digest: str | None = None
    built: bool = False
    pushed: bool = False
    #: true when the registry already held this image (same inputs): nothing built or uploaded
    reused: bool = False
    #: mutable tags this run did not move (they move in the promote stage)
    pending_tags: list[str] = field(default_factory=list)
    error: str | None = None
    #: the scan fragment (scan/fragments.py); None when no scan ran for this image
    scan: dict[str, Any] | None = None
    #: pass | block | skipped; None when no gate ran
    gate: str | None = None
    #: the scan stage finished for this image (a result, or scanning off / a dry run)
    scanned: bool = False
    #: the promote stage ran for this image and moved every pending tag
    promoted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "image": self.image,
            "repository": self.repository,
            "revision": self.revision,
            "version": self.version,
            "digest": self.digest,
            "tags": self.tags,
            "built": self.built,
            "pushed": self.pushed,
            "reused": self.reused,
            "scan": self.scan,
            "gate": self.gate or "skipped",
            "input_digest": self.input_digest,
            "image_id": self.image_id,
            "pending_tags": self.pending_tags,
            "error": self.error,
        }


def _built(image: ImageReport, dry_run: bool) -> bool:
    return image.built or image.reused or dry_run


def _pushed(image: ImageReport, dry_run: bool) -> bool:
    return image.pushed or image.reused or dry_run


#: How to tell that a stage finished for an image. A stage missing here can
#: never be confirmed, so a run that asks for it is never "ok": each stage
#: that lands adds its own check.
FINISHED: dict[str, Callable[[ImageReport, bool], bool]] = {
    "build": _built,
    "push": _pushed,
    "scan": lambda image, dry_run: image.scanned,
    # "block" never gets here: a blocked run's status is "blocked"
    "gate": lambda image, dry_run: image.gate in ("pass", "skipped"),
    "promote": lambda image, dry_run: image.promoted,
    # judged by the run's deployments (below), not per image
    "deploy": lambda image, dry_run: True,
}


@dataclass
class RunReport:
    stages: list[str]
    dry_run: bool = False
    images: list[ImageReport] = field(default_factory=list)
    interrupted: bool = False
    #: why the run stopped when no single image is to blame (credentials, repositories)
    error: str | None = None
    #: the run reached its end (set last, by the composition root)
    finished: bool = False
    #: one entry per deploy target (completed, rolled_back, failed, skipped)
    deployments: list[Deployment] = field(default_factory=list)
    #: seconds spent in each stage that ran, in order
    timings: dict[str, float] = field(default_factory=dict)
    #: the blocking findings as a plain-text table (for stderr; not part of the JSON)
    blocking: str = ""

    @property
    def status(self) -> str:
        """The run's verdict: `ok` only when it reached its end and every asked stage
        finished for every image; `blocked` when the gate stopped a release that had no
        other failure; anything else (a crash, Ctrl-C, an error, a scan error) is `failed`."""
        if self.interrupted or self.error is not None:
            return "failed"
        if not self.images or any(i.error for i in self.images):
            return "failed"
        if any(not d.ok for d in self.deployments):
            return "failed"
        if any(i.gate == "block" for i in self.images):
            return "blocked"
        if not self.finished:
            return "failed"
        for stage in self.stages:
            done = FINISHED.get(stage)
            if done is None or not all(done(i, self.dry_run) for i in self.images):
                return "failed"
        return "ok"

    def image(self, name: str) -> ImageReport:
        return next(i for i in self.images if i.name == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "stages": self.stages,
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "error": self.error,
            "images": [i.to_json() for i in self.images],
            "deployments": [d.to_json() for d in self.deployments],
            "seconds": {stage: round(s, 3) for stage, s in self.timings.items()},
        }


def compose(plan: Plan, result: RunResult, *, dry_run: bool) -> RunReport:
    """The report of a run: the plan's images, filled in from each stage's value."""
    report = RunReport(
        stages=list(plan.stages),
        dry_run=dry_run,
        interrupted=result.interrupted,
        error=result.error,
        finished=result.finished,
        timings=dict(result.timings),
    )
    for image in plan.images:
        entry = ImageReport(
            image.name,
            image.image,
            list(image.tags.immutable),
            repository=image.repository,
            revision=plan.context.sha,
            version=image.tags.version,
            pending_tags=list(image.tags.mutable),
        )
        if result.built is not None:
            built = result.built.image(image.name)
            entry.input_digest = built.input_digest
            entry.image_id = built.image_id
            entry.built = built.built
            entry.reused = built.reused
            entry.error = built.error
        if result.published is not None:
            published = result.published.image(image.name)
            entry.digest = published.digest
            entry.tags = list(published.tags)
            entry.pushed = published.pushed
            entry.reused = entry.reused or published.reused
            entry.error = entry.error or published.error
        _release(entry, result, dry_run)
        entry.tags = _in_rule_order(entry.tags, image.tags.names)
        report.images.append(entry)
    if result.deployed is not None:
        report.deployments.extend(result.deployed.deployments)
    if result.gated is not None and result.gated.blocked:
        from pipeline.scan.table import blocking

        report.blocking = blocking(result.gated)
    return report


def _in_rule_order(tags: list[str], rules: list[str]) -> list[str]:
    """Tags as `pipeline tags` lists them: mutable ones are promoted after the push,
    but the report keeps the rules' order (any tag the rules do not name comes last)."""
    place = {name: i for i, name in enumerate(rules)}
    return sorted(dict.fromkeys(tags), key=lambda t: place.get(t, len(place)))


def _release(entry: ImageReport, result: RunResult, dry_run: bool) -> None:
    """Scan, gate and promote, for one image."""
    ran = (result.scanned, result.gated, result.promoted)
    if ran == (None, None, None) and entry.name not in result.reported_scans:
        return  # none of them ran: the scan modules stay unloaded
    from pipeline.scan import fragments
    from pipeline.scan.findings import counts
    from pipeline.scan.gate import ImageGate

    gates = {g.name: g for g in result.gated.images} if result.gated is not None else {}
    gate = gates.get(entry.name)
    if gate is not None:
        entry.gate = fragments.gate_fragment(gate)
    if result.scanned is not None:
        outcome = next((o for o in result.scanned.outcomes if o.name == entry.name), None)
        if outcome is not None:
            judged = gate or ImageGate(entry.name, "skipped", counts=counts(outcome.findings))
            entry.scan = fragments.scan_fragment(outcome, judged)
            entry.scanned = outcome.error is None
            entry.error = entry.error or outcome.error
        else:
            entry.scanned = result.scanned.skipped is not None
    elif entry.name in result.reported_scans:  # a final job: its runner's findings
        entry.scan = dict(result.reported_scans[entry.name])
    if result.promoted is not None:
        promoted = next((p for p in result.promoted.images if p.name == entry.name), None)
        if promoted is not None:
            moved = [t for t in promoted.tags if t not in entry.tags]
            entry.tags = [*entry.tags, *moved]
            entry.pending_tags = [t for t in entry.pending_tags if t not in promoted.tags]
            entry.promoted = promoted.error is None and (dry_run or not entry.pending_tags)
            entry.error = entry.error or promoted.error


def write(path: Path, report: RunReport) -> None:
    from pipeline import log

    # every string passes the masks: an error may quote a build's output
    write_text(path, json.dumps(log.redact_data(report.to_json()), indent=2) + "\n")


def write_text(path: Path, text: str) -> None:
    """Atomically: a reader never sees half a file.

    A path that names a pipe, a device or a descriptor (`--report /dev/stdout`,
    `/dev/fd/3`) is written into: renaming a file over it would replace the
    device's symlink. A symlink to a file stays a symlink: its target is replaced.
    """
    fd = _descriptor(path)
    if fd is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        data = text.encode("utf-8")
        while data:  # through the descriptor itself: its offset, its append mode
            data = data[os.write(fd, data) :]
        return
    if path.exists() and (not path.is_file() or _under_dev_or_proc(path)):
        with path.open("w", encoding="utf-8") as handle:
            handle.write(text)
        return
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _descriptor(path: Path) -> int | None:
    """The open descriptor /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N names."""
    absolute = os.path.abspath(path)
    named = {"/dev/stdout": 1, "/dev/stderr": 2}.get(absolute)
    if named is not None:
        return named
    for folder in ("/dev/fd/", "/proc/self/fd/"):
        number = absolute.removeprefix(folder)
        if absolute.startswith(folder) and number.isdigit():
            return int(number)
    return None


def _under_dev_or_proc(path: Path) -> bool:
    """/dev/tty, /dev/null...: what they resolve to is not theirs to replace."""
    return os.path.abspath(path).startswith(("/dev/", "/proc/"))
