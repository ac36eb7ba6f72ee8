"""The environment settings a run reads, checked before anything runs.

Adapters and the retry policy never read `os.environ` themselves: they are
handed these values. A bad value is a usage error (exit 2) that names the
variable; values are quoted only for settings that cannot hold a secret.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.errors import UsageError

BUILDERS = ("buildx", "buildkit", "classic")
SCHEMES = ("http", "https")
MAX_JOBS = 64
DEFAULT_JOBS = 4
DEFAULT_PUSH_TIMEOUT = 600.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")
_UNIT = {None: 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
_MAX_TIMEOUT = 24 * 3600.0


@dataclass(frozen=True)
class RunSettings:
    #: PIPELINE_JOBS: images built or pushed at once (`--jobs` wins)
    jobs: int = DEFAULT_JOBS
    #: PIPELINE_PUSH_TIMEOUT: each registry operation (a push with its retries) ends within this
    push_timeout: float = DEFAULT_PUSH_TIMEOUT
    #: PIPELINE_PUSH_ATTEMPTS: an optional cap on tries; the time limit is the budget
    push_attempts: int | None = None
    #: PIPELINE_BUILDER: force buildx, buildkit or classic
    builder: str | None = None
    #: PIPELINE_REGISTRY_SCHEME: force http or https for the registry's API
    registry_scheme: str | None = None
    #: PIPELINE_DOCKER: the docker client to run
    docker: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RunSettings:
        """Every setting at once; the first bad one is reported (exit 2)."""

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value not in (None, "") else None

        return cls(
            jobs=_jobs(get("PIPELINE_JOBS")),
            push_timeout=_duration("PIPELINE_PUSH_TIMEOUT", get("PIPELINE_PUSH_TIMEOUT")),
            push_attempts=_attempts(get("PIPELINE_PUSH_ATTEMPTS")),
            builder=_choice("PIPELINE_BUILDER", get("PIPELINE_BUILDER"), BUILDERS),
            registry_scheme=_choice(
                "PIPELINE_REGISTRY_SCHEME", get("PIPELINE_REGISTRY_SCHEME"), SCHEMES
            ),
            docker=_executable("PIPELINE_DOCKER", get("PIPELINE_DOCKER")),
        )

    def with_jobs(self, jobs: int | None) -> RunSettings:
        return self if jobs is None else dataclasses.replace(self, jobs=jobs)


def _shown(value: str) -> str:
    """A non-secret value, quoted and cut short (it may be anything at all)."""
    text = value if len(value) <= 40 else value[:40] + "..."
    return repr(text)


def _integer(name: str, value: str, low: int, high: int) -> int:
    text = value.strip()
    if not re.fullmatch(r"\d{1,9}", text) or not low <= int(text) <= high:
        raise UsageError(f"{name}={_shown(value)}: expected a whole number from {low} to {high}")
    return int(text)


def _jobs(value: str | None) -> int:
    return DEFAULT_JOBS if value is None else _integer("PIPELINE_JOBS", value, 1, MAX_JOBS)


def _attempts(value: str | None) -> int | None:
    return None if value is None else _integer("PIPELINE_PUSH_ATTEMPTS", value, 1, 10_000)


def _duration(name: str, value: str | None) -> float:
    if value is None:
        return DEFAULT_PUSH_TIMEOUT
    match = _DURATION.match(value) if len(value) < 32 else None
    seconds = float(match[1]) * _UNIT[match[2]] if match else math.nan
    if not (1.0 <= seconds <= _MAX_TIMEOUT):  # also refuses nan
        raise UsageError(
            f"{name}={_shown(value)}: expected a duration from 1s to 24h,"
            " in seconds (600) or with a unit (30s, 10m, 1h)"
        )
    return seconds


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value.strip().lower() not in allowed:
        raise UsageError(f"{name}={_shown(value)}: expected one of {', '.join(allowed)}")
    return value.strip().lower()


def _executable(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not (os.path.isfile(value) and os.access(value, os.X_OK)):
        raise UsageError(f"{name}={_shown(value)}: not an executable file")
    return value
