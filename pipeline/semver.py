"""Strict SemVer 2.0.0 with one optional leading lower-case `v`.

Not PEP 440 (`packaging.version` accepts `1.2` and `1.2.3rc1`), and not git's
version sort (which puts `v1.2.0-rc.1` after `v1.2.0`). Precedence follows
SemVer section 11.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

_IDENT = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
_SEMVER = re.compile(
    r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?",
    re.ASCII,  # \d alone also matches other scripts' digits, which SemVer does not allow
)


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: tuple[str, ...] = ()
    raw: str = ""

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    @property
    def core(self) -> str:
        """`{{version}}`: no leading v, no build metadata."""
        text = f"{self.major}.{self.minor}.{self.patch}"
        return f"{text}-{'.'.join(self.prerelease)}" if self.prerelease else text

    def _key(self) -> tuple[object, ...]:
        # A release sorts after all of its prereleases; identifiers compare
        # numerically when numeric, and numeric ones sort before the others.
        pre: tuple[tuple[int, int, str], ...] = tuple(
            (0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease
        )
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def parse(text: str) -> Version | None:
    """The version in `text`, or None when it is not strict SemVer."""
    match = _SEMVER.fullmatch(text)  # `$` would also accept a trailing newline
    if not match:
        return None
    major, minor, patch, pre, build = match.groups()
    return Version(
        int(major),
        int(minor),
        int(patch),
        tuple(pre.split(".")) if pre else (),
        tuple(build.split(".")) if build else (),
        text,
    )


def strip_prefix(tag: str, prefix: str) -> str | None:
    """The tag without the monorepo prefix; None when the tag lacks it."""
    if not prefix:
        return tag
    return tag[len(prefix) :] if tag.startswith(prefix) else None


def versions(tags: list[str] | tuple[str, ...], prefix: str = "") -> list[tuple[Version, str]]:
    """(version, tag) for every tag that carries `prefix` and strict SemVer after it."""
    out: list[tuple[Version, str]] = []
    for tag in tags:
        rest = strip_prefix(tag, prefix)
        if rest is None:
            continue
        version = parse(rest)
        if version is not None:
            out.append((version, tag))
    return out


def highest(tags: list[str] | tuple[str, ...], prefix: str = "") -> tuple[Version, str] | None:
    """Highest by precedence; ties (v1.2.3 vs 1.2.3, build metadata) break by tag name."""
    found = versions(tags, prefix)
    if not found:
        return None
    return max(found, key=lambda vt: (vt[0]._key(), vt[1]))


def looks_like_release(tag: str) -> bool:
    """Whether `tag` is a SemVer release under some monorepo prefix (`v1.2.3`, `backend/v1.2.3`).

    The prefix ends at a `/`, `-`, `_` or `@`; used where the image's own prefix is
    not known yet (which tags a shallow clone must have).
    """
    if parse(tag):
        return True
    return any(parse(tag[i + 1 :]) for i, char in enumerate(tag) if char in "/-_@")
