"""Docker tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, long values cut with a hash."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import sanitize

pytestmark = pytest.mark.usefixtures("clean_environment")

LONG = "feature/" + "a" * 192  # 200 characters


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("main", "main"),
        ("v1.2.3", "v1.2.3"),
        ("Feature_X", "Feature_X"),  # upper case is allowed in tags
        ("feature/Foo_bar#12", "feature-Foo_bar-12"),
        ("@foo/bar", "_foo-bar"),  # metadata-action leaves an invalid leading -
        (".hidden", "_hidden"),
        ("-dash", "_dash"),
        ("..x", "_.x"),
        ("a  b//c", "a-b-c"),  # a run of invalid characters is one -
        ("release/1.2", "release-1.2"),
        ("ünïcode", "_n-code"),
        ("v1.2.3+build.5", "v1.2.3-build.5"),
        ("x" * 128, "x" * 128),
    ],
)
def test_tag(value: str, expected: str) -> None:
    assert sanitize.tag(value) == expected


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("x" * 129, "x" * 121),
        (LONG, "feature-" + "a" * 113),
        ("/" + "b" * 300, "_" + "b" * 120),  # first character fixed after the cut
    ],
    ids=["129 chars", "200-char branch", "long with invalid first character"],
)
def test_long_values_are_cut_with_a_hash_of_the_full_value(value: str, kept: str) -> None:
    out = sanitize.tag(value)
    assert len(out) == 128
    assert out == f"{kept}-{hashlib.sha256(value.encode()).hexdigest()[:6]}"
    assert sanitize.TAG_RE.fullmatch(out)


def test_long_values_differing_only_at_the_end_stay_distinct() -> None:
    a, b = sanitize.tag(LONG + "-one"), sanitize.tag(LONG + "-two")
    assert a != b
    assert a[:121] == b[:121]


@given(st.text(min_size=1, max_size=300))
def test_any_value_becomes_a_valid_tag(value: str) -> None:
    assert sanitize.TAG_RE.fullmatch(sanitize.tag(value))
