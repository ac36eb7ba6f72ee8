"""One named logger with a masking filter.

A credential is registered with `mask()` the moment it is fetched. From then
on it is replaced by `***` in every log record, and in GitHub Actions the
runner is told to mask it too (`::add-mask::`) before anything else prints it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

LOG = logging.getLogger("pipeline")
_SECRETS: set[str] = set()
_LOCK = threading.Lock()
_MIN_SECRET = 4  # masking shorter strings would shred ordinary output


def mask(*values: str | None) -> None:
    """Never show these values again, in our logs or in the CI log."""
    with _LOCK:
        for value in values:
            if not value or len(value) < _MIN_SECRET or value in _SECRETS:
                continue
            _SECRETS.add(value)
            if os.environ.get("GITHUB_ACTIONS") == "true":
                # The runner masks the value in everything printed afterwards.
                sys.stdout.write(f"::add-mask::{value}\n")
                sys.stdout.flush()


def redact(text: str) -> str:
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


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


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.ERROR:
            return f"error: {text}"
        if record.levelno >= logging.WARNING:
            return f"warning: {text}"
        return text


def setup(verbosity: int = 0, stream: object = None) -> None:
    """-q: warnings only; default: progress; -v: debug detail."""
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
    LOG.addHandler(handler)
