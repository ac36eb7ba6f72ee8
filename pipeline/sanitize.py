"""Docker tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}` (distribution/reference)."""

from __future__ import annotations

import hashlib
import re

MAX_TAG = 128
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_INVALID_RUN = re.compile(r"[^A-Za-z0-9_.-]+")


def tag(value: str) -> str:
    """Make `value` a valid tag.

    Invalid runs become `-`; an invalid first character becomes `_`; a result
    over 128 characters is cut and ends in `-` plus 6 hex characters of a
    hash of the full value, so two long names that share a start stay apart.
    """
    out = _INVALID_RUN.sub("-", value)
    if len(out) > MAX_TAG:
        digest = hashlib.sha256(value.encode()).hexdigest()[:6]
        out = out[: MAX_TAG - 7] + "-" + digest
    if out and not re.match(r"[A-Za-z0-9_]", out[0]):
        out = "_" + out[1:]
    return out
