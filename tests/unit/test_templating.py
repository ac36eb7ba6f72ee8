"""Placeholders: what parses, what renders, and what is refused with which hint."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline import templating
from pipeline.templating import TAG_VARIABLES, TemplateError

pytestmark = pytest.mark.usefixtures("clean_environment")

NOW = dt.datetime(2024, 3, 9, 7, 5, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("plain", {}, "plain"),
        ("{{sha}}", {"sha": "abc"}, "abc"),
        ("{{ sha }}-{{branch}}", {"sha": "abc", "branch": "main"}, "abc-main"),
        ("pr-{{pr}}", {"pr": None}, None),  # no value on this run: the tag is dropped
        ("{{date 'YYYYMMDD'}}", {}, "20240309"),
        ("{{date 'YYYY-MM-DD.HHmmss'}}", {}, "2024-03-09.070501"),
        ('{{  date   "DD_MM"  }}', {}, "09_03"),
        ("}} alone is text", {}, "}} alone is text"),
    ],
)
def test_render(text: str, values: dict[str, str | None], expected: str | None) -> None:
    assert templating.render(text, values, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{shaa}}", "unknown placeholder {{shaa}} (did you mean {{sha}}?)"),
        ("{{zzz}}", "unknown placeholder {{zzz}}; known: {{base_ref}}"),
        ("{{ github.sha }}", "{{ github.sha }} is a GitHub Actions expression"),
        ("{{ env.TAG }}", "is a GitHub Actions expression"),
        ("{{ secrets.X }}", "is a GitHub Actions expression"),
        ("a-{{sha", "unclosed placeholder '{{sha'"),
        ("{{ {{sha}}", "unclosed placeholder '{{ '"),
        ("{{sha|lower}}", "{{sha|lower}} is not a placeholder"),
        ("{{}}", "{{}} is not a placeholder"),
        ("{{date 'YYYYMMDDTHH'}}", "'T' is not supported in a date format"),
        ("{{date ''}}", "'an empty format' is not supported"),
        (
            "{{date 'YYYY' tz='UTC'}}",
            "unexpected \"tz='UTC'\" after the format; the date is always",
        ),
    ],
)
def test_check_refuses_with_a_hint(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as err:
        templating.check(text, TAG_VARIABLES)
    assert message in str(err.value)


def test_a_date_format_needs_date_to_be_allowed_here() -> None:
    with pytest.raises(TemplateError, match="unknown placeholder"):
        templating.check("{{date 'YYYY'}}", templating.SEMVER_VARIABLES)


@pytest.mark.parametrize(
    ("text", "shape", "names"),
    [
        ("v{{major}}.{{minor}}", "v*.*", ["major", "minor"]),
        ("nightly-{{date 'YYYYMMDD'}}", "nightly-*", ["date"]),
        ("edge", "edge", []),
    ],
)
def test_shape_and_names(text: str, shape: str, names: list[str]) -> None:
    assert templating.shape(text) == shape
    assert templating.names(text) == names
