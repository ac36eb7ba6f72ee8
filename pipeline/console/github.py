"""GitHub Actions: workflow commands (annotations, folds) and the step summary.

Commands are escaped as the runner unescapes them (`%`, CR and LF in the
message; `:` and `,` too in a property), so a message can neither end the
command early nor inject another one. Every text passes the masks first.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import log
from pipeline.console import summary

if TYPE_CHECKING:
    from pipeline.errors import ConfigProblem
    from pipeline.report.run_report import RunReport
    from pipeline.stages.results import RunResult


def active(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def error(
    message: str, *, file: str | None = None, line: int | None = None, col: int | None = None
) -> str:
    """`::error file=F,line=L,col=C::message`, with what is known of the place."""
    props = []
    if file:
        props.append(f"file={escape_property(log.redact(file))}")
        if line:
            props.append(f"line={line}")
            if col:
                props.append(f"col={col}")
    head = "::error " + ",".join(props) if props else "::error"
    return f"{head}::{escape_data(log.redact(message))}"


def workspace_path(file: str | os.PathLike[str], env: Mapping[str, str]) -> str:
    """A path as GitHub places annotations: relative to the workspace when inside it."""
    path = Path(file)
    workspace = env.get("GITHUB_WORKSPACE")
    if workspace:
        try:
            return Path(os.path.relpath(path.resolve(), Path(workspace).resolve())).as_posix()
        except ValueError:  # another drive
            return path.as_posix()
    return path.as_posix()


def config_errors(problems: Iterable[ConfigProblem], env: Mapping[str, str]) -> list[str]:
    """One annotation per configuration problem, at its place in the file."""
    return [
        error(
            f"{p.path}: {p.message}" if p.path else p.message,
            file=workspace_path(p.file, env),
            line=p.line,
            col=p.column,
        )
        for p in problems
    ]


def gate_place(config_file: Path, image: str, env: Mapping[str, str]) -> tuple[int, int] | None:
    """Where a blocked image's gate is set: the `scan:` thresholds, else the image's entry."""
    from pipeline.config.yamltree import YamlSyntaxError, parse

    try:
        tree = parse(config_file.read_text(encoding="utf-8"), env)
    except (OSError, UnicodeDecodeError, YamlSyntaxError):
        return None
    data: Any = tree.data if isinstance(tree.data, dict) else {}
    scan = data.get("scan")
    if isinstance(scan, dict):
        path = ("scan", "thresholds") if "thresholds" in scan else ("scan",)
        return tree.mark(path, key=True)
    for index, entry in enumerate(data.get("images") or []):
        if isinstance(entry, dict) and entry.get("name") == image:
            return tree.mark(("images", index))
    return None


def gate_blocks(report: RunReport, config_file: Path | None, env: Mapping[str, str]) -> list[str]:
    """An annotation for each image the severity gate blocked."""
    out = []
    for image in report.images:
        if image.gate != "block":
            continue
        scan = image.scan or {}
        blocking = [str(b) for b in scan.get("blocking") or []]
        found = summary.findings(scan)
        message = f"image {image.name}: the severity gate blocked the release ({found})"
        if blocking:
            message += f"; blocking: {', '.join(blocking[:20])}"
            if len(blocking) > 20:
                message += f" and {len(blocking) - 20} more"
        place = gate_place(config_file, image.name, env) if config_file else None
        if place is None or config_file is None:
            out.append(error(message))
        else:
            out.append(
                error(message, file=workspace_path(config_file, env), line=place[0], col=place[1])
            )
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def step_summary(report: RunReport, result: RunResult | None = None) -> str:
    """The run as Markdown: images, digests, tags, findings, gate, deployments, time."""
    brief = summary.summarize(report)
    lines = [f"## pipeline: {brief.title.removeprefix('Run ')}", ""]
    if report.images:
        lines += [
            "| Image | Digest | Tags | Findings | Gate | Deploy |",
            "|---|---|---|---|---|---|",
        ]
        for image, row in zip(report.images, brief.images, strict=True):
            digest = f"`{image.digest}`" if image.digest else "-"
            tags = ", ".join(f"`{t}`" for t in image.tags) or "-"
            lines.append(
                f"| {_cell(row[0])} | {digest} | {tags} | {_cell(row[3])} | {_cell(row[4])}"
                f" | {_cell(row[5])} |"
            )
        lines.append("")
    if brief.deployments:
        lines += ["| Target | Type | Status |", "|---|---|---|"]
        lines += [f"| {' | '.join(_cell(c) for c in row)} |" for row in brief.deployments]
        lines.append("")
    if report.timings:
        times = " · ".join(f"{stage} {summary.duration(s)}" for stage, s in report.timings.items())
        lines += [f"**Time per stage:** {times}", ""]
    if brief.notes:
        lines += [f"- {_cell(note)}" for note in brief.notes] + [""]
    if result is not None and result.scanned is not None and result.gated is not None:
        from pipeline.scan.summary import markdown

        lines += [markdown(result.scanned.outcomes, result.gated), ""]
    return log.redact("\n".join(lines))


def append_step_summary(path: str, text: str) -> str | None:
    """Append to $GITHUB_STEP_SUMMARY; the problem, if it cannot be written."""
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text.rstrip("\n") + "\n")
    except OSError as err:
        return f"cannot write the step summary {path}: {err.strerror or err}"
    return None
