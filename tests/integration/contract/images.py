"""Layer-less images for the port contracts, and how each side of a contract gets one
into its registry: the fake stores it, the sandbox receives it over the HTTP API."""

from __future__ import annotations

import hashlib
import json

from pipeline.adapters.ports import Manifest
from tests.integration.sandbox.support import RegistryHttp
from tests.unit.fakes import FakeRegistry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image(labels: dict[str, str]) -> tuple[bytes, Manifest]:
    """A layer-less image: its config blob (with the labels) and its manifest."""
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": labels},
            "rootfs": {"type": "layers", "diff_ids": []},
        },
        sort_keys=True,
    ).encode()
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": digest(config), "size": len(config)},
            "layers": [],
        },
        sort_keys=True,
    ).encode()
    return config, Manifest(digest(body), OCI_MANIFEST, body)


def seed_fake(
    registry: FakeRegistry, repository: str, tag: str, labels: dict[str, str]
) -> Manifest:
    _config, manifest = image(labels)
    registry.store(repository, tag, manifest, labels=labels)
    return manifest


def seed_real(
    raw: RegistryHttp, host: str, repository: str, tag: str, labels: dict[str, str]
) -> Manifest:
    """Upload the config blob, then put the manifest under `tag` (what a push does)."""
    config, manifest = image(labels)
    status, headers, body = raw.call("POST", f"/v2/{repository}/blobs/uploads/")
    assert status == 202, (status, body)
    path = headers["Location"].split(host, 1)[-1]
    joiner = "&" if "?" in path else "?"
    status, _, body = raw.call(
        "PUT",
        f"{path}{joiner}digest={digest(config)}",
        config,
        {"Content-Type": "application/octet-stream"},
    )
    assert status == 201, (status, body)
    status, _, body = raw.call(
        "PUT",
        f"/v2/{repository}/manifests/{tag}",
        manifest.body,
        {"Content-Type": manifest.media_type},
    )
    assert status == 201, (status, body)
    return manifest
