"""The GitHub Actions event payload (GITHUB_EVENT_PATH): read bounded, checked by shape.

Only the fields the pipeline uses are read, and each is checked for its type
before use, so a payload of the wrong shape is an error that names the field
(`pull_request.number: expected a whole number, got 'abc'`), never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pipeline import readfile
from pipeline.adapters.git import is_commit_id
from pipeline.errors import ContextError

#: GitHub's own limit for a webhook payload.
MAX_BYTES = 25 << 20


@dataclass(frozen=True)
class GithubEvent:
    default_branch: str | None = None
    html_url: str | None = None
    description: str | None = None
    license: str | None = None
    #: the PR number: `pull_request.number`, else the top-level `number`
    pr: int | None = None
    head_sha: str | None = None
    head_ref: str | None = None
    base_ref: str | None = None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Reader:
    def __init__(self, data: Any, source: str) -> None:
        self.data = data
        self.source = source

    def fail(self, path: str, expected: str, value: Any) -> ContextError:
        return ContextError(
            f"the GitHub event payload {self.source}: {path}: expected {expected},"
            f" got {_describe(value)}"
        )

    def get(self, path: str) -> Any:
        """The value at `path` (dotted); None when absent or null on the way."""
        node = self.data
        walked: list[str] = []
        for key in path.split("."):
            if node is None:
                return None
            if not isinstance(node, dict):
                raise self.fail(".".join(walked) or "the payload", "an object", node)
            node = node.get(key)
            walked.append(key)
        return node

    def text(self, path: str, limit: int = 4096) -> str | None:
        value = self.get(path)
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > limit:
            raise self.fail(path, f"text of at most {limit} characters", value)
        return value or None

    def obj(self, path: str) -> None:
        value = self.get(path)
        if value is not None and not isinstance(value, dict):
            raise self.fail(path, "an object", value)

    def number(self, path: str) -> int | None:
        value = self.get(path)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 1 << 31:
            raise self.fail(path, "a whole number (a PR number)", value)
        return value

    def commit(self, path: str) -> str | None:
        value = self.text(path)
        if value is not None and not is_commit_id(value):
            raise self.fail(path, "a commit id of 40 hex digits", value)
        return value


def parse(data: Any, source: str) -> GithubEvent:
    """The fields the pipeline reads, each checked for its shape."""
    if not isinstance(data, dict):
        raise ContextError(
            f"the GitHub event payload {source}: expected a JSON object, got {_describe(data)}"
        )
    read = _Reader(data, source)
    for path in ("repository", "repository.license", "pull_request"):
        read.obj(path)
    for path in ("pull_request.head", "pull_request.base"):
        read.obj(path)
    license_id = read.text("repository.license.spdx_id")
    return GithubEvent(
        default_branch=read.text("repository.default_branch"),
        html_url=read.text("repository.html_url"),
        description=read.text("repository.description", limit=1 << 16),
        license=license_id if license_id != "NOASSERTION" else None,
        pr=read.number("pull_request.number") or read.number("number"),
        head_sha=read.commit("pull_request.head.sha"),
        head_ref=read.text("pull_request.head.ref"),
        base_ref=read.text("pull_request.base.ref"),
    )


def read(path: str) -> GithubEvent:
    """The payload at `path`: a regular file of at most 25 MiB of JSON."""
    where = f"(GITHUB_EVENT_PATH={path})"
    try:
        raw = readfile.read_regular(path, MAX_BYTES)
    except FileNotFoundError:
        raise ContextError(f"cannot read the GitHub event payload {where}: no such file") from None
    except readfile.UnreadableFile as err:
        raise ContextError(f"cannot read the GitHub event payload {where}: {err}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        line, column = readfile.position(raw, err.start)
        raise ContextError(
            f"the GitHub event payload {where} is not UTF-8 text (line {line}, column {column})"
        ) from None
    except ValueError as err:  # also numbers of thousands of digits
        raise ContextError(f"the GitHub event payload {where} is not valid JSON: {err}") from None
    except RecursionError:
        raise ContextError(f"the GitHub event payload {where} is nested too deeply") from None
    return parse(data, where)
