"""Step outputs from a run report: `$GITHUB_OUTPUT` and shell `export` lines for CodeBuild.

GitHub reads `name<<DELIMITER` ... `DELIMITER` blocks from `$GITHUB_OUTPUT`.
A value that contains the delimiter on a line of its own would end the block
early and let the rest set other outputs, so the delimiter is random and
checked against the value (the runner's own toolkit does the same).
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pipeline.errors import UsageError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
#: Names of the variables `exports` prints (the buildspec's exported-variables).
ENV_NAMES = (
    "PIPELINE_STATUS",
    "PIPELINE_REPORT",
    "PIPELINE_DIGESTS",
    "PIPELINE_IMAGE_URIS",
    "PIPELINE_TAGS",
)


def _delimiter() -> str:
    return f"ghadelimiter_{secrets.token_hex(16)}"


def github_block(name: str, value: str, new_delimiter: Callable[[], str] = _delimiter) -> str:
    """One output in the multi-line-safe form."""
    if not _NAME.match(name):
        raise UsageError(f"not a valid output name: {name!r}")
    delimiter = new_delimiter()
    while delimiter in value:  # only a chosen value could collide; choose again
        delimiter = new_delimiter()
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_github(path: Path, outputs: Mapping[str, str]) -> None:
    """Append every output to the `$GITHUB_OUTPUT` file (other steps' outputs stay)."""
    text = "".join(github_block(name, value) for name, value in outputs.items())
    with path.open("a", encoding="utf-8") as out:
        out.write(text)


def read_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"report {path} does not exist (did the run write one?)") from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise UsageError(f"report {path} is not readable JSON: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("images", []), list):
        raise UsageError(f"report {path} is not a pipeline run report")
    return data


def _images(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [i for i in report.get("images") or [] if isinstance(i, dict) and i.get("name")]


def _uri(image: Mapping[str, Any]) -> str | None:
    if not image.get("image") or not image.get("digest"):
        return None  # nothing was pushed: no URI anyone could deploy
    return f"{image['image']}@{image['digest']}"


def from_report(report: Mapping[str, Any], report_path: str) -> dict[str, str]:
    """The action's outputs: JSON objects keyed by image name, plus metadata-action's `tags`."""
    images = _images(report)
    digests = {i["name"]: i["digest"] for i in images if i.get("digest")}
    uris = {i["name"]: uri for i in images if (uri := _uri(i))}
    tags = {i["name"]: [str(t) for t in i.get("tags") or []] for i in images}
    refs = [f"{i['image']}:{t}" for i in images if i.get("image") for t in tags[i["name"]]]
    return {
        "status": str(report.get("status", "")),
        "report": report_path,
        "digests": _compact(digests),
        "image-uris": _compact(uris),
        "tags-json": _compact(tags),
        "tags": "\n".join(refs),
    }


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def env_name(image: str) -> str:
    return "PIPELINE_IMAGE_URI_" + re.sub(r"[^A-Z0-9]+", "_", image.upper())


def exports(report: Mapping[str, Any], report_path: str) -> str:
    """`export NAME=value` lines (shell-quoted) for CodeBuild's exported-variables.

    One line each: `PIPELINE_TAGS` separates references with spaces, and each
    image also gets `PIPELINE_IMAGE_URI_<NAME>` (upper case, `_` for the rest).
    """
    out = from_report(report, report_path)
    values = {
        "PIPELINE_STATUS": out["status"],
        "PIPELINE_REPORT": report_path,
        "PIPELINE_DIGESTS": out["digests"],
        "PIPELINE_IMAGE_URIS": out["image-uris"],
        "PIPELINE_TAGS": " ".join(out["tags"].split("\n")) if out["tags"] else "",
    }
    for image in _images(report):
        uri = _uri(image)
        if uri:
            values[env_name(image["name"])] = uri
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in values.items())
