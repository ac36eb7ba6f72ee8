"""The one error handler in `cli.main`: every exception family, its exit code, one line,
the traceback only with -vv, and no secret in what it prints."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from pipeline import app, log
from pipeline.cli import exit_code, handle, main
from pipeline.errors import (
    AuthError,
    BuildError,
    ConfigError,
    ConfigProblem,
    ContextError,
    Interrupted,
    PushError,
    SandboxError,
    UsageError,
)
from pipeline.retry import Kind, RegistryFailure


def _raise(err: BaseException) -> Callable[..., object]:
    def boom(*_args: object, **_kwargs: object) -> object:
        raise err

    return boom


def config_error() -> ConfigError:
    return ConfigError(
        [
            ConfigProblem("p.yaml", 3, 5, "registry.account", "quote it"),
            ConfigProblem("p.yaml", 9, 1, "latest", "unknown value"),
        ]
    )


FAMILIES: list[tuple[str, BaseException, int, list[str]]] = [
    ("config", config_error(), 2, ["p.yaml:3:5: registry.account: quote it", "p.yaml:9:1: latest"]),
    ("usage", UsageError("stage deploy is not available"), 2, ["pipeline: error: stage deploy"]),
    ("context", ContextError("no git here"), 2, ["pipeline: error: no git here"]),
    ("stage", BuildError("app: build failed"), 1, ["pipeline: error: app: build failed"]),
    ("push", PushError("push x: gave up"), 1, ["pipeline: error: push x: gave up"]),
    (
        "adapter",
        RegistryFailure("reading a:v1: HTTP 500 Internal Server Error", Kind.TRANSIENT),
        1,
        ["pipeline: error: reading a:v1: HTTP 500"],
    ),
    ("credentials", AuthError("ECR GetAuthorizationToken: denied"), 1, ["pipeline: error: ECR"]),
    ("sandbox", SandboxError("no sandbox runs"), 1, ["pipeline: error: no sandbox runs"]),
    ("ctrl-c", KeyboardInterrupt(), 130, ["pipeline: interrupted"]),
    ("ctrl-c in a worker", Interrupted("push x: interrupted"), 130, ["pipeline: interrupted"]),
    ("click abort", click.exceptions.Abort(), 130, ["pipeline: interrupted"]),
    (
        "bug",
        KeyError("digest"),
        1,
        ["pipeline: internal error, please report: KeyError", "'digest'", "-vv"],
    ),
    ("bug deep", RecursionError("maximum recursion depth exceeded"), 1, ["internal error"]),
    ("memory", MemoryError(), 1, ["pipeline: internal error, please report: MemoryError"]),
]


@pytest.mark.parametrize(
    ("family", "error", "code", "says"), FAMILIES, ids=[f[0] for f in FAMILIES]
)
def test_each_exception_family_through_a_command(
    family: str,
    error: BaseException,
    code: int,
    says: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(app, "load_config", _raise(error))
    assert main(["validate", "-f", str(tmp_path / "p.yaml")]) == code
    out, err = capsys.readouterr()
    assert out == ""
    for text in says:
        assert text in err, (family, err)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line]  # click ends a ^C line first
    assert len(lines) == (2 if family == "config" else 1), err


def test_the_traceback_is_shown_with_vv(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(app, "load_config", _raise(KeyError("digest")))
    assert main(["-vv", "validate", "-f", str(tmp_path / "p.yaml")]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1].startswith("pipeline: internal error, please report")
    assert "-vv" not in err.splitlines()[-1]  # no advice to do what was done


def test_an_internal_error_says_where_it_happened(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def broken(*_args: object) -> object:
        return {}["digest"]

    monkeypatch.setattr(app, "load_config", broken)
    assert main(["validate", "-f", str(tmp_path / "p.yaml")]) == 1
    # the innermost frame in the package: here the command that called it
    assert re.search(r"KeyError at cli\.py:\d+: 'digest'", capsys.readouterr().err)


def test_secrets_never_reach_the_error_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log.mask("hunter2-password")
    for error in (PushError("push: hunter2-password refused"), ValueError("hunter2-password")):
        monkeypatch.setattr(app, "load_config", _raise(error))
        main(["-vv", "validate", "-f", str(tmp_path / "p.yaml")])
        err = capsys.readouterr().err
        assert "hunter2-password" not in err
        assert "***" in err


@pytest.mark.parametrize(
    "argv",
    [["--no-such-option"], ["no-such-command"], ["run", "--jobs", "0"], ["tags", "--image"]],
)
def test_click_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Error:" in err
    assert "Traceback" not in err


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert main(["--version"]) == 0
    assert "pipeline" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (click.exceptions.Exit(0), 0),
        (click.exceptions.Exit(3), 3),
        (SystemExit(2), 2),
        (SystemExit(None), 0),
        (SystemExit("message"), 1),
        (BrokenPipeError(), 1),
    ],
)
def test_exits_without_a_message(
    error: BaseException, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code(error) == code
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pipeline.cli._silence_stdout", lambda: None)
        assert handle(error) == code
    assert capsys.readouterr().err == ""
