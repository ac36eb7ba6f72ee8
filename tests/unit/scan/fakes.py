"""A scripted fake of the ScanApi port, a fake clock, and finding builders."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.scan.findings import Finding, Fix
from pipeline.scan.findings import counts as global_counts
from pipeline.scan.ports import (
    FindingsPage,
    ImageNotFound,
    ImageRef,
    RepositoryNotFound,
    ScanSettings,
)

DIGEST = "sha256:" + "ab" * 32
IMAGE = ImageRef("team/app", DIGEST)
T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)

Step = FindingsPage | Exception

#: what ECR says of a status when a test does not say (the contract test checks that
#: a page always has a description, and a finished scan its completion time)
DESCRIPTIONS = {
    "IN_PROGRESS": "The scan is in progress.",
    "COMPLETE": "The scan was completed successfully.",
    "ACTIVE": "Continuous scan is selected for image.",
    "FAILED": "The scan failed.",
}
FINISHED = ("COMPLETE", "ACTIVE")


def page(
    status: str,
    findings: Sequence[Finding] = (),
    *,
    description: str | None = None,
    completed_at: dt.datetime | None = None,
    counts: dict[str, int] | None = None,
    next_token: str | None = None,
    enhanced: bool = False,
) -> FindingsPage:
    """A page as ECR serves it: unless a test says otherwise, the totals are counted
    from the findings (ECR repeats them on every page), a finished scan has a
    completion time and every status a description."""
    if completed_at is None and status in FINISHED:
        completed_at = T0
    return FindingsPage(
        status=status,
        description=description if description is not None else DESCRIPTIONS.get(status),
        completed_at=completed_at,
        findings=tuple(findings),
        has_basic=not enhanced,
        has_enhanced=enhanced,
        severity_counts=counts if counts is not None else global_counts(findings),
        next_token=next_token,
    )


def finding(
    id: str = "CVE-2026-0001",
    severity: str = "HIGH",
    *,
    fix: Fix = Fix.UNKNOWN,
    fixed_in: str | None = None,
    package: str = "openssl",
    version: str = "3.0.1",
    status: str | None = None,
) -> Finding:
    return Finding(
        id=id,
        severity=severity,
        package=package,
        version=version,
        fixed_in=fixed_in,
        fix=fix,
        status=status,
        enhanced=fix is not Fix.UNKNOWN,
    )


@dataclass
class FakeScanApi:
    """Each first-page call takes the next step of `script` (the last one repeats).

    Pages after the first are looked up by token in `pages`; `starts` scripts
    StartImageScan (an exception is raised, a string returned).
    """

    script: list[Step]
    settings_value: ScanSettings = field(default_factory=lambda: ScanSettings(False, False))
    pages: dict[str, Step] = field(default_factory=dict)
    starts: list[str | Exception] = field(default_factory=lambda: ["IN_PROGRESS"])
    settings_error: list[Exception] = field(default_factory=list)
    #: the repositories that exist, when a test says (settings of another one is
    #: RepositoryNotFound, as ECR answers); None: any name is one
    repositories: set[str] | None = None
    #: the digests the registry holds, when a test says (a page or a scan of another one
    #: is ImageNotFound, as ECR answers); None: any digest is one
    digests: set[str] | None = None
    calls: list[tuple[str, str | None]] = field(default_factory=list)
    images: list[ImageRef] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def settings(self, repository: str) -> ScanSettings:
        with self.lock:
            self.calls.append(("settings", repository))
            if self.settings_error:
                raise self.settings_error.pop(0)
            if self.repositories is not None and repository not in self.repositories:
                raise RepositoryNotFound(
                    f"ECR BatchGetRepositoryScanningConfiguration {repository}:"
                    " REPOSITORY_NOT_FOUND"
                )
        return self.settings_value

    def _held(self, operation: str, image: ImageRef) -> None:
        """ECR looks the repository, then the image, up before it looks at any scan."""
        if self.repositories is not None and image.repository not in self.repositories:
            raise RepositoryNotFound(
                f"ECR {operation} {image}: RepositoryNotFoundException: The repository with"
                f" name '{image.repository}' does not exist"
            )
        if self.digests is not None and image.digest not in self.digests:
            raise ImageNotFound(
                f"ECR {operation} {image}: ImageNotFoundException: The image with imageId"
                f" {{imageDigest:'{image.digest}', imageTag:'null'}} does not exist within"
                f" the repository with name '{image.repository}'"
            )

    def findings_page(self, image: ImageRef, token: str | None = None) -> FindingsPage:
        with self.lock:
            self.calls.append(("page", token))
            self.images.append(image)
            self._held("DescribeImageScanFindings", image)
            if token is not None:
                step = self.pages[token]
            else:
                step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return step

    def start_scan(self, image: ImageRef) -> str:
        with self.lock:
            self.calls.append(("start", None))
            self.images.append(image)
            self._held("StartImageScan", image)
            step = self.starts.pop(0) if len(self.starts) > 1 else self.starts[0]
        if isinstance(step, Exception):
            raise step
        return step

    def count(self, kind: str) -> int:
        return sum(1 for c in self.calls if c[0] == kind)


class FakeTime:
    """A monotonic clock that only sleeping moves; also the wall clock."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.t += seconds

    def now(self) -> dt.datetime:
        return T0 + dt.timedelta(seconds=self.t - 1000.0)
