"""Masking: every form a credential or a secret travels in, everywhere it could show."""

from __future__ import annotations

import base64
import io
import json
import logging

import pytest

from pipeline import log


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_a_password_is_masked_in_every_form_it_travels_in() -> None:
    log.mask_credentials("ci-user", "pw-Xy9:z?")  # '?' and ':' give '/' '+' '=' in base64
    pair = "ci-user:pw-Xy9:z?"
    forms = [
        "pw-Xy9:z?",  # the password
        _b64(pair),  # HTTP Basic, a docker config's `auth`, an ECR token
        _b64(pair).rstrip("="),
        base64.urlsafe_b64encode(pair.encode()).decode(),
    ]
    for form in forms:
        assert log.redact(f"before {form} after") == "before *** after", form
    # the decoded pair keeps only its user name
    assert log.redact(f"before {pair} after") == "before ci-user:*** after"


def test_the_x_registry_auth_header_value_is_masked_as_docker_py_encodes_it() -> None:
    from docker import auth as docker_auth

    log.mask_credentials("AWS", "p4ss-word-1", "reg.example:5000")
    header = docker_auth.encode_header(
        {"username": "AWS", "password": "p4ss-word-1", "serveraddress": "reg.example:5000"}
    ).decode()
    assert log.redact(f"X-Registry-Auth: {header}") == "X-Registry-Auth: ***"
    assert json.loads(base64.urlsafe_b64decode(header))["password"] == "p4ss-word-1"


def test_secret_text_is_masked_whole_line_by_line_and_by_value() -> None:
    npmrc = "//registry.npmjs.org/:_authToken=npm_ABCDEF123456\nalways-auth=true\n"
    log.mask_text(npmrc)
    assert "npm_ABCDEF123456" not in log.redact("echo npm_ABCDEF123456")
    assert log.redact("//registry.npmjs.org/:_authToken=npm_ABCDEF123456") == "***"
    assert log.redact(npmrc) == "***"
    # short and common lines are not masked on their own: they would shred the output
    assert log.redact("true") == "true"


def test_short_values_are_not_masked() -> None:
    log.mask("abc", "", None)
    assert log.redact("abc") == "abc"


def test_longer_secrets_win_over_their_parts() -> None:
    log.mask("secret-1", "secret-1-and-more")
    assert log.redact("x secret-1-and-more y") == "x *** y"


def test_log_records_are_masked_including_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    log.setup(0, stream)
    log.mask("s3cr3t-value")
    log.LOG.info("token is %s", "s3cr3t-value")
    try:
        raise ValueError("s3cr3t-value in an exception")
    except ValueError:
        log.LOG.exception("failed")
    text = stream.getvalue()
    assert "s3cr3t-value" not in text
    assert "token is ***" in text and "ValueError: *** in an exception" in text


def test_json_data_is_redacted_string_by_string() -> None:
    log.mask('quote"and\\slash')
    data = {"error": 'x quote"and\\slash y', "list": ['quote"and\\slash', 1, None], "n": 2}
    assert log.redact_data(data) == {"error": "x *** y", "list": ["***", 1, None], "n": 2}


def test_in_github_actions_each_line_of_a_secret_is_announced_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    log.mask("line-one-secret\nline-two-secret")
    log.mask("line-one-secret\nline-two-secret")  # once only
    assert capsys.readouterr().out == ("::add-mask::line-one-secret\n::add-mask::line-two-secret\n")


def test_outside_github_actions_nothing_is_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    log.mask("some-secret")
    assert capsys.readouterr().out == ""


def test_verbosity_is_remembered_for_the_error_handler() -> None:
    log.setup(2, io.StringIO())
    assert log.verbosity() == 2
    assert log.LOG.level == logging.DEBUG
    log.setup(0, io.StringIO())
    assert log.verbosity() == 0
