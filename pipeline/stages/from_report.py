"""`run --from-report FILE..`: a fan-out's final job takes over what the runners did.

In a fan-out each runner runs `pipeline run --image NAME --skip promote,deploy
--report FILE`: it builds, pushes, scans and gates its images. The final job
reads those reports back into the values the runner's own promote and deploy
stages would have received, `Published` and the gate's decisions, so promote
and deploy work the same either way (stages/results.py).

Nothing in a report is taken on trust: each one is read bounded, its shape is
checked, and it must describe this run's images (same registry and repository,
the checked-out commit, a sha256 digest). A report whose run failed, a dry
run's report, an image in two reports under two digests, an image no report
lists: each is a usage error (exit 2) naming the file and the fix, all at once.
A blocked report is no error: it makes the release's decision "block" (exit 3).

Each image's `scan` fragment (status, counts, blocking, suppressed...) comes
along, so the final job's report and summary show the findings its runners
found; only its known members, of the right types, are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import UsageError
from pipeline.readfile import UnreadableFile, read_regular
from pipeline.scan.findings import SEVERITIES
from pipeline.scan.gate import GateResult, ImageGate, decide
from pipeline.stages.results import ImagePublished, Published

#: A report with every finding of a few images stays far below this.
REPORT_LIMIT = 16 << 20
#: The stages a final job may run (a config with no deploy target plans no deploy).
STATUSES = ("ok", "failed", "blocked")
DECISIONS = ("pass", "block", "skipped")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_SHORT = 7


@dataclass(frozen=True)
class Expected:
    """What this run's plan says an image is: the report must agree."""

    name: str
    #: registry host and repository path
    image: str
    repository: str


@dataclass(frozen=True)
class Reported:
    """What the reports say: published images, the gate's decisions, and where each came from."""

    published: Published
    gated: GateResult
    #: image name -> the report it was read from
    sources: Mapping[str, str] = field(default_factory=dict)
    #: image name -> the runner's scan fragment for it (an image not scanned has none)
    scans: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def read(
    paths: Sequence[str | Path],
    expected: Sequence[Expected],
    revision: str,
    *,
    gated: bool,
) -> Reported:
    """The reports at `paths`, checked against this run; UsageError listing every problem.

    `gated`: the config scans and gates, so every report must come from a run
    with the gate stage.
    """
    loaded: list[tuple[str, Any]] = []
    problems: list[str] = []
    for path in paths:
        label = str(path)
        try:
            data = read_regular(path, REPORT_LIMIT)
        except FileNotFoundError:
            problems.append(f"{label}: no such file")
            continue
        except UnreadableFile as err:
            problems.append(f"{label}: cannot read it: {err}")
            continue
        try:
            loaded.append((label, json.loads(data.decode("utf-8"))))
        except UnicodeDecodeError:
            problems.append(f"{label}: not a run report: not UTF-8 text")
        except json.JSONDecodeError as err:
            problems.append(
                f"{label}: not a run report: not JSON (line {err.lineno}, column {err.colno}:"
                f" {err.msg})"
            )
        except RecursionError:  # a hostile file of nested brackets, as json raises it
            problems.append(f"{label}: not a run report: nested too deeply")
    if problems and not loaded:
        raise UsageError(_together(problems))
    try:
        reported = combine(loaded, expected, revision, gated=gated)
    except UsageError as err:
        problems.extend(str(err).splitlines())
    if problems:
        raise UsageError(_together(problems))
    return reported


