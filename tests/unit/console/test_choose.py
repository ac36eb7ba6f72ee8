"""Which terminal a run gets."""

from __future__ import annotations

import io

import pytest

from pipeline.console import choose
from pipeline.errors import UsageError


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "tty", "mode"),
    [
        ({}, False, "plain"),
        ({}, True, "tty"),
        ({"TERM": "dumb"}, True, "plain"),
        ({"GITHUB_ACTIONS": "true"}, True, "github"),
        ({"GITHUB_ACTIONS": "true"}, False, "github"),
        ({"GITHUB_ACTIONS": "false"}, False, "plain"),
        ({"PIPELINE_PROGRESS": "plain"}, True, "plain"),
        ({"PIPELINE_PROGRESS": "TTY"}, False, "tty"),
        ({"PIPELINE_PROGRESS": "github"}, False, "github"),
        ({"PIPELINE_PROGRESS": "auto", "GITHUB_ACTIONS": "true"}, False, "github"),
        ({"PIPELINE_PROGRESS": ""}, True, "tty"),
    ],
)
def test_mode(env: dict[str, str], tty: bool, mode: str) -> None:
    assert choose.mode(env, Tty() if tty else io.StringIO()) == mode


def test_an_unknown_mode_is_a_usage_error_that_names_the_variable() -> None:
    with pytest.raises(UsageError, match="PIPELINE_PROGRESS must be one of auto, tty, plain"):
        choose.mode({"PIPELINE_PROGRESS": "fancy"}, io.StringIO())
