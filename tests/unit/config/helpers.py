"""Load YAML text and return what the loader reports, as plain tuples."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import pytest

from pipeline.config.load import loads
from pipeline.config.schema import Config
from pipeline.errors import ConfigError, ConfigProblem

FILE = "pipeline.yaml"


def yaml(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def problems(text: str, env: Mapping[str, str] | None = None) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        loads(text, FILE, env or {})
    return caught.value.problems


def valid(text: str, env: Mapping[str, str] | None = None) -> Config:
    return loads(text, FILE, env or {})
