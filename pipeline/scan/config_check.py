"""Scanning needs a registry with a scan API: only private ECR has one.

`problems` has the shape of the cross-field checks in `pipeline.config.checks`
(raw YAML data in, (key path, message) pairs out) so it can run with them.
A file that leaves the `scan` section out on ECR Public or a generic registry
is fine: scanning is then simply off there (`applies`); asking for it is the
error, so nobody believes a release was scanned when it was not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipeline.config.schema import Config

SCANNING_REGISTRIES = frozenset({"ecr"})


def problems(root: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if not isinstance(root, dict):
        return
    registry = root.get("registry")
    kind = str(registry.get("type", "ecr") if isinstance(registry, dict) else "ecr").lower()
    scan = root.get("scan")
    if kind in SCANNING_REGISTRIES or not isinstance(scan, dict) or scan.get("enabled") is False:
        return
    where: tuple[str | int, ...] = ("scan", "enabled") if "enabled" in scan else ("scan",)
    yield (
        where,
        f"registry type {kind} has no scan API to wait for; set scan.enabled: false"
        " (and scan the image with another tool)",
    )


def applies(config: Config) -> bool:
    """Whether this run scans and gates at all."""
    return config.scan.enabled and config.registry.type in SCANNING_REGISTRIES
