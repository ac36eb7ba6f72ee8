"""The next release tag from the repository's tags: a table."""

from __future__ import annotations

import pytest

from pipeline.release.version import BUMPS, bumped, next_release

CASES = [
    # tags, bump, prefix -> next tag, previous
    ((), "patch", "", "v0.0.1", None),
    ((), "minor", "", "v0.1.0", None),
    ((), "major", "", "v1.0.0", None),
    (("v1.2.3",), "patch", "", "v1.2.4", "v1.2.3"),
    (("v1.2.3",), "minor", "", "v1.3.0", "v1.2.3"),
    (("v1.2.3",), "major", "", "v2.0.0", "v1.2.3"),
    # the form of the repository is kept: no v when its releases have none
    (("1.2.3",), "patch", "", "1.2.4", "1.2.3"),
    (("1.2.3", "v1.2.2"), "minor", "", "1.3.0", "1.2.3"),
    # both forms of the highest: the v form wins (ties break by name)
    (("1.2.3", "v1.2.3"), "patch", "", "v1.2.4", "v1.2.3"),
    # precedence, not string order: 1.10.0 > 1.9.0
    (("v1.9.0", "v1.10.0", "v1.2.0"), "patch", "", "v1.10.1", "v1.10.0"),
    # prereleases never count as the highest stable
    (("v1.2.3", "v2.0.0-rc.1"), "patch", "", "v1.2.4", "v1.2.3"),
    (("v1.2.3", "v2.0.0-rc.1"), "major", "", "v2.0.0", "v1.2.3"),
    (("v0.1.0-alpha", "v0.1.0-beta.2"), "minor", "", "v0.1.0", None),
    # build metadata is still a stable release
    (("v1.2.3+build.7",), "patch", "", "v1.2.4", "v1.2.3+build.7"),
    # tags that are not strict SemVer are ignored
    (
        ("v1.2", "release-9", "V3.0.0", "v01.2.3", "latest", "v1.0.0"),
        "patch",
        "",
        "v1.0.1",
        "v1.0.0",
    ),
    # monorepo prefixes: only tags with the prefix count, and the prefix is kept
    (
        ("backend/v1.4.0", "frontend/v3.0.0", "v9.9.9"),
        "minor",
        "backend/",
        "backend/v1.5.0",
        "backend/v1.4.0",
    ),
    (("frontend/v3.0.0",), "patch", "backend/", "backend/v0.0.1", None),
    (("backend/1.0.0",), "major", "backend/", "backend/2.0.0", "backend/1.0.0"),
    (
        ("backend/v1.0.0", "backend/v1.1.0-rc.1"),
        "minor",
        "backend/",
        "backend/v1.1.0",
        "backend/v1.0.0",
    ),
    # zero major: minor and patch as usual
    (("v0.9.9",), "minor", "", "v0.10.0", "v0.9.9"),
    (("v0.9.9",), "major", "", "v1.0.0", "v0.9.9"),
]


@pytest.mark.parametrize(("tags", "bump", "prefix", "tag", "previous"), CASES)
def test_next_release(
    tags: tuple[str, ...], bump: str, prefix: str, tag: str, previous: str | None
) -> None:
    got = next_release(tags, bump, prefix)
    assert (got.tag, got.previous) == (tag, previous)
    assert got.tag.endswith(got.version)
    assert got.tag.startswith(prefix)


def test_the_tag_list_order_does_not_matter() -> None:
    tags = ["v1.0.0", "v1.10.0", "v1.2.0", "v2.0.0-rc.1", "1.3.0"]
    assert {next_release(order, "patch").tag for order in (tags, tags[::-1], sorted(tags))} == {
        "v1.10.1"
    }


def test_every_bump_is_known_and_others_are_refused() -> None:
    assert BUMPS == ("patch", "minor", "major")
    with pytest.raises(ValueError, match="unknown bump 'pre'"):
        bumped(None, "pre")
