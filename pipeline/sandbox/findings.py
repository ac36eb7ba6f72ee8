"""What `pipeline sandbox findings` scripts: the result of the next scan of an image.

Stdlib only: the CLI reads and checks the file here before anything is sent,
and the server checks the payload again with the same code (`from_payload`).

The file is JSON in one of the shapes DescribeImageScanFindings gives, so a
response saved from boto3 or `aws ecr describe-image-scan-findings` works as is:

    {"findings": [...]}                              basic scanning
    {"enhancedFindings": [...]}                      enhanced scanning (Inspector)
    {"imageScanFindings": {...}, "imageScanStatus": {...}, ...}   a whole response

`findingSeverityCounts`, when the file has it, is served as given (so a test
can script counts that disagree with the findings); otherwise it is counted
from the findings' `severity`. A whole response's `imageScanStatus` gives the
status and description unless `--status` says otherwise.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.sandbox.distribution import DIGEST, NAME, TAG

# Every status in botocore's ECR model; other strings pass through too, because
# a client has to cope with statuses AWS adds later.
STATUSES = (
    "COMPLETE",
    "IN_PROGRESS",
    "PENDING",
    "FAILED",
    "UNSUPPORTED_IMAGE",
    "ACTIVE",
    "SCAN_ELIGIBILITY_EXPIRED",
    "FINDINGS_UNAVAILABLE",
    "LIMIT_EXCEEDED",
    "IMAGE_ARCHIVED",
    "IMAGE_SIZE_EXCEEDED",
)
DEFAULT_STATUS = "COMPLETE"
MAX_FILE = 32 << 20  # tens of thousands of enhanced findings
MAX_DELAY = 86400.0  # ECR's own scan quota window: one scan per image per 24 h
MAX_TEXT = 1024
LISTS = ("findings", "enhancedFindings")
TIMES = ("imageScanCompletedAt", "vulnerabilitySourceUpdatedAt")  # kept when the file has them
_STATUS = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True)
class Target:
    """REPOSITORY, REPOSITORY:TAG or REPOSITORY@sha256:...; no reference: any image."""

    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> Target:
        name, at, digest = text.partition("@")
        if at:
            if not DIGEST.fullmatch(digest):
                raise ValueError(f"{text!r}: the digest must be sha256:<64 hex digits>")
            return cls(_repository(name, text), digest=digest)
        name, colon, tag = text.partition(":")
        if colon and not TAG.fullmatch(tag):
            raise ValueError(f"{text!r}: {tag!r} is not a valid image tag")
        return cls(_repository(name, text), tag=tag if colon else None)

    @property
    def reference(self) -> str | None:
        return self.digest or self.tag

    def __str__(self) -> str:
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}" if self.tag else self.repository


def _repository(name: str, text: str) -> str:
    if not (2 <= len(name) <= 256 and NAME.fullmatch(name)):
        raise ValueError(
            f"{text!r}: {name!r} is not an ECR repository name "
            "(2-256 characters: lowercase letters, digits, and . _ - / between them)"
        )
    return name


@dataclass(frozen=True)
class ScanScript:
    status: str = DEFAULT_STATUS
    delay: float = 0.0  # seconds spent IN_PROGRESS before `status`
    description: str | None = None
    findings: list[dict[str, Any]] | None = None  # basic
    enhanced_findings: list[dict[str, Any]] | None = None  # Inspector's shape
    counts: dict[str, int] | None = None  # findingSeverityCounts as the file gave them
    extra: dict[str, Any] = field(default_factory=dict)  # imageScanCompletedAt, ...

    @property
    def enhanced(self) -> bool:
        return self.enhanced_findings is not None

    def severity_counts(self) -> dict[str, int]:
        if self.counts is not None:
            return dict(self.counts)
        counts: dict[str, int] = {}
        for finding in (self.findings or []) + (self.enhanced_findings or []):
            severity = finding.get("severity")
            key = severity if isinstance(severity, str) and severity else "UNDEFINED"
            counts[key] = counts.get(key, 0) + 1
        return counts


def read_document(path: str | os.PathLike[str]) -> Any:
    """The JSON of a regular file of at most MAX_FILE bytes (never blocks on a FIFO)."""
    where = Path(path)
    try:
        fd = os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise ValueError(f"{where}: cannot open: {err.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(f"{where}: not a regular file")
        pieces: list[bytes] = []
        size = 0
        while size <= MAX_FILE and (piece := os.read(fd, MAX_FILE + 1 - size)):
            pieces.append(piece)
            size += len(piece)
        data = b"".join(pieces)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE:
        raise ValueError(f"{where}: larger than {MAX_FILE >> 20} MiB")
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise ValueError(f"{where}: not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{where}:{err.lineno}:{err.colno}: not JSON: {err.msg}") from None
    except RecursionError:
        raise ValueError(f"{where}: nested too deeply") from None


def script_from_document(
    document: Any, status: str | None = None, delay: float = 0.0, origin: str = "the file"
) -> ScanScript:
    """A ScanScript from the file's JSON; ValueError says what is wrong and where."""
    if not isinstance(document, dict):
        raise ValueError(f"{origin}: expected a JSON object with findings or enhancedFindings")
    body = document.get("imageScanFindings", document)
    if not isinstance(body, dict):
        raise ValueError(f"{origin}: imageScanFindings must be an object")
    described = None
    scan_status = document.get("imageScanStatus")
    if isinstance(scan_status, dict):
        status = status or _text(scan_status.get("status"), "imageScanStatus.status", origin)
        described = _text(scan_status.get("description"), "imageScanStatus.description", origin)
    status = status or DEFAULT_STATUS
    if status.upper() in STATUSES:  # `--status complete` means COMPLETE, not a new status
        status = status.upper()
    return _script(body, status, delay, described, origin)


