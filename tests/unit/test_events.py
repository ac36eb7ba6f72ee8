"""The GitHub event payload: read bounded, checked by shape, the wrong field named."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline import events
from pipeline.errors import ContextError

pytestmark = pytest.mark.usefixtures("clean_environment")

HEAD = "0123456789abcdef0123456789abcdef01234567"
GOOD: dict[str, Any] = {
    "number": 7,
    "pull_request": {
        "number": 7,
        "head": {"sha": HEAD, "ref": "feature"},
        "base": {"ref": "main"},
    },
    "repository": {
        "default_branch": "main",
        "html_url": "https://github.com/acme/app",
        "description": None,
        "license": {"spdx_id": "NOASSERTION"},
    },
}


def test_the_fields_of_a_good_payload() -> None:
    got = events.parse(GOOD, "(x)")
    assert got == events.GithubEvent(
        default_branch="main",
        html_url="https://github.com/acme/app",
        description=None,
        license=None,
        pr=7,
        head_sha=HEAD,
        head_ref="feature",
        base_ref="main",
    )


def test_an_empty_payload_has_no_facts() -> None:
    assert events.parse({}, "(x)") == events.GithubEvent()


def _with(path: str, value: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(GOOD))
    node = data
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("repository", "x", "repository: expected an object, got 'x'"),
        ("repository", [1], "repository: expected an object, got a list"),
        ("repository.license", "MIT", "repository.license: expected an object, got 'MIT'"),
        ("repository.default_branch", 5, "repository.default_branch: expected text"),
        ("repository.html_url", {"a": 1}, "repository.html_url: expected text"),
        ("pull_request", "x", "pull_request: expected an object, got 'x'"),
        ("pull_request.number", "abc", "pull_request.number: expected a whole number"),
        ("pull_request.number", True, "pull_request.number: expected a whole number"),
        ("pull_request.number", -3, "pull_request.number: expected a whole number"),
        ("pull_request.number", 10**40, "pull_request.number: expected a whole number"),
        ("number", "abc", "number: expected a whole number"),
        ("pull_request.head", "sha", "pull_request.head: expected an object"),
        ("pull_request.head.sha", "--output=x", "pull_request.head.sha: expected a commit id"),
        ("pull_request.head.sha", 12, "pull_request.head.sha: expected text"),
        ("pull_request.base.ref", ["main"], "pull_request.base.ref: expected text"),
    ],
)
def test_a_field_of_the_wrong_shape_is_named(path: str, value: Any, message: str) -> None:
    data = _with(path, value)
    if path == "number":
        del data["pull_request"]["number"]
    with pytest.raises(ContextError) as err:
        events.parse(data, "(GITHUB_EVENT_PATH=e.json)")
    assert f"the GitHub event payload (GITHUB_EVENT_PATH=e.json): {message}" in str(err.value)


@pytest.mark.parametrize("data", [[], "x", 3, None])
def test_a_payload_that_is_not_an_object(data: Any) -> None:
    with pytest.raises(ContextError, match="expected a JSON object"):
        events.parse(data, "(x)")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"number": ' + b"9" * 5000 + b"}", "is not valid JSON"),
        (b'{"a": "caf\xe9"}', "is not UTF-8 text (line 1, column 11)"),
    ],
)
def test_unreadable_payloads(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "event.json"
    path.write_bytes(content)
    with pytest.raises(ContextError, match=re.escape(message)):
        events.read(str(path))


def test_a_payload_must_be_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "event.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ContextError, match="not a regular file: it is a FIFO"):
        events.read(str(fifo))
    with pytest.raises(ContextError, match="not a regular file: it is a directory"):
        events.read(str(tmp_path))
    with pytest.raises(ContextError, match="no such file"):
        events.read(str(tmp_path / "missing.json"))


def test_a_payload_over_25_mib_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    with path.open("wb") as out:
        out.truncate(events.MAX_BYTES + 1)  # sparse: no disk, and never read
    with pytest.raises(ContextError, match="too large: 26214401 bytes, and the limit is 25 MiB"):
        events.read(str(path))
