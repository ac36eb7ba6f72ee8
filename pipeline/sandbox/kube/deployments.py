"""A Deployment as the API server stores it: defaulted, validated, and its pod
template's hash (the `pod-template-hash` of its ReplicaSets).

The defaults are the ones a real server fills in, so what a client reads back
(and what `kubectl apply` three-way merges against) has the same fields.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pipeline.sandbox.kube.selectors import matches_selector

Cause = tuple[str, str, str]  # (field, reason, message)

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# The alphabet Kubernetes uses for generated names: no vowels, no look-alikes.
_SAFE = "bcdfghjklmnpqrstvwxz2456789"


def apply_defaults(deployment: dict[str, Any]) -> dict[str, Any]:
    """Fill in what a real server fills in; changes and returns `deployment`."""
    spec = deployment.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
    pod = spec.setdefault("template", {}).setdefault("spec", {})
    pod.setdefault("restartPolicy", "Always")
    pod.setdefault("terminationGracePeriodSeconds", 30)
    pod.setdefault("dnsPolicy", "ClusterFirst")
    pod.setdefault("securityContext", {})
    pod.setdefault("schedulerName", "default-scheduler")
    for key in ("containers", "initContainers"):
        for container in pod.get(key) or []:
            _container_defaults(container)
    return deployment


def _container_defaults(container: dict[str, Any]) -> None:
    container.setdefault("resources", {})
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    image = str(container.get("image") or "")
    last = image.rsplit("/", 1)[-1]
    untagged_or_latest = "@" not in image and (":" not in last or last.endswith(":latest"))
    container.setdefault("imagePullPolicy", "Always" if untagged_or_latest else "IfNotPresent")
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")


def validate(deployment: dict[str, Any], old: dict[str, Any] | None = None) -> list[Cause]:
    """What a real server answers 422 Invalid for (the common cases)."""
    causes: list[Cause] = []
    name = (deployment.get("metadata") or {}).get("name") or ""
    if not name:
        causes.append(("metadata.name", "FieldValueRequired", "Required value: name is required"))
    elif len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        causes.append(
            (
                "metadata.name",
                "FieldValueInvalid",
                f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
                "case alphanumeric characters, '-' or '.', and must start and end with an "
                "alphanumeric character",
            )
        )
    spec = deployment.get("spec") or {}
    causes += _selector_causes(spec)
    causes += _numbers(spec)
    strategy = spec.get("strategy") or {}
    if strategy.get("type") not in ("RollingUpdate", "Recreate"):
        causes.append(
            (
                "spec.strategy.type",
                "FieldValueNotSupported",
                f'Unsupported value: "{strategy.get("type")}": supported values: '
                '"Recreate", "RollingUpdate"',
            )
        )
    elif strategy["type"] == "Recreate" and strategy.get("rollingUpdate") is not None:
        causes.append(
            (
                "spec.strategy.rollingUpdate",
                "FieldValueForbidden",
                "Forbidden: may not be specified when strategy `type` is 'Recreate'",
            )
        )
    causes += _pod_causes(((spec.get("template") or {}).get("spec")) or {})
    if old is not None and (old.get("spec") or {}).get("selector") != spec.get("selector"):
        causes.append(
            (
                "spec.selector",
                "FieldValueInvalid",
                f"Invalid value: {json.dumps(spec.get('selector'))}: field is immutable",
            )
        )
    return causes


def _selector_causes(spec: dict[str, Any]) -> list[Cause]:
    selector = spec.get("selector")
    if not selector:
        return [("spec.selector", "FieldValueRequired", "Required value")]
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return [
            (
                "spec.selector",
                "FieldValueInvalid",
                f"Invalid value: {json.dumps(selector)}: empty selector is invalid for deployment",
            )
        ]
    labels = (((spec.get("template") or {}).get("metadata")) or {}).get("labels") or {}
    if not matches_selector(selector, labels):
        return [
            (
                "spec.template.metadata.labels",
                "FieldValueInvalid",
                f"Invalid value: {json.dumps(labels)}: `selector` does not match template `labels`",
            )
        ]
    return []


def _numbers(spec: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    for key in ("replicas", "minReadySeconds", "revisionHistoryLimit"):
        value = spec.get(key)
        if isinstance(value, int) and value < 0:
            causes.append(
                (
                    f"spec.{key}",
                    "FieldValueInvalid",
                    f"Invalid value: {value}: must be greater than or equal to 0",
                )
            )
    deadline, ready = spec.get("progressDeadlineSeconds"), spec.get("minReadySeconds") or 0
    if isinstance(deadline, int) and deadline <= ready:
        causes.append(
            (
                "spec.progressDeadlineSeconds",
                "FieldValueInvalid",
                f"Invalid value: {deadline}: must be greater than minReadySeconds",
            )
        )
    return causes


def _pod_causes(pod: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    base = "spec.template.spec"
    if not pod.get("containers"):
        causes.append((f"{base}.containers", "FieldValueRequired", "Required value"))
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        for i, container in enumerate(pod.get(key) or []):
            where = f"{base}.{key}[{i}]"
            name = container.get("name") or ""
            if not name:
                causes.append((f"{where}.name", "FieldValueRequired", "Required value"))
            elif not valid_label(name):
                causes.append(
                    (
                        f"{where}.name",
                        "FieldValueInvalid",
                        f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of '
                        "lower case alphanumeric characters or '-', and must start and end with "
                        "an alphanumeric character",
                    )
                )
            elif name in seen:
                causes.append(
                    (f"{where}.name", "FieldValueDuplicate", f'Duplicate value: "{name}"')
                )
            seen.add(name)
            if not str(container.get("image") or "").strip():
                causes.append((f"{where}.image", "FieldValueRequired", "Required value"))
    policy = pod.get("restartPolicy")
    if policy not in (None, "Always"):
        causes.append(
            (
                f"{base}.restartPolicy",
                "FieldValueNotSupported",
                f'Unsupported value: "{policy}": supported values: "Always"',
            )
        )
    return causes


def template_hash(template: Any) -> str:
    """A stable short name for a pod template (real servers use FNV; any stable hash does)."""
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    number = int.from_bytes(hashlib.sha256(canonical).digest()[:8], "big")
    chars = []
    for _ in range(10):
        number, rest = divmod(number, len(_SAFE))
        chars.append(_SAFE[rest])
    return "".join(chars)


def valid_label(name: str) -> bool:
    """An RFC 1123 label (namespace and container names)."""
    return len(name) <= 63 and bool(_DNS_LABEL.match(name))
