"""Strict SemVer 2.0.0 with one optional leading lower-case v; precedence per section 11."""

from __future__ import annotations

import itertools

import pytest

from pipeline import semver

pytestmark = pytest.mark.usefixtures("clean_environment")


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("1.2.3", (1, 2, 3, (), ())),
        ("v1.2.3", (1, 2, 3, (), ())),
        ("v0.0.0", (0, 0, 0, (), ())),
        ("v10.20.30", (10, 20, 30, (), ())),
        ("v1.2.3-rc.1", (1, 2, 3, ("rc", "1"), ())),
        ("v1.2.3-0", (1, 2, 3, ("0",), ())),
        ("v1.2.3-0a", (1, 2, 3, ("0a",), ())),
        ("v1.2.3-alpha-1", (1, 2, 3, ("alpha-1",), ())),
        ("1.0.0-x-y-z.--", (1, 0, 0, ("x-y-z", "--"), ())),
        ("v1.2.3+build.7", (1, 2, 3, (), ("build", "7"))),
        ("v1.2.3+001", (1, 2, 3, (), ("001",))),
        ("v1.2.3-rc.1+build.5", (1, 2, 3, ("rc", "1"), ("build", "5"))),
    ],
)
def test_accepts(text: str, fields: tuple[object, ...]) -> None:
    version = semver.parse(text)
    assert version is not None
    got = (version.major, version.minor, version.patch, version.prerelease, version.build)
    assert got == fields
    assert version.raw == text


@pytest.mark.parametrize(
    "text",
    [
        "V1.2.3",  # upper-case V
        "=1.2.3",
        "vv1.2.3",
        "v1.2",  # two components
        "1.2.3.4",
        "v01.2.3",  # leading zeros
        "v1.02.3",
        "v1.2.03",
        "v1.2.3-01",  # numeric prerelease identifier with a leading zero
        "v1.2.3rc1",  # no hyphen
        "v1.2.3-",
        "v1.2.3+",
        "v1.2.3-rc..1",
        "v1.2.3-rc.1+",
        "v1.2.3-αβ",
        "v1.2.3\n",  # a trailing newline is not part of a version
        " v1.2.3",
        "v\u0661.2.3",  # ARABIC-INDIC DIGIT ONE is a digit, not a SemVer digit
        "v1\u0661.2.3",
        "v1.2.3-\u0661a",
        "v1.2.3+b\u0663",
        "",
        "latest",
        "release-1.2.3",
    ],
)
def test_rejects(text: str) -> None:
    assert semver.parse(text) is None


@pytest.mark.parametrize(
    ("text", "core", "prerelease"),
    [
        ("v1.2.3", "1.2.3", False),
        ("v1.2.3+build.7", "1.2.3", False),
        ("v2.0.0-beta.1+exp.sha.5114f85", "2.0.0-beta.1", True),
    ],
)
def test_core_drops_v_and_build(text: str, core: str, prerelease: bool) -> None:
    version = semver.parse(text)
    assert version is not None
    assert (version.core, version.is_prerelease) == (core, prerelease)


# SemVer 2.0.0 section 11, in ascending precedence, plus numeric-vs-text and ASCII order.
ASCENDING = [
    "1.0.0-1",
    "1.0.0-2",
    "1.0.0-10",  # numeric identifiers compare as numbers
    "1.0.0-Z",  # ASCII: upper case sorts before lower case
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",  # text beats number in the same position
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",  # a release beats its prereleases
    "1.0.1",
    "1.1.0",
    "1.9.0",
    "1.10.0",
    "2.0.0",
]


@pytest.mark.parametrize(("lower", "higher"), list(itertools.pairwise(ASCENDING)), ids=str)
def test_precedence(lower: str, higher: str) -> None:
    low, high = semver.parse(lower), semver.parse(higher)
    assert low is not None and high is not None
    assert low < high
    assert not high < low
    assert low != high


@pytest.mark.parametrize(
    ("a", "b"),
    [("1.2.3+a", "1.2.3+b"), ("v1.2.3", "1.2.3"), ("v1.2.3-rc.1+x", "1.2.3-rc.1")],
)
def test_equal_precedence(a: str, b: str) -> None:
    assert semver.parse(a) == semver.parse(b)


@pytest.mark.parametrize(
    ("tags", "prefix", "expected"),
    [
        (["v1.2.0-rc.1", "v1.2.0"], "", "v1.2.0"),
        (["v1.2.0", "v1.2.0-rc.1"], "", "v1.2.0"),
        (["v1.9.0", "v1.10.0"], "", "v1.10.0"),
        (["v1.0.0", "nightly", "V9.0.0"], "", "v1.0.0"),
        (["backend/v2.0.0", "v3.0.0", "frontend/v4.0.0"], "backend/", "backend/v2.0.0"),
        (["v3.0.0"], "backend/", None),
        (["backend/v1.0.0", "backend/1.1.0"], "backend/", "backend/1.1.0"),
        (["1.2.3", "v1.2.3"], "", "v1.2.3"),  # equal precedence: the name breaks the tie
        ([], "", None),
        (["latest", "stable"], "", None),
    ],
)
def test_highest(tags: list[str], prefix: str, expected: str | None) -> None:
    found = semver.highest(tags, prefix)
    assert (found[1] if found else None) == expected


@pytest.mark.parametrize(
    ("tag", "prefix", "expected"),
    [
        ("backend/v1.2.3", "backend/", "v1.2.3"),
        ("v1.2.3", "backend/", None),
        ("frontend/v1.2.3", "backend/", None),
        ("v1.2.3", "", "v1.2.3"),
    ],
)
def test_strip_prefix(tag: str, prefix: str, expected: str | None) -> None:
    assert semver.strip_prefix(tag, prefix) == expected
