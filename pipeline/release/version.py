"""The next release tag: pure, from the repository's tag names.

- The base is the highest *stable* SemVer tag with the prefix; prereleases
  (`v2.0.0-rc.1`) never count, build metadata does not make a tag unstable.
- The new tag keeps the form the repository uses: the prefix, and a leading
  `v` when the highest stable tag has one. A repository without any stable
  tag starts from 0.0.0 with the `v` form: patch -> v0.0.1, minor -> v0.1.0,
  major -> v1.0.0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeline import semver

BUMPS = ("patch", "minor", "major")


@dataclass(frozen=True)
class NextRelease:
    tag: str
    version: str
    #: the highest stable tag it follows; None for the first release
    previous: str | None


def highest_stable(tags: Iterable[str], prefix: str = "") -> tuple[semver.Version, str] | None:
    stable = [t for v, t in semver.versions(sorted(set(tags)), prefix) if not v.is_prerelease]
    return semver.highest(stable, prefix)


def bumped(version: semver.Version | None, bump: str) -> str:
    major, minor, patch = (version.major, version.minor, version.patch) if version else (0, 0, 0)
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    if bump == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise ValueError(f"unknown bump {bump!r}; expected one of {', '.join(BUMPS)}")


def next_release(tags: Iterable[str], bump: str, prefix: str = "") -> NextRelease:
    found = highest_stable(tags, prefix)
    version, previous = found if found else (None, None)
    v = "v" if previous is None or previous[len(prefix) :].startswith("v") else ""
    core = bumped(version, bump)
    return NextRelease(tag=f"{prefix}{v}{core}", version=core, previous=previous)
