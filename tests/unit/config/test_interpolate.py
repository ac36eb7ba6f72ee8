"""`${VAR}`, `${VAR:-default}` and `$$`, on their own."""

from __future__ import annotations

import pytest

from pipeline.config.interpolate import InterpolationError, interpolate

ENV = {"A": "alpha", "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("$$", "$"),
        ("$${A}", "${A}"),
        ("cost: 5$", "cost: 5$"),
        ("$A", "$A"),
        ("${A}", "alpha"),
        ("x-${A}-${A}", "x-alpha-alpha"),
        ("${A:-d}", "alpha"),
        ("${UNSET:-d}", "d"),
        ("${UNSET:-}", ""),
        ("${UNSET:-a:-b}", "a:-b"),
        ("${EMPTY}", ""),
        ("${EMPTY:-d}", "d"),
    ],
)
def test_interpolate(text: str, expected: str) -> None:
    assert interpolate(text, ENV) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${UNSET}", "environment variable UNSET is not set (give a default: ${UNSET:-value})"),
        ("${A", "unclosed ${ ... }: write ${VAR} or ${VAR:-default}"),
        ("ok ${A} ${B", "unclosed ${ ... }"),
        ("${1A}", "invalid variable name '1A' in ${1A}"),
        ("${A-B}", "invalid variable name 'A-B'"),
        ("${A:d}", "invalid variable name 'A:d'"),
        ("${}", "invalid variable name ''"),
        ("${A:-${B}}", "a default cannot contain ${...}"),
    ],
)
def test_interpolation_errors(text: str, message: str) -> None:
    with pytest.raises(InterpolationError) as caught:
        interpolate(text, ENV)
    assert message in str(caught.value)
