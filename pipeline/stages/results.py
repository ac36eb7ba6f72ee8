"""The values that cross the stage seam: each stage returns one, the next takes it.

    build -> Built -> push -> Published -> scan -> Scanned -> gate -> GateResult
          -> promote -> Promoted -> deploy -> Deployed

All are immutable. No stage writes the report: the runner collects these in a
`RunResult`, and the report is composed from it. A fan-out's final job reads
`Published` and the gate's decisions back from other runners' reports
(`--from-report`), so promote and deploy take the same values either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pipeline.deployment import Deployment
    from pipeline.scan.gate import GateResult
    from pipeline.scan.wait import ScanOutcome


@dataclass(frozen=True)
class ImageBuilt:
    name: str
    image_id: str | None = None
    #: a build ran and succeeded (False when reused, or in a dry run)
    built: bool = False
    #: the registry already held an image with the same inputs: nothing was built
    reused: bool = False
    input_digest: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Built:
    images: tuple[ImageBuilt, ...] = ()

    @property
    def ok(self) -> bool:
        return all(i.error is None for i in self.images)

    def image(self, name: str) -> ImageBuilt:
        return next(i for i in self.images if i.name == name)


@dataclass(frozen=True)
class ImagePublished:
    name: str
    #: registry host and repository path, e.g. 123.dkr.ecr.us-east-1.amazonaws.com/app
    image: str
    #: the repository path inside the registry (no host)
    repository: str
    digest: str | None = None
    #: immutable tags now naming `digest` (sha-..., the full version)
    tags: tuple[str, ...] = ()
    #: mutable tags (latest, 1.2, branch, pr) for the promote stage, after the gate
    pending_tags: tuple[str, ...] = ()
    pushed: bool = False
    reused: bool = False
    #: the commit the image was built from (its revision label)
    revision: str = ""
    version: str | None = None
    error: str | None = None

    @property
    def ref(self) -> str:
        """`image@digest`: what scan, promote and deploy use; never a tag looked up again."""
        if not self.digest:
            raise ValueError(f"{self.name} has no digest")
        return f"{self.image}@{self.digest}"


@dataclass(frozen=True)
class Published:
    images: tuple[ImagePublished, ...] = ()

    @property
    def ok(self) -> bool:
        """Every image is in the registry under a known digest (never so in a dry run)."""
        return all(i.error is None and i.digest for i in self.images)

    @property
    def failed(self) -> bool:
        """An image could not be published (a dry run, which has no digests, did not fail)."""
        return any(i.error is not None for i in self.images)

    def image(self, name: str) -> ImagePublished:
        return next(i for i in self.images if i.name == name)


@dataclass(frozen=True)
class Scanned:
    outcomes: tuple[ScanOutcome, ...] = ()
    #: why nothing was scanned (scanning off, a dry run); the gate then skips each image
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return all(o.error is None for o in self.outcomes)


@dataclass(frozen=True)
class ImagePromoted:
    name: str
    #: mutable tags moved onto the published digest
    tags: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Promoted:
    images: tuple[ImagePromoted, ...] = ()

    @property
    def ok(self) -> bool:
        return all(i.error is None for i in self.images)


@dataclass(frozen=True)
class Deployed:
    deployments: tuple[Deployment, ...] = ()

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.deployments)


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced; a stage that did not run is None."""

    built: Built | None = None
    published: Published | None = None
    scanned: Scanned | None = None
    gated: GateResult | None = None
    promoted: Promoted | None = None
    deployed: Deployed | None = None
    #: why the run stopped when no single image or target is to blame
    error: str | None = None
    interrupted: bool = False
    #: the run reached its end (every selected stage ran)
    finished: bool = False
    #: (stage, seconds) for each stage that ran, in order
    timings: tuple[tuple[str, float], ...] = ()
    #: a fan-out's final job: each image's scan fragment, from its runner's report
    reported_scans: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
