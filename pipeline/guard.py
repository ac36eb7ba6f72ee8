"""Never backwards: refuse to deploy a commit older than the one a target runs.

Two pipelines of one branch race; the older one finishes its tests last and
deploys last, rolling production back to a commit that the newer one already
replaced. Before each update we read the commit the target runs (the running
image's `org.opencontainers.image.revision` label, from the registry by the
running digest) and ask git whether the commit being deployed is an ancestor
of it. When git cannot answer (a shallow clone, a commit no remote has), the
images' `org.opencontainers.image.created` labels, which carry commit times,
decide instead, and the verdict says which rule decided.

Target-agnostic: ECS and EKS give it the image refs they run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

REVISION = "org.opencontainers.image.revision"
CREATED = "org.opencontainers.image.created"


class ImageLabels(Protocol):
    def labels(self, image: str) -> Mapping[str, str] | None:
        """The image config's labels, read from the registry; None when not readable."""
        ...


class Ancestry(Protocol):
    def is_ancestor(self, ancestor: str, descendant: str) -> bool | None:
        """True/False when git knows; None when it cannot tell (missing or shallow history)."""
        ...


@dataclass(frozen=True)
class GuardVerdict:
    allowed: bool
    #: what decided: "same commit", "git", "created time", "no running commit",
    #: "undecided" or "force"
    rule: str
    message: str
    running: str | None = None


def _short(sha: str) -> str:
    return sha[:12]


_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:?\d\d)?")


def _created(labels: Mapping[str, str] | None) -> dt.datetime | None:
    """An RFC 3339 time; Python 3.10's fromisoformat takes neither "Z" nor any fraction."""
    match = _RFC3339.fullmatch((labels or {}).get(CREATED, "").strip())
    if not match:
        return None
    day, clock, fraction, zone = match.groups()
    if not zone or zone in "Zz":
        zone = "+00:00"
    elif ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    micro = (fraction or "0")[:6].ljust(6, "0")
    try:
        return dt.datetime.fromisoformat(f"{day}T{clock}.{micro}{zone}")
    except ValueError:
        return None


def _one(
    commit: str,
    image: str,
    running_image: str,
    labels: ImageLabels,
    ancestry: Ancestry,
) -> GuardVerdict:
    running_labels = labels.labels(running_image)
    running = (running_labels or {}).get(REVISION, "").strip() or None
    if running is None:
        why = "has no revision label" if running_labels is not None else "could not be read"
        return GuardVerdict(
            True,
            "no running commit",
            f"the running image {running_image} {why}: cannot tell which commit runs; deploying",
        )
    if running == commit:
        return GuardVerdict(
            True, "same commit", f"{_short(commit)} already runs (redeploy)", running
        )
    older = ancestry.is_ancestor(commit, running)
    if older is True:
        return GuardVerdict(
            False,
            "git",
            f"commit {commit} is an ancestor of {running}, which the target runs (decided by git)",
            running,
        )
    if older is False:
        return GuardVerdict(
            True, "git", f"{_short(commit)} is not an ancestor of {_short(running)} (git)", running
        )
    new_time = _created(labels.labels(image))
    old_time = _created(running_labels)
    if new_time is None or old_time is None:
        return GuardVerdict(
            True,
            "undecided",
            f"git cannot order {_short(commit)} and {_short(running)}, and the images' created"
            " labels cannot either; deploying",
            running,
        )
    if new_time < old_time:
        return GuardVerdict(
            False,
            "created time",
            f"commit {commit} ({new_time:%Y-%m-%dT%H:%M:%SZ}) is older than"
            f" {running} ({old_time:%Y-%m-%dT%H:%M:%SZ}), which the target runs"
            " (git could not tell; decided by the images' created labels)",
            running,
        )
    return GuardVerdict(
        True,
        "created time",
        f"{_short(commit)} is not older than {_short(running)} (git could not tell; decided"
        " by the images' created labels)",
        running,
    )


def check(
    *,
    commit: str | None,
    image: str,
    running_images: Sequence[str],
    labels: ImageLabels,
    ancestry: Ancestry,
    force: bool,
) -> GuardVerdict:
    """May `commit` (built into `image`) replace what runs in `running_images`?

    Refused when it is older than any of them, unless `force`.
    """
    if not commit:
        return GuardVerdict(True, "undecided", "the commit being deployed is unknown; deploying")
    verdicts = [_one(commit, image, r, labels, ancestry) for r in dict.fromkeys(running_images)]
    refused = next((v for v in verdicts if not v.allowed), None)
    if refused is not None:
        if force:
            return GuardVerdict(
                True, "force", f"--force: deploying although {refused.message}", refused.running
            )
        return refused
    if not verdicts:
        return GuardVerdict(True, "no running commit", "nothing runs yet; deploying")
    # The most telling allowed verdict: one that knew the running commit.
    return next((v for v in verdicts if v.running), verdicts[0])
