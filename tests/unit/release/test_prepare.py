"""`prepare`: refusals first, the remote asked only after every local check passed (pure)."""

from __future__ import annotations

import pytest

from pipeline.context import Context
from pipeline.errors import UsageError
from pipeline.release.prepare import prepare
from tests.unit.config.helpers import valid

SHA = "b" * 40
CONFIG = valid(
    "version: 1\nregistry: {type: generic, url: r.example.com/a}\nimages:\n  - name: api\n"
)


def ctx(**overrides: object) -> Context:
    base: dict[str, object] = {
        "provider": "local",
        "event": "push",
        "sha": SHA,
        "ref": "refs/heads/main",
        "branch": "main",
        "default_branch": "main",
        "repo_tags": ("v1.0.0", "v1.1.0-rc.1"),
    }
    base.update(overrides)
    return Context(**base)  # type: ignore[arg-type]


def never() -> tuple[str, ...]:
    raise AssertionError("the remote was asked")


def test_the_release_to_make() -> None:
    got = prepare(CONFIG, ctx(), bump="minor", remote_tags=lambda: ("v1.0.5",))
    assert (got.tag, got.version, got.previous, got.sha, got.ref) == (
        "v1.1.0",
        "1.1.0",
        "v1.0.5",
        SHA,
        "refs/tags/v1.1.0",
    )
    assert got.describe() == f"v1.1.0 (after v1.0.5) on {SHA[:12]}"


def test_a_first_release_says_so() -> None:
    got = prepare(CONFIG, ctx(repo_tags=()), bump="patch")
    assert got.describe() == f"v0.0.1 (first release) on {SHA[:12]}"


@pytest.mark.parametrize(
    "context",
    [
        ctx(dirty=True),
        ctx(branch="topic"),
        ctx(shallow=True, repo_tags=None),
        ctx(head_tags=("v1.0.0",)),
    ],
    ids=["dirty", "branch", "shallow", "released"],
)
def test_refusals_never_ask_the_remote(context: Context) -> None:
    with pytest.raises(UsageError):
        prepare(CONFIG, context, bump="patch", remote_tags=never)


def test_every_refusal_is_in_one_message() -> None:
    with pytest.raises(UsageError) as caught:
        prepare(CONFIG, ctx(dirty=True, branch="topic"), bump="patch", remote_tags=never)
    lines = str(caught.value).splitlines()
    assert lines[0] == "refusing to release:"
    assert len(lines) == 3
