"""One named logger with a masking filter.

A credential is registered with `mask()` the moment it is fetched. From then
on it is replaced by `***` in every log record, and in GitHub Actions the
runner is told to mask it too (`::add-mask::`) before anything else prints it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sys
import threading
from typing import Any

LOG = logging.getLogger("pipeline")
_SECRETS: set[str] = set()
_LOCK = threading.Lock()
_MIN_SECRET = 4  # masking shorter strings would shred ordinary output
_MIN_LINE = 8  # a line of a secret file, masked on its own (shorter ones are too common)
_STATE = {"verbosity": 0}
#: the attribute of a log record that carries a console event (pipeline.console.events)
EVENT = "pipeline_event"


def mask(*values: str | None) -> None:
    """Never show these values again, in our logs or in the CI log."""
    with _LOCK:
        for value in values:
            if not value or len(value) < _MIN_SECRET or value in _SECRETS:
                continue
            _SECRETS.add(value)
            if os.environ.get("GITHUB_ACTIONS") == "true":
                # The runner masks the value in everything printed afterwards; it
                # matches line by line, so a value of several lines is announced
                # one line at a time.
                for line in value.splitlines() or [value]:
                    if line.strip():
                        sys.stdout.write(f"::add-mask::{line}\n")
                sys.stdout.flush()


def mask_credentials(username: str | None, password: str | None, host: str | None = None) -> None:
    """A password in every form it travels in: alone (which also hides it inside the
    decoded `user:password` pair), base64 of that pair (HTTP Basic, a docker config's
    `auth`, an ECR token), padded or not, and, given the registry `host`, the Docker
    Engine's X-Registry-Auth header value (base64url of the auth JSON, as docker-py
    encodes it), so that even that form is announced before anything is printed."""
    if not password:
        return
    pair = f"{username or ''}:{password}".encode()
    encoded = base64.b64encode(pair).decode()
    urlsafe = base64.urlsafe_b64encode(pair).decode()
    forms = [password, encoded, encoded.rstrip("="), urlsafe, urlsafe.rstrip("=")]
    if host is not None:
        auth = {"username": username or "", "password": password, "serveraddress": host}
        forms.append(base64.urlsafe_b64encode(json.dumps(auth).encode("ascii")).decode())
    mask(*forms)


def mask_text(text: str) -> None:
    """The content of a secret (a file, or a variable's value) and its parts.

    A build that prints a secret file prints it line by line, so each line
    counts too, and so does the value of a `key=value` or `key: value` line.
    """
    mask(text, text.strip())
    for line in text.splitlines():
        line = line.strip()
        if len(line) < _MIN_LINE:
            continue
        # `KEY=value`, `//host/:_authToken=value` (.npmrc), `key: value` (YAML)
        values = [line.partition("=")[2], line.rpartition("=")[2], line.partition(": ")[2]]
        mask(line, *(v.strip().strip("\"'") for v in values if len(v.strip()) >= _MIN_LINE))


def is_masked(value: str) -> bool:
    with _LOCK:
        return value in _SECRETS


def redact(text: str) -> str:
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def redact_data(data: Any) -> Any:
    """A JSON-like value with every string redacted (keys included)."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {redact_data(k): redact_data(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(v) for v in data]
    return data


def verbosity() -> int:
    """The verbosity `setup` was given (-v counts up, -q down)."""
    return _STATE["verbosity"]


def forget_all() -> None:
    """For tests: start again with no registered secrets."""
    with _LOCK:
        _SECRETS.clear()


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def _is_line(record: logging.LogRecord) -> bool:
    """A console event without text (a layer's byte count) is no line of the plain log."""
    return not hasattr(record, EVENT) or bool(record.getMessage())


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.ERROR:
            return f"error: {text}"
        if record.levelno >= logging.WARNING:
            return f"warning: {text}"
        return text


def setup(verbosity: int = 0, stream: object = None) -> None:
    """-q: warnings only; default: progress; -v: debug detail (-vv: tracebacks too)."""
    _STATE["verbosity"] = verbosity
    level = {-2: logging.ERROR, -1: logging.WARNING, 0: logging.INFO}.get(
        max(-2, min(verbosity, 1)), logging.DEBUG
    )
    LOG.setLevel(level)
    LOG.propagate = False
    for handler in list(LOG.handlers):
        LOG.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(_Formatter("%(message)s"))
    handler.addFilter(MaskingFilter())
    handler.addFilter(_is_line)
    LOG.addHandler(handler)
