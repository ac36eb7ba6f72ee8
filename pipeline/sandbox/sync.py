"""Keeps the emulated ECR (control plane) and the registry (data plane) in step.

Registry to ECR: the registry's push notifications reach `pushed`, which reads
the manifest back, checks its sha256 against the event and records it in ECR
under that real digest. ECR to registry: the patched PutImage,
BatchDeleteImage and DeleteRepository calls (aws.py) go through `put_image`,
`delete_images` and `delete_repository`, which change the registry first or
right after, under the same lock.

No loops: writes made here carry SYNC_AGENT, whose notifications the webhook
drops, and ECR is written here directly, never through its API. Every ECR
change wakes `wait_for`, which is how the proxy gives read-your-writes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pipeline.sandbox.distribution import DistributionClient, RegistryRefused
from pipeline.sandbox.ecr import EcrState

LOG = logging.getLogger("pipeline.sandbox.sync")
T = TypeVar("T")
_INDEX_TYPES = ("manifest.list", "image.index")


class ApiError(Exception):
    """An ECR API error, by its code in the ECR service model."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


class Bridge:
    def __init__(self, ecr: EcrState, registry: DistributionClient) -> None:
        self.ecr = ecr
        self.registry = registry
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        # Called with (repository, digest), under the lock, for each digest ECR
        # records for the first time, before anyone waiting for it is woken:
        # the scan on push starts here (scans.py).
        self.on_new_image: list[Callable[[str, str], None]] = []

    def pushed(self, name: str, digest: str, tag: str | None) -> bool:
        """A manifest landed in the registry: record it in ECR (idempotent)."""
        data, media_type = self.registry.get_manifest(name, digest)
        if digest_of(data) != digest:
            LOG.warning("%s@%s: the registry served other bytes; not recorded", name, digest)
            return False
        with self._changed:
            if self.ecr.repository(name) is None:
                LOG.warning("%s: pushed, but no such ECR repository; not recorded", name)
                return False
            new = digest not in self.ecr.snapshot(name)
            self.ecr.register(name, data.decode(), media_type, digest, tag)
            self._recorded(name, digest, new)
        LOG.info("recorded %s@%s tag=%s", name, digest, tag)
        return True

    def wait_for(self, name: str, digest: str, tag: str | None, timeout: float) -> bool:
        """Until ECR lists this digest (with this tag), at most `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self.ecr.has(name, digest, tag), timeout)

    def put_image(
        self, name: str, manifest: str, tag: str | None, media_type: str | None, digest: str | None
    ) -> Any:
        """PutImage: ECR's checks, then the registry, then ECR's record."""
        account = self.ecr.account
        if self.ecr.repository(name) is None:
            raise ApiError("RepositoryNotFoundException", no_repository_message(name, account))
        data = manifest.encode()
        real = digest_of(data)
        if digest and digest != real:
            raise ApiError(
                "ImageDigestDoesNotMatchException",
                f"The image digest '{digest}' does not match the digest of the manifest "
                f"('{real}') in the repository with name '{name}'",
            )
        media_type = media_type or _declared_type(manifest)
        with self._changed:
            if self.ecr.has(name, real, tag):
                raise ApiError(
                    "ImageAlreadyExistsException",
                    f"Image with digest '{real}' and tag '{tag}' already exists in the "
                    f"repository with name '{name}' in registry with id '{account}'",
                )
            if tag is not None and self.ecr.tag_locked(name, tag):
                raise ApiError("ImageTagAlreadyExistsException", immutable_message(name, tag))
            try:
                self.registry.put_manifest(name, tag or real, data, media_type)
            except RegistryRefused as err:
                raise _api_error(err, name, media_type) from err
            except OSError as err:
                raise ApiError("ServerException", f"the sandbox registry failed: {err}") from err
            new = real not in self.ecr.snapshot(name)
            image = self.ecr.register(name, manifest, media_type, real, tag)
            self._recorded(name, real, new)
            return image

    def _recorded(self, name: str, digest: str, new: bool) -> None:
        if new:
            for listener in self.on_new_image:
                try:
                    listener(name, digest)
                except Exception:  # a listener's bug must not lose the push itself
                    LOG.exception("%s@%s: a new-image listener failed", name, digest)
        self._changed.notify_all()

    def delete_images(self, name: str, run: Callable[[], T]) -> T:
        """BatchDeleteImage: whatever ECR dropped, the registry drops too."""
        with self._changed:
            before = self.ecr.snapshot(name)
            result = run()
            after = self.ecr.snapshot(name)
            for digest, tags in before.items():
                kept = after.get(digest)
                for tag in tags - (kept or frozenset()):
                    self.registry.remove_tag(name, tag)
                if kept is None:
                    try:
                        self.registry.delete_manifest(name, digest)
                    except (OSError, RegistryRefused) as err:
                        LOG.warning(
                            "%s@%s: deleted in ECR, not in the registry: %s", name, digest, err
                        )
            self._changed.notify_all()
            return result

    def delete_repository(self, name: str, run: Callable[[], T]) -> T:
        with self._changed:
            result = run()
            if self.ecr.repository(name) is None:
                self.registry.remove_repository(name)
            self._changed.notify_all()
            return result


def immutable_message(name: str, tag: str) -> str:
    return (
        f"The image tag '{tag}' already exists in the '{name}' repository and cannot be "
        "overwritten because the repository is immutable."
    )


def no_repository_message(name: str, account: str) -> str:
    return f"The repository with name '{name}' does not exist in the registry with id '{account}'"


def _declared_type(manifest: str) -> str:
    try:
        media_type = json.loads(manifest).get("mediaType")
    except (ValueError, AttributeError):
        media_type = None
    if not isinstance(media_type, str):
        raise ApiError(
            "InvalidParameterException",
            "Invalid parameter at 'imageManifest' failed to satisfy constraint: "
            "the manifest is not JSON with a mediaType, and no imageManifestMediaType was given",
        )
    return media_type


def _api_error(err: RegistryRefused, name: str, media_type: str) -> ApiError:
    if err.code == "MANIFEST_BLOB_UNKNOWN":
        if any(kind in media_type for kind in _INDEX_TYPES):
            return ApiError(
                "ReferencedImagesNotFoundException",
                f"Some images referenced by the index are not in the repository '{name}': "
                f"{err.message}",
            )
        return ApiError(
            "LayersNotFoundException",
            f"Layers required by the image are not in the repository '{name}': {err.message}",
        )
    if err.status == 400:
        return ApiError(
            "InvalidParameterException",
            f"Invalid parameter at 'imageManifest' failed to satisfy constraint: {err.message}",
        )
    return ApiError("ServerException", f"the sandbox registry refused the manifest: {err}")
