"""Value types: durations, account ids, dates, platforms, repository names."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pipeline.config.checks import run_all
from pipeline.config.platforms import check_platform
from pipeline.config.suggest import closest, did_you_mean
from pipeline.config.types import format_duration, parse_date, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("2m30s", 150.0),
        (" 45s ", 45.0),
        ("0s", 0.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (10, "a duration needs a unit: write 10s, not 10"),
        (1.5, "a duration needs a unit"),
        ("10", "invalid duration '10'"),
        ("10x", "invalid duration '10x'"),
        ("1d", "invalid duration '1d'"),
        ("1.5h", "invalid duration '1.5h'"),
        ("10M", "invalid duration '10M'"),
        ("30s1h", "invalid duration '30s1h'"),
        ("", "invalid duration ''"),
        (True, "expected a duration such as 30s, 10m or 1h"),
        (None, "expected a duration"),
    ],
)
def test_parse_duration_refuses(value: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert message in str(caught.value)


@pytest.mark.parametrize("seconds", [0.0, 30.0, 600.0, 5400.0, 3661.0])
def test_format_duration_round_trips(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


def test_parse_date() -> None:
    assert parse_date("2027-01-31") == dt.date(2027, 1, 31)
    assert parse_date(dt.date(2027, 1, 31)) == dt.date(2027, 1, 31)
    for value in ("2027-02-30", "2027-1-5", "20270131", 86400, "2027-01-31T00:00:00"):
        with pytest.raises(ValueError, match="date"):
            parse_date(value)


@pytest.mark.parametrize(
    ("platform", "message"),
    [
        ("linux", "missing the architecture"),
        ("arm64", "missing the OS: write os/arch, like 'linux/arm64'"),
        ("linux/x86_64", "(did you mean 'linux/amd64'?)"),
        ("linux/x86-64", "(did you mean 'linux/amd64'?)"),
        ("linux/aarch64", "(did you mean 'linux/arm64'?)"),
        ("linux/armhf", "(did you mean 'linux/arm/v7'?)"),
        ("linux/armv7", "(did you mean 'linux/arm/v7'?)"),
        ("linux/i386", "(did you mean 'linux/386'?)"),
        ("linux/ppc64el", "(did you mean 'linux/ppc64le'?)"),
        ("linux/amd65", "(did you mean 'linux/amd64'?)"),
        ("macos/arm64", "(did you mean 'darwin/arm64'?)"),
        ("Linux/amd64", "platforms are lower case (did you mean 'linux/amd64'?)"),
        ("LINUX/X86_64", "lower case; unknown architecture 'x86_64' (did you mean 'linux/amd64'?)"),
        ("plan10/amd64", "unknown OS 'plan10'"),
        ("beos/amd64", "unknown OS 'beos'; known: aix,"),
        ("linux/vax", "unknown architecture 'vax'; known: 386, amd64,"),
        ("linux/arm/v9", "unknown arm variant 'v9'; known: v5, v6, v7, v8"),
        ("linux/amd64/v5", "unknown amd64 variant 'v5'"),
        ("linux//amd64", "expected os/arch[/variant]"),
        ("linux/amd64/", "expected os/arch[/variant]"),
        ("linux/arm/v7/x", "expected os/arch[/variant]"),
        ("", "expected os/arch[/variant]"),
    ],
)
def test_platform_refused(platform: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_platform(platform)
    assert message in str(caught.value)


def test_did_you_mean() -> None:
    assert closest("regoin", ["region", "account"]) == "region"
    assert closest("REGION", ["region"]) == "region"
    assert closest("zzz", ["region"]) is None
    assert closest("x86_64", ["amd64"], {"x86_64": "amd64"}) == "amd64"
    assert did_you_mean("alwys", ["always", "never"]) == " (did you mean 'always'?)"
    assert did_you_mean("zzz", ["always"]) == ""


def _repository_problems(repo: str, registry: str = "ecr") -> list[str]:
    data = {"registry": {"type": registry}, "images": [{"name": "app", "repository": repo}]}
    return [m for path, m in run_all(data) if path == ("images", 0, "repository")]


@pytest.mark.parametrize(
    "repo", ["ab", "myapp/backend", "a.b_c-d/e", "team/app/v2", "a" * 256, "x1/y2"]
)
def test_ecr_repository_names_accepted(repo: str) -> None:
    assert _repository_problems(repo) == []


@pytest.mark.parametrize(
    ("repo", "message"),
    [
        ("a", "2 to 256 characters, this one has 1"),
        ("a" * 257, "this one has 257"),
        ("MyApp", "lower case (did you mean 'myapp'?)"),
        ("My App", "lower case"),
        ("my app", "' ' not allowed"),
        ("team/app@1", "'@' not allowed"),
        ("/app", "empty path component"),
        ("app/", "empty path component"),
        ("team//app", "empty path component"),
        ("-app", "'-app': each part"),
        ("app_", "'app_': each part"),
        ("a--b", "'a--b': each part"),
    ],
)
def test_ecr_repository_names_refused(repo: str, message: str) -> None:
    found = _repository_problems(repo)
    assert len(found) == 1
    assert message in found[0]


def test_generic_repository_names_follow_the_distribution_rules() -> None:
    assert _repository_problems("a", "generic") == []
    assert _repository_problems("a__b/c---d", "generic") == []
    assert "invalid repository name" in _repository_problems("A/b", "generic")[0]
