"""Environment settings of a run: checked up front, named in errors, values shown only
where they cannot be secret."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.errors import UsageError
from pipeline.settings import RunSettings


def test_defaults_with_nothing_set() -> None:
    settings = RunSettings.from_env({})
    assert settings == RunSettings(jobs=4, push_timeout=600.0)
    assert settings.push_attempts is None  # the time limit is the budget


def test_empty_values_count_as_unset() -> None:
    assert RunSettings.from_env({"PIPELINE_JOBS": "", "PIPELINE_PUSH_TIMEOUT": ""}) == (
        RunSettings()
    )


@pytest.mark.parametrize(
    ("env", "field", "value"),
    [
        ({"PIPELINE_JOBS": "8"}, "jobs", 8),
        ({"PIPELINE_JOBS": " 1 "}, "jobs", 1),
        ({"PIPELINE_PUSH_TIMEOUT": "90"}, "push_timeout", 90.0),
        ({"PIPELINE_PUSH_TIMEOUT": "2.5"}, "push_timeout", 2.5),
        ({"PIPELINE_PUSH_TIMEOUT": "30s"}, "push_timeout", 30.0),
        ({"PIPELINE_PUSH_TIMEOUT": "10m"}, "push_timeout", 600.0),
        ({"PIPELINE_PUSH_TIMEOUT": "1h"}, "push_timeout", 3600.0),
        ({"PIPELINE_PUSH_ATTEMPTS": "3"}, "push_attempts", 3),
        ({"PIPELINE_BUILDER": "BuildKit"}, "builder", "buildkit"),
        ({"PIPELINE_REGISTRY_SCHEME": "http"}, "registry_scheme", "http"),
    ],
)
def test_valid_values(env: dict[str, str], field: str, value: object) -> None:
    assert getattr(RunSettings.from_env(env), field) == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PIPELINE_JOBS", "abc"),
        ("PIPELINE_JOBS", "0"),
        ("PIPELINE_JOBS", "65"),
        ("PIPELINE_JOBS", "-1"),
        ("PIPELINE_JOBS", "4.5"),
        ("PIPELINE_JOBS", "9" * 5000),
        ("PIPELINE_PUSH_TIMEOUT", "ten"),
        ("PIPELINE_PUSH_TIMEOUT", "0"),
        ("PIPELINE_PUSH_TIMEOUT", "-5"),
        ("PIPELINE_PUSH_TIMEOUT", "nan"),
        ("PIPELINE_PUSH_TIMEOUT", "inf"),
        ("PIPELINE_PUSH_TIMEOUT", "1e9"),
        ("PIPELINE_PUSH_TIMEOUT", "25h"),
        ("PIPELINE_PUSH_TIMEOUT", "10 minutes"),
        ("PIPELINE_PUSH_ATTEMPTS", "ten"),
        ("PIPELINE_PUSH_ATTEMPTS", "0"),
        ("PIPELINE_BUILDER", "podman"),
        ("PIPELINE_REGISTRY_SCHEME", "ftp"),
        ("PIPELINE_DOCKER", "/no/such/docker"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(UsageError) as err:
        RunSettings.from_env({name: value})
    message = str(err.value)
    assert message.startswith(f"{name}=")
    assert err.value.exit_code == 2
    assert len(message) < 300  # a huge value is cut short, never echoed whole


def test_pipeline_docker_must_be_executable(tmp_path: Path) -> None:
    script = tmp_path / "docker"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(UsageError, match="not an executable file"):
        RunSettings.from_env({"PIPELINE_DOCKER": str(script)})
    os.chmod(script, 0o755)
    assert RunSettings.from_env({"PIPELINE_DOCKER": str(script)}).docker == str(script)
    with pytest.raises(UsageError):
        RunSettings.from_env({"PIPELINE_DOCKER": str(tmp_path)})  # a folder


def test_jobs_from_the_command_line_win() -> None:
    assert RunSettings.from_env({"PIPELINE_JOBS": "2"}).with_jobs(7).jobs == 7
    assert RunSettings.from_env({"PIPELINE_JOBS": "2"}).with_jobs(None).jobs == 2
