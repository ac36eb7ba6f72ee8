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


@pytest.mark.parametrize(
    ("text", "value", "shown"),
    [
        ('registry: {account: "${ACC}"}', "hunter2-secret", "got <the value of ${ACC}>"),
        ('registry: {region: "${R}"}', "Secret-Region", "invalid value <the value of ${R}>"),
        ('latest: "${L:-auto}"', "S3CRET", "invalid value <the value of ${L}>"),
        (
            "registry: {type: generic, url: r.example.com, username_env: U,"
            ' password_env: "${REG_PASS}"}',
            "pa ss+word!",
            "this key takes the variable's name: password_env: REG_PASS (without ${})",
        ),
        ("images: [{name: app, tags: [{type: sha, length: '${P}'}]}]", "x" * 200, "${P}"),
        # a message that quotes only a part of the value (the unclosed placeholder)
        (
            "images: [{name: app, tags: [{type: raw, value: '${P}'}]}]",
            "hunter2-{{secret",
            "unclosed placeholder <the value of ${P}>",
        ),
    ],
)
def test_a_message_names_the_variable_never_its_value(text: str, value: str, shown: str) -> None:
    from tests.unit.config.helpers import problems

    env = {"ACC": value, "R": value, "L": value, "P": value, "REG_PASS": value}
    body = "version: 1\n" + text + "\n"
    if "images" not in text:
        body += "images: [{name: app}]\n"
    found = problems(body, env)
    rendered = "\n".join(p.render() for p in found)
    assert shown in rendered
    for form in (value, value.lower(), value.upper(), value[:20], value[-8:]):
        assert form not in rendered


def test_variables() -> None:
    from pipeline.config.interpolate import variables

    assert variables("a-${A}-${B:-x}-${A}-$${C}") == ["A", "B"]
