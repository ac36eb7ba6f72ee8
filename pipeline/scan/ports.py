"""The registry's scan API as the wait loop sees it, and the values crossing it.

`pipeline.adapters.ecr_scan` implements it with boto3; tests use fakes. The
adapter translates the vendor's error codes into the errors below, so the
wait loop decides what to do from a type, never from a message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from pipeline.errors import StageError
from pipeline.scan.findings import Finding


@dataclass(frozen=True)
class ImageRef:
    """An image pinned by the digest that was pushed; a tag is never looked up again."""

    repository: str
    digest: str
    registry_id: str | None = None

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest}"


@dataclass(frozen=True)
class ScanSettings:
    """How the registry scans one repository."""

    #: Amazon Inspector (enhanced) scanning, which refuses StartImageScan
    enhanced: bool
    #: scans start by themselves on push (SCAN_ON_PUSH or CONTINUOUS_SCAN rules,
    #: or the repository's older scanOnPush flag)
    on_push: bool


@dataclass(frozen=True)
class FindingsPage:
    """One page of DescribeImageScanFindings for one image."""

    status: str
    description: str | None
    completed_at: dt.datetime | None
    findings: tuple[Finding, ...]
    has_basic: bool
    has_enhanced: bool
    #: the registry's own totals over every page (compared, never copied)
    severity_counts: dict[str, int]
    next_token: str | None


class ScanApi(Protocol):
    def settings(self, repository: str) -> ScanSettings:
        """The repository's scanning configuration."""
        ...

    def findings_page(self, image: ImageRef, token: str | None = None) -> FindingsPage:
        """One page of the image's scan status and findings (first page: token None)."""
        ...

    def start_scan(self, image: ImageRef) -> str:
        """Starts a basic scan of the image; returns the status the registry answers."""
        ...


class ScanError(StageError):
    """A scan API call failed; names the operation and the image or repository."""


class ScanNotFound(ScanError):
    """No scan exists for the image (yet)."""


class LimitExceeded(ScanError):
    """The scan quota is used up (basic: one scan per image per day)."""


class Throttled(ScanError):
    """The API asked us to slow down, or failed in a way worth another try."""


class ImageNotFound(ScanError):
    """The registry has no image with that digest."""


class RepositoryNotFound(ScanError):
    """The repository does not exist."""


class ScanNotStartable(ScanError):
    """The registry refuses to start a scan (enhanced scanning, unsupported image type)."""


class UnsupportedImage(ScanNotStartable):
    """The registry cannot scan this kind of image (e.g. its operating system)."""


class ScanAccessDenied(ScanError):
    """The credentials may not call this scan API."""