def combine(
    reports: Sequence[tuple[str, Any]],
    expected: Sequence[Expected],
    revision: str,
    *,
    gated: bool,
) -> Reported:
    """Parsed reports (label, JSON value) -> Reported; pure. UsageError lists every problem."""
    if not reports:
        raise UsageError("--from-report names no report")
    plan = {e.name: e for e in expected}
    problems: list[str] = []
    chosen: dict[str, tuple[str, ImagePublished, ImageGate]] = {}
    scans: dict[str, Mapping[str, Any]] = {}
    for label, report in reports:
        for name, published, gate, scan in _entries(label, report, plan, revision, gated, problems):
            earlier = chosen.get(name)
            if earlier is None:
                chosen[name] = (label, published, gate)
                if scan is not None:
                    scans[name] = scan
            elif earlier[1].digest != published.digest:
                problems.append(
                    f"{label}: image {name} has digest {_short(published.digest)}, but"
                    f" {earlier[0]} has {_short(earlier[1].digest)}: pass one report per image"
                    " (of one run of the runners)"
                )
            elif gate.decision == "block" and earlier[2].decision != "block":
                chosen[name] = (earlier[0], earlier[1], gate)  # the stricter word stands
                if scan is not None:  # with the findings that made it
                    scans[name] = scan
    listed = {
        i.get("name")
        for _label, report in reports
        if isinstance(report, dict) and isinstance(report.get("images"), list)
        for i in report["images"]
        if isinstance(i, dict)
    }
    missing = [e.name for e in expected if e.name not in listed]
    if missing:
        problems.append(
            f"no report lists image(s) {', '.join(missing)}: pass the report of every runner,"
            " or select the images to release with --image"
        )
    if problems:
        raise UsageError(_together(problems))
    order = [e.name for e in expected]
    images = tuple(chosen[n][1] for n in order)
    gates = tuple(chosen[n][2] for n in order)
    return Reported(
        Published(images),
        GateResult(decide(gates), gates),
        {n: chosen[n][0] for n in order},
        {n: scans[n] for n in order if n in scans},
    )


def _together(problems: Iterable[str]) -> str:
    return "\n".join(dict.fromkeys(problems))


def _short(digest: str | None) -> str:
    return (digest or "none")[: len("sha256:") + 12]


def _entries(
    label: str,
    report: Any,
    plan: Mapping[str, Expected],
    revision: str,
    gated: bool,
    problems: list[str],
) -> list[tuple[str, ImagePublished, ImageGate, Mapping[str, Any] | None]]:
    """One report's images; what is wrong with it goes to `problems`."""
    hint = "`pipeline run --report FILE` writes one"
    if not isinstance(report, dict) or not {"status", "images", "stages"} <= report.keys():
        problems.append(f"{label}: not a run report (no status, stages and images; {hint})")
        return []
    status, images, stages = report["status"], report["images"], report["stages"]
    if status not in STATUSES:
        problems.append(
            f"{label}: not a run report: status {status!r} is none of {', '.join(STATUSES)}"
        )
        return []
    if not isinstance(images, list) or not images:
        problems.append(f"{label}: not a run report: it lists no image")
        return []
    if not isinstance(stages, list) or not all(isinstance(s, str) for s in stages):
        problems.append(f"{label}: not a run report: stages is not a list of stage names")
        return []
    if status == "failed":
        failed = [i.get("name") for i in images if isinstance(i, dict) and i.get("error")]
        which = f" ({', '.join(map(str, failed))} failed)" if failed else ""
        problems.append(
            f"{label}: the run that wrote it failed{which}: nothing of it may be promoted or"
            " deployed; fix that runner and run it again"
        )
        return []
    if report.get("dry_run") is True:
        problems.append(f"{label}: written by a dry run, which publishes nothing")
        return []
    if gated and "gate" not in stages:
        problems.append(
            f"{label}: its run did not gate the images (stages {','.join(stages)}), and this"
            " config scans: runners run `pipeline run --image NAME --skip promote,deploy`"
        )
        return []
    out = []
    for index, raw in enumerate(images):
        entry = _entry(label, index, raw, plan, revision, problems)
        if entry is not None:
            out.append(entry)
    unblocked = not any(g.decision == "block" for _n, _p, g, _s in out)
    if status == "blocked" and unblocked and len(out) == len(images):
        problems.append(f"{label}: status blocked, but no image's gate is block")
    return [
        (name, published, _gate(label, published, gate), scan)
        for name, published, gate, scan in out
    ]


def _gate(label: str, published: ImagePublished, gate: ImageGate) -> ImageGate:
    if gate.decision != "block":
        return gate
    return ImageGate(published.name, "block", reasons=(f"blocked in {label}", *gate.reasons))


