"""Tags an existing repository will not let this run move: decided before anything is pushed.

A repository made outside the config can be IMMUTABLE (or IMMUTABLE_WITH_EXCLUSION
with filters that miss a tag, or MUTABLE_WITH_EXCLUSION with filters that catch
one). The config check cannot see that; without this the first run passes, and
the next commit's run pushes its sha- tag and then fails at promote, where a
mutable tag (branch, latest, major.minor, ...) cannot move. A tag that does not
exist yet is only created, and one that already names this run's digest (a
re-run of the same commit) stays where it is: neither is a collision.

Pure: the registry's answers come in as values.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence

from pipeline.adapters.ports import TagMutability


def _matches(tag: str, filters: Sequence[str]) -> bool:
    # ECR's WILDCARD filters know only `*`; `?` and `[` are taken literally.
    return any(fnmatch.fnmatchcase(tag, f.replace("[", "[[]").replace("?", "[?]")) for f in filters)


def stuck(mode: TagMutability, tags: Sequence[str]) -> list[str]:
    """The tags the repository refuses to move once they exist, in the order given."""
    kind = mode.mode.upper()
    if kind == "IMMUTABLE":
        return list(tags)
    if kind == "IMMUTABLE_WITH_EXCLUSION":
        return [t for t in tags if not _matches(t, mode.filters)]
    if kind == "MUTABLE_WITH_EXCLUSION":
        return [t for t in tags if _matches(t, mode.filters)]
    return []  # MUTABLE, or a mode this version does not know: the registry decides


def collisions(
    mode: TagMutability, current: Mapping[str, str | None], ours: str | None
) -> list[str]:
    """Of the tags the run must point at its image (tag -> the digest it names now, None:
    no such tag), those the repository will refuse: stuck, present, and naming another
    digest than `ours` (the digest the run publishes, when known before the push)."""
    return [t for t in stuck(mode, list(current)) if current[t] is not None and current[t] != ours]


def refusal(repository: str, mode: TagMutability, tags: Sequence[str]) -> str:
    """One line: the repository, its mutability, the tags, and the ways out."""
    kind = mode.mode.upper()
    filters = f" (filters: {', '.join(mode.filters)})" if mode.filters else ""
    names = ", ".join(repr(t) for t in tags)
    if kind == "MUTABLE_WITH_EXCLUSION":
        fix = "remove the exclusion filters matching them from the repository, make it MUTABLE"
    else:
        fix = "add an exclusion filter matching them to the repository, make it MUTABLE"
    return (
        f"ECR repository {repository} is {kind}{filters}: tags {names} move between"
        " commits, but already name another image and the repository will not move them;"
        f" {fix}, or drop the rule"
    )
