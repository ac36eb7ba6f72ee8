"""Server-side printing: the meta.k8s.io/v1 Table `kubectl get` asks for.

A real server fills the columns kubectl shows (NAME READY UP-TO-DATE
AVAILABLE AGE for Deployments, more with `-o wide`); the emulation does the
same for the resources it serves.
"""

from __future__ import annotations

from calendar import timegm
from collections.abc import Callable
from time import strptime
from typing import Any

Column = tuple[str, str, int]  # (name, type, priority: 1 = only with -o wide)
Row = Callable[[dict[str, Any], float], list[Any]]


def table(
    resource: str, items: list[dict[str, Any]], rv: str, now: float, include: str
) -> dict[str, Any]:
    columns, row = _LAYOUTS[resource]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": [
            {
                "name": name,
                "type": kind,
                "format": "name" if name == "Name" else "",
                "description": "",
                "priority": priority,
            }
            for name, kind, priority in columns
        ],
        "rows": [_row(item, row(item, now), include) for item in items],
    }


def _row(item: dict[str, Any], cells: list[Any], include: str) -> dict[str, Any]:
    result: dict[str, Any] = {"cells": cells}
    if include == "Object":
        result["object"] = item
    elif include != "None":
        result["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": item.get("metadata", {}),
        }
    return result


def age(created: str | None, now: float) -> str:
    """kubectl's short human duration (45s, 5m12s, 42m, 5h30m, 3d4h, 20d, 2y)."""
    if not created:
        return "<unknown>"
    try:
        seconds = int(now - timegm(strptime(created, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return "<invalid>"
    seconds = max(seconds, 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 730:
        return f"{days}d"
    return f"{days // 365}y"


def _containers(pod: dict[str, Any]) -> tuple[str, str]:
    containers = pod.get("containers") or []
    names = ",".join(str(c.get("name", "")) for c in containers)
    images = ",".join(str(c.get("image", "")) for c in containers)
    return names, images


def _selector(selector: dict[str, Any]) -> str:
    labels = selector.get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _deployment(item: dict[str, Any], now: float) -> list[Any]:
    spec, status = item.get("spec") or {}, item.get("status") or {}
    names, images = _containers(((spec.get("template") or {}).get("spec")) or {})
    return [
        item["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        age(item["metadata"].get("creationTimestamp"), now),
        names,
        images,
        _selector(spec.get("selector") or {}),
    ]


def _replica_set(item: dict[str, Any], now: float) -> list[Any]:
    spec, status = item.get("spec") or {}, item.get("status") or {}
    names, images = _containers(((spec.get("template") or {}).get("spec")) or {})
    return [
        item["metadata"]["name"],
        spec.get("replicas", 0),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        age(item["metadata"].get("creationTimestamp"), now),
        names,
        images,
        _selector(spec.get("selector") or {}),
    ]


def _namespace(item: dict[str, Any], now: float) -> list[Any]:
    return [
        item["metadata"]["name"],
        (item.get("status") or {}).get("phase", "Active"),
        age(item["metadata"].get("creationTimestamp"), now),
    ]


_WIDE: list[Column] = [
    ("Containers", "string", 1),
    ("Images", "string", 1),
    ("Selector", "string", 1),
]
_LAYOUTS: dict[str, tuple[list[Column], Row]] = {
    "deployments": (
        [
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Age", "string", 0),
            *_WIDE,
        ],
        _deployment,
    ),
    "replicasets": (
        [
            ("Name", "string", 0),
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Age", "string", 0),
            *_WIDE,
        ],
        _replica_set,
    ),
    "namespaces": (
        [("Name", "string", 0), ("Status", "string", 0), ("Age", "string", 0)],
        _namespace,
    ),
}