def _entry(
    label: str,
    index: int,
    raw: Any,
    plan: Mapping[str, Expected],
    revision: str,
    problems: list[str],
) -> tuple[str, ImagePublished, ImageGate, Mapping[str, Any] | None] | None:
    where = f"{label}: images[{index}]"
    if not isinstance(raw, dict):
        problems.append(f"{where}: not an image entry (an object with name, image, digest...)")
        return None
    wrong = [
        f"{key} is not {kind}"
        for key, kind, ok in (
            ("name", "a string", isinstance(raw.get("name"), str)),
            ("image", "a string", isinstance(raw.get("image"), str)),
            ("tags", "a list of tags", _strings(raw.get("tags"))),
            ("pending_tags", "a list of tags", _strings(raw.get("pending_tags", []))),
            ("gate", f"one of {', '.join(DECISIONS)}", raw.get("gate") in DECISIONS),
        )
        if not ok
    ]
    if wrong:
        problems.append(f"{where}: {'; '.join(wrong)}")
        return None
    name = str(raw["name"])
    where = f"{label}: image {name}"
    known = plan.get(name)
    if known is None:
        problems.append(
            f"{where} is not in this run (its images: {', '.join(plan) or 'none'});"
            " select it with --image, or pass only the reports of this config's runners"
        )
        return None
    digest = raw.get("digest")
    before = len(problems)
    if raw.get("error"):
        problems.append(f"{where} failed in that run: it may not be promoted or deployed")
    elif not digest:
        problems.append(f"{where} has no digest: its runner did not push it")
    elif not isinstance(digest, str) or not _DIGEST.match(digest):
        problems.append(f"{where}: digest {str(digest)[:80]!r} is not a sha256 digest")
    if raw["image"] != known.image:
        problems.append(
            f"{where} was pushed to {raw['image']}, but this config pushes it to {known.image}"
        )
    repository = raw.get("repository")
    if repository not in (None, known.repository):
        problems.append(
            f"{where} is in repository {repository}, but this config names {known.repository}"
        )
    built_from = raw.get("revision")
    if not isinstance(built_from, str) or not built_from:
        problems.append(
            f"{where} does not say which commit it was built from (a report of an older"
            " pipeline?): run the runners with this version"
        )
    elif built_from != revision:
        problems.append(
            f"{where} was built from commit {built_from[:_SHORT]}, but this checkout is at"
            f" {revision[:_SHORT]}: run the final job on the runners' commit"
        )
    if len(problems) > before:
        return None
    version = raw.get("version")
    published = ImagePublished(
        name,
        known.image,
        known.repository,
        digest=str(digest),
        tags=tuple(raw["tags"]),
        pending_tags=tuple(raw.get("pending_tags", [])),
        pushed=raw.get("pushed") is True,
        reused=raw.get("reused") is True,
        revision=str(built_from),
        version=version if isinstance(version, str) else None,
    )
    gate = ImageGate(name, raw["gate"], reasons=_blocking(raw))
    return name, published, gate, scan_fragment(raw.get("scan"))


_TEXT = ("status", "taken_at", "error")
_FLAGS = ("enhanced", "stale")
_LISTS = ("blocking", "warnings")


def scan_fragment(raw: Any) -> dict[str, Any] | None:
    """A report's `scan` entry, keeping only its known members of the right types.

    None when there is none (the image was not scanned) or it has no status:
    the final job shows what the runner found, never what a report made up.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("status"), str):
        return None
    fragment: dict[str, Any] = {}
    for key in _TEXT:
        if isinstance(raw.get(key), str):
            fragment[key] = raw[key]
    for key in _FLAGS:
        if isinstance(raw.get(key), bool):
            fragment[key] = raw[key]
    for key in _LISTS:
        if _strings(raw.get(key)):
            fragment[key] = list(raw[key])
    counts = raw.get("counts")
    if isinstance(counts, dict):
        fragment["counts"] = {
            severity: number
            for severity, number in counts.items()
            if severity in SEVERITIES and type(number) is int and number >= 0
        }
    suppressed = raw.get("suppressed")
    if isinstance(suppressed, list):
        fragment["suppressed"] = [
            {key: entry.get(key) for key in ("id", "package", "reason")}
            for entry in suppressed
            if isinstance(entry, dict)
            and isinstance(entry.get("id"), str)
            and isinstance(entry.get("reason"), str)
            and isinstance(entry.get("package"), (str, type(None)))
        ]
    return fragment


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _blocking(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """The blocking finding ids the report names, as the gate's reasons."""
    scan = raw.get("scan")
    ids = scan.get("blocking") if isinstance(scan, dict) else None
    if raw.get("gate") != "block" or not _strings(ids) or not ids:
        return ()
    shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
    return (f"blocking findings: {shown}",)
