"""`{{name}}` placeholders used in tag values, prefixes, suffixes and messages.

Deliberately tiny: no expressions, no filters. An unknown name is a
configuration error (checked when the config loads); a known name with no value
in this run (say `{{pr}}` on a branch push) renders the whole string empty, and
an empty tag is dropped rather than pushed as a surprise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

#: Names available in tag rule values, prefixes and suffixes.
TAG_VARIABLES = frozenset(
    {"branch", "tag", "sha", "sha_long", "version", "pr", "date", "base_ref", "image"}
)
#: Extra names available in a semver rule's pattern.
SEMVER_VARIABLES = frozenset({"version", "major", "minor", "patch", "raw"})
#: Names available in a GitOps commit message.
MESSAGE_VARIABLES = frozenset({"image", "tag", "digest", "version", "sha", "repository"})


def names(text: str) -> list[str]:
    """Every placeholder name used in `text`, in order."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text)]


def unknown_names(text: str, allowed: Iterable[str]) -> list[str]:
    allowed_set = set(allowed)
    return [n for n in names(text) if n not in allowed_set]


def render(text: str, values: Mapping[str, str | None]) -> str | None:
    """Substitute placeholders; None when any placeholder has no value here."""
    missing = False

    def sub(match: re.Match[str]) -> str:
        nonlocal missing
        value = values.get(match.group(1))
        if not value:
            missing = True
            return ""
        return value

    out = PLACEHOLDER.sub(sub, text)
    return None if missing else out
