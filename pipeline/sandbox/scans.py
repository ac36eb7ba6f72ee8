"""ECR image scanning, emulated: scripted results, scan on push, pagination.

moto's scanning is a stub (reference/scan-gate-and-moto.md (c)): it never
scans on push, answers one fixed HIGH finding, ignores maxResults and can
script no progression. Here instead:

- A scan starts when a manifest lands in a repository that scans on push (its
  `imageScanningConfiguration.scanOnPush`, or a registry scanning rule with
  SCAN_ON_PUSH or CONTINUOUS_SCAN whose filter matches: `*` is a wildcard, a
  filter without one matches as a substring), through the registry's webhook
  or PutImage; only for a digest ECR did not have yet, as in ECR. Otherwise it
  starts when StartImageScan is called (scans.py `start`, by aws_scans.py).
- The scan returns the result scripted for that image by `pipeline sandbox
  findings` (by digest, else by one of its tags, else for the repository),
  once: a script is used by one scan. Without one it completes clean.
- It is IN_PROGRESS for the script's delay, then has the script's status.
  Findings are served while it is COMPLETE or ACTIVE, or in any other status
  when the script gave some. `findingSeverityCounts` comes from the script, or
  is counted from the findings.
- ScanNotFoundException until a scan exists; LimitExceededException for a
  StartImageScan within 24 hours of the image's last scan (ECR's quota, a
  scan on push included); StartImageScan on an ENHANCED registry is refused
  (ValidationException), since Inspector scans there.
- DescribeImageScanFindings pages by maxResults (1..1000, default 100) with
  a nextToken tied to the scan; DescribeImages carries imageScanStatus and
  imageScanFindingsSummary.

Time comes from `now` and status is computed when asked, so nothing ticks.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pipeline.sandbox.channel import ActionError
from pipeline.sandbox.ecr import EcrState, wildcard
from pipeline.sandbox.findings import ScanScript, from_payload

QUOTA = timedelta(hours=24)
DEFAULT_PAGE = 100
MAX_PAGE = 1000
FINISHED_WITH_FINDINGS = ("COMPLETE", "ACTIVE")
ON_PUSH = ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")
DESCRIPTIONS = {
    "IN_PROGRESS": "The scan is in progress.",
    "PENDING": "The scan is pending.",
    "COMPLETE": "The scan was completed successfully.",
    "ACTIVE": "Continuous scan is selected for image.",
    "FAILED": "The scan failed.",
    "UNSUPPORTED_IMAGE": (
        "UnsupportedImageError: The operating system and/or package manager are not supported."
    ),
    "SCAN_ELIGIBILITY_EXPIRED": "Continuous scanning has expired for the image.",
    "FINDINGS_UNAVAILABLE": "Findings are not available for this image.",
    "LIMIT_EXCEEDED": "The scan quota for the image has been exceeded.",
    "IMAGE_ARCHIVED": "The image is archived and cannot be scanned.",
    "IMAGE_SIZE_EXCEEDED": "The image exceeds the maximum size that can be scanned.",
}


class ScanError(Exception):
    """An ECR API error (code from ECR's model); aws_scans.py raises it as moto's."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Scan:
    id: str
    script: ScanScript
    started: datetime
    enhanced: bool

    @property
    def finished_at(self) -> datetime:
        return self.started + timedelta(seconds=self.script.delay)

    def status(self, now: datetime) -> str:
        return "IN_PROGRESS" if now < self.finished_at else self.script.status

    def description(self, now: datetime) -> str:
        status = self.status(now)
        if status == "IN_PROGRESS" or self.script.description is None:
            return DESCRIPTIONS.get(status, f"The scan ended with status {status}.")
        return self.script.description

    def has_findings(self, now: datetime) -> bool:
        status = self.status(now)
        if status == "IN_PROGRESS":
            return False
        scripted = bool(self.script.findings or self.script.enhanced_findings)
        return status in FINISHED_WITH_FINDINGS or scripted

    def items(self) -> list[tuple[str, dict[str, Any]]]:
        """Every finding with the list it belongs to, in the order pages serve them."""
        basic = [("findings", f) for f in self.script.findings or []]
        return basic + [("enhancedFindings", f) for f in self.script.enhanced_findings or []]

    def lists(self) -> tuple[str, ...]:
        """The lists this scan answers with, even when empty."""
        if self.script.findings is None and self.script.enhanced_findings is None:
            return ("enhancedFindings",) if self.enhanced else ("findings",)
        present = (
            ("findings", self.script.findings),
            ("enhancedFindings", self.script.enhanced_findings),
        )
        return tuple(key for key, value in present if value is not None)


class Scanner:
    """The scans of one ECR registry (the sandbox's account and region)."""

    def __init__(
        self,
        ecr: EcrState,
        lock: threading.RLock | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        conform: Callable[[ScanScript], ScanScript] = lambda script: script,
    ) -> None:
        self.ecr = ecr
        self.lock = lock or threading.RLock()
        self.now = now
        self._conform = conform  # checks the script against ECR's model (aws_scans.py)
        self._scripts: dict[tuple[str, str | None], ScanScript] = {}
        self._scans: dict[tuple[str, str], Scan] = {}

    # -- the control channel's "findings" action --------------------------------

    def script(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            target, script = from_payload(request)
            script = self._conform(script)
        except ValueError as err:
            raise ActionError(str(err)) from None
        with self.lock:
            if self.ecr.repository(target.repository) is None:
                raise ActionError(
                    f"no ECR repository {target.repository!r} in the sandbox "
                    f"(account {self.ecr.account}, {self.ecr.region}): create it first"
                )
            replaced = (target.repository, target.reference) in self._scripts
            self._scripts[target.repository, target.reference] = script
            scanned = self._scanned(target.repository, target.reference)
        answer = {"target": str(target), "replaced": replaced, "status": script.status}
        if scanned is not None:  # the image there now will not use it for 24 hours
            answer["scanned_at"] = scanned.started.isoformat()
        return answer

    def _scanned(self, repository: str, reference: str | None) -> Scan | None:
        """The scan of the image `reference` names now, if it has one."""
        if reference is None:
            return None
        for digest, tags in self.ecr.snapshot(repository).items():
            if reference == digest or reference in tags:
                return self._scans.get((repository, digest))
        return None

    # -- scan on push (Bridge.on_new_image) -------------------------------------

    def pushed(self, repository: str, digest: str) -> None:
        """A digest new to ECR: forget any scan of an earlier image with it, maybe scan."""
        with self.lock:
            self._scans.pop((repository, digest), None)
            if self.scans_on_push(repository):
                self._start(repository, digest)

    def scans_on_push(self, repository: str) -> bool:
        repo = self.ecr.repository(repository)
        if repo is None:
            return False
        settings = self._registry_settings()
        enhanced = settings.get("scanType") == "ENHANCED"
        if not enhanced and (repo.image_scanning_configuration or {}).get("scanOnPush"):
            return True
        for rule in settings.get("rules") or []:
            if rule.get("scanFrequency") not in ON_PUSH:
                continue
            for entry in rule.get("repositoryFilters") or []:
                pattern = str(entry.get("filter", ""))
                if wildcard(pattern, repository) if "*" in pattern else pattern in repository:
                    return True
        return False

    # -- the API (aws_scans.py) ---------------------------------------------------

    def start(self, repository: str, image_id: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            image = self._image(repository, image_id)
            digest = image.get_image_digest()
            if self._registry_settings().get("scanType") == "ENHANCED":
                raise ScanError(
                    "ValidationException",
                    "This registry is configured for enhanced scanning: images are scanned "
                    "by Amazon Inspector, and StartImageScan is not supported.",
                )
            last = self._scans.get((repository, digest))
            if last is not None and self.now() - last.started < QUOTA:
                raise ScanError(
                    "LimitExceededException",
                    "The scan quota per image has been exceeded. Wait and try again.",
                )
            scan = self._start(repository, digest)
            return {
                "registryId": self.ecr.account,
                "repositoryName": repository,
                "imageId": _image_id(digest, image_id.get("imageTag")),
                "imageScanStatus": {
                    "status": scan.status(scan.started),
                    "description": scan.description(scan.started),
                },
            }

    def describe(
        self,
        repository: str,
        image_id: dict[str, Any],
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """DescribeImageScanFindings: one page."""
        size = DEFAULT_PAGE if max_results is None else max_results
        if not 1 <= size <= MAX_PAGE:
            raise ScanError(
                "InvalidParameterException",
                "Invalid parameter at 'maxResults' failed to satisfy constraint: "
                f"'Member must have value between 1 and {MAX_PAGE}'",
            )
        with self.lock:
            image = self._image(repository, image_id)
            digest = image.get_image_digest()
            scan = self._scans.get((repository, digest))
            if scan is None:
                shown = ", ".join(
                    f"{key}:'{image_id.get(key) or 'null'}'" for key in ("imageDigest", "imageTag")
                )
                raise ScanError(
                    "ScanNotFoundException",
                    f"Image scan does not exist for the image with '{{{shown}}}' in the "
                    f"repository with name '{repository}' in the registry with id "
                    f"'{self.ecr.account}'",
                )
            now = self.now()
            answer: dict[str, Any] = {
                "registryId": self.ecr.account,
                "repositoryName": repository,
                "imageId": _image_id(digest, image_id.get("imageTag")),
                "imageScanStatus": {
                    "status": scan.status(now),
                    "description": scan.description(now),
                },
            }
            offset = _offset(next_token, scan) if next_token else 0
            if not scan.has_findings(now):
                return answer
            items = scan.items()
            page = items[offset : offset + size]
            findings = self._summary(scan)
            for key in scan.lists():
                findings[key] = [finding for kind, finding in page if kind == key]
            answer["imageScanFindings"] = findings
            if offset + size < len(items):
                answer["nextToken"] = _token(scan, offset + size)
            return answer

    def summary(self, repository: str, digest: str) -> dict[str, Any]:
        """What DescribeImages adds to an image: imageScanStatus and the findings summary."""
        with self.lock:
            scan = self._scans.get((repository, digest))
            if scan is None:
                return {}
            now = self.now()
            extra: dict[str, Any] = {
                "imageScanStatus": {
                    "status": scan.status(now),
                    "description": scan.description(now),
                }
            }
            if scan.has_findings(now):
                extra["imageScanFindingsSummary"] = self._summary(scan)
            return extra

    # -- the parts ------------------------------------------------------------------

    def _start(self, repository: str, digest: str) -> Scan:
        tags: list[str] = list(self.ecr.snapshot(repository).get(digest, ()))
        script = None
        for reference in (digest, *tags, None):
            script = self._scripts.pop((repository, reference), None)
            if script is not None:
                break
        enhanced = self._registry_settings().get("scanType") == "ENHANCED"
        scan = Scan(secrets.token_hex(8), script or ScanScript(), self.now(), enhanced)
        self._scans[repository, digest] = scan
        return scan

    def _summary(self, scan: Scan) -> dict[str, Any]:
        extra = scan.script.extra
        return {
            "imageScanCompletedAt": extra.get("imageScanCompletedAt", scan.finished_at),
            "vulnerabilitySourceUpdatedAt": extra.get(
                "vulnerabilitySourceUpdatedAt", scan.finished_at
            ),
            "findingSeverityCounts": scan.script.severity_counts(),
        }

    def _image(self, repository: str, image_id: dict[str, Any]) -> Any:
        repo = self.ecr.repository(repository)
        if repo is None:
            raise ScanError(
                "RepositoryNotFoundException",
                f"The repository with name '{repository}' does not exist in the registry "
                f"with id '{self.ecr.account}'",
            )
        tag, digest = image_id.get("imageTag"), image_id.get("imageDigest")
        for image in repo.images:
            if (
                (not tag or tag in image.image_tags)
                and (not digest or digest == image.get_image_digest())
                and (tag or digest)
            ):
                return image
        raise ScanError(
            "ImageNotFoundException",
            f"The image with imageId {{imageDigest:'{digest or 'null'}', "
            f"imageTag:'{tag or 'null'}'}} does not exist within the repository with name "
            f"'{repository}' in the registry with id '{self.ecr.account}'",
        )

    def _registry_settings(self) -> dict[str, Any]:
        return self.ecr.registry_scanning_configuration()


def _image_id(digest: str, tag: Any) -> dict[str, str]:
    return {"imageDigest": digest, **({"imageTag": tag} if isinstance(tag, str) else {})}


def _token(scan: Scan, offset: int) -> str:
    raw = json.dumps({"scan": scan.id, "offset": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _offset(token: str, scan: Scan) -> int:
    """The offset a nextToken stands for; only the scan that made it accepts it."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = data["offset"]
        valid = data["scan"] == scan.id and isinstance(offset, int) and offset >= 0
    except (ValueError, KeyError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise ScanError(
            "InvalidParameterException",
            "Invalid parameter at 'nextToken' failed to satisfy constraint: "
            "'the token is not one this scan gave'",
        )
    return int(offset)
