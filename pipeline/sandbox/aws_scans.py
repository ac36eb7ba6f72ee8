"""moto's ECR scanning calls, answered by the sandbox's Scanner (scans.py).

StartImageScan and DescribeImageScanFindings go to the Scanner; DescribeImages
gets each image's imageScanStatus and imageScanFindingsSummary added. As in
aws.py, only calls in the sandbox's own account and region are changed.

`conform` checks a scripted result against ECR's model once, when it is
scripted: timestamps may be written as ISO 8601 text or epoch seconds (as the
AWS CLI and boto3 print them) and become datetimes, and a value of the wrong
type is refused with its path, instead of failing every later
DescribeImageScanFindings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from pipeline.sandbox import moto_patch
from pipeline.sandbox.findings import TIMES, ScanScript
from pipeline.sandbox.scans import ScanError, Scanner

_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "double": (int, float),
    "float": (int, float),
    "boolean": (bool,),
}


def patch_scans(scanner: Scanner) -> Callable[[], None]:
    """Route the scanning calls to `scanner`; returns the undo."""
    from moto.core.responses import ActionResult
    from moto.ecr.responses import ECRResponse

    names = ("start_image_scan", "describe_image_scan_findings", "describe_images")
    patch = moto_patch.Patch(ECRResponse, names)
    originals = patch.originals
    EcrError = moto_patch.error_type()

    def ours(response: Any) -> bool:
        return moto_patch.ours(response, scanner.ecr.account, scanner.ecr.region)

    def start_image_scan(self: Any) -> Any:
        if not ours(self):
            return originals["start_image_scan"](self)
        try:
            result = scanner.start(self._get_param("repositoryName"), self._get_param("imageId"))
        except ScanError as err:
            raise EcrError(err.code, err.message) from err
        return ActionResult(result)

    def describe_image_scan_findings(self: Any) -> Any:
        if not ours(self):
            return originals["describe_image_scan_findings"](self)
        try:
            result = scanner.describe(
                self._get_param("repositoryName"),
                self._get_param("imageId"),
                self._get_param("maxResults"),
                self._get_param("nextToken"),
            )
        except ScanError as err:
            raise EcrError(err.code, err.message) from err
        return ActionResult(result)

    def describe_images(self: Any) -> Any:
        answer = originals["describe_images"](self)
        if ours(self):
            for detail in answer.result["imageDetails"]:
                extra = scanner.summary(detail.repository_name, detail.get_image_digest())
                detail.image_scan_status = extra.get("imageScanStatus")
                detail.image_scan_findings_summary = extra.get("imageScanFindingsSummary")
        return answer

    return patch.install(
        {
            "start_image_scan": start_image_scan,
            "describe_image_scan_findings": describe_image_scan_findings,
            "describe_images": describe_images,
        }
    )


def conform(script: ScanScript) -> ScanScript:
    """The script with its findings checked against ECR's shapes (ValueError otherwise)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("ecr")
    basic = model.shape_for("ImageScanFinding")
    enhanced = model.shape_for("EnhancedImageScanFinding")
    stamp = model.shape_for("ScanTimestamp")
    findings = script.findings
    if findings is not None:
        findings = [_conform(f, basic, f"findings[{i}]") for i, f in enumerate(findings)]
    extended = script.enhanced_findings
    if extended is not None:
        extended = [_conform(f, enhanced, f"enhancedFindings[{i}]") for i, f in enumerate(extended)]
    extra = {
        key: _conform(value, stamp, key) for key, value in script.extra.items() if key in TIMES
    }
    return dataclasses.replace(script, findings=findings, enhanced_findings=extended, extra=extra)


def _conform(value: Any, shape: Any, path: str) -> Any:
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected an object ({shape.name})")
        members = shape.members
        return {
            key: _conform(item, members[key], f"{path}.{key}") if key in members else item
            for key, item in value.items()
        }
    if kind == "list":
        if not isinstance(value, list):
            raise ValueError(f"{path}: expected a list")
        return [_conform(item, shape.member, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected an object")
        return {key: _conform(item, shape.value, f"{path}.{key}") for key, item in value.items()}
    if kind == "timestamp":
        return _timestamp(value, path)
    expected = _SCALARS.get(kind)
    wrong_bool = isinstance(value, bool) and kind != "boolean"
    if expected is not None and (wrong_bool or not isinstance(value, expected)):
        raise ValueError(f"{path}: expected {kind}, not {type(value).__name__}")
    return value


def _timestamp(value: Any, path: str) -> datetime:
    from botocore.utils import parse_timestamp

    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{path}: expected a timestamp (ISO 8601 text or epoch seconds)")
    try:
        parsed: datetime = parse_timestamp(value)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"{path}: {value!r} is not a timestamp") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
