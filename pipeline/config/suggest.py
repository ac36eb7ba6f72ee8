"""'Did you mean' hints for misspelled keys and values."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping


def closest(
    word: str, options: Iterable[str], aliases: Mapping[str, str] | None = None
) -> str | None:
    """The option `word` most likely meant; `aliases` maps known other names to options."""
    if aliases and word.lower() in aliases:
        return aliases[word.lower()]
    choices = list(options)
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return lowered[word.lower()]
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def did_you_mean(
    word: str, options: Iterable[str], aliases: Mapping[str, str] | None = None
) -> str:
    match = closest(word, options, aliases)
    return f" (did you mean {match!r}?)" if match else ""