def _script(
    body: dict[str, Any], status: str, delay: Any, description: str | None, origin: str
) -> ScanScript:
    lists = {key: _findings(body[key], key, origin) for key in LISTS if key in body}
    if not lists:
        raise ValueError(
            f"{origin}: has neither findings nor enhancedFindings "
            '(for a clean scan, write {"findings": []})'
        )
    return check(
        ScanScript(
            status=status,
            delay=delay,
            description=description,
            findings=lists.get("findings"),
            enhanced_findings=lists.get("enhancedFindings"),
            counts=_counts(body.get("findingSeverityCounts"), origin),
            extra={k: body[k] for k in TIMES if k in body},
        ),
        origin,
    )


def check(script: ScanScript, origin: str = "the request") -> ScanScript:
    if not _STATUS.fullmatch(script.status):
        raise ValueError(
            f"{origin}: status {script.status!r} is not a status word "
            f"(ECR's: {', '.join(STATUSES)}; other words pass through as given)"
        )
    delay = script.delay
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not math.isfinite(delay):
        raise ValueError(f"{origin}: the delay must be a number of seconds")
    if not 0 <= delay <= MAX_DELAY:
        raise ValueError(f"{origin}: the delay must be within 0..{MAX_DELAY:.0f} seconds")
    return script


def to_payload(target: Target, script: ScanScript) -> dict[str, Any]:
    """The `findings` action's request (see channel.py)."""
    payload: dict[str, Any] = {
        "repository": target.repository,
        "tag": target.tag,
        "digest": target.digest,
        "status": script.status,
        "delay": script.delay,
        "description": script.description,
        **script.extra,
    }
    if script.findings is not None:
        payload["findings"] = script.findings
    if script.enhanced_findings is not None:
        payload["enhancedFindings"] = script.enhanced_findings
    if script.counts is not None:
        payload["findingSeverityCounts"] = script.counts
    return payload


def from_payload(payload: dict[str, Any]) -> tuple[Target, ScanScript]:
    """The server's reading of `to_payload`; ValueError when it is not one."""
    repository = payload.get("repository")
    if not isinstance(repository, str):
        raise ValueError("the request names no repository")
    tag, digest = payload.get("tag"), payload.get("digest")
    text = repository + (f"@{digest}" if digest else f":{tag}" if tag else "")
    target = Target.parse(text)
    status = payload.get("status") or DEFAULT_STATUS
    if not isinstance(status, str):
        raise ValueError("the request's status is not a string")
    origin = "the request"
    description = _text(payload.get("description"), "description", origin)
    return target, _script(payload, status, payload.get("delay", 0.0), description, origin)


def _findings(value: Any, key: str, origin: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError(f"{origin}: {key} must be a list of objects")
    return value


def _counts(value: Any, origin: str) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value.values()
    ):
        raise ValueError(f"{origin}: findingSeverityCounts must map severities to counts")
    return value


def _text(value: Any, key: str, origin: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ValueError(f"{origin}: {key} must be a string of at most {MAX_TEXT} characters")
    return value
