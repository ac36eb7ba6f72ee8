"""Image labels read from the registry by reference: the guard's view of an image.

Only images on the pipeline's own registry (under any of its host names) are
read; a running image from anywhere else has no label we can see, and the
guard says so rather than guessing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

from pipeline import imageref
from pipeline.adapters.ports import Registry
from pipeline.errors import PipelineError
from pipeline.retry import RegistryFailure


class RegistryLabels:
    def __init__(self, registry: Registry, hosts: Iterable[str]) -> None:
        self._registry = registry
        self._hosts = {h.lower() for h in hosts}
        self._cache: dict[str, Mapping[str, str] | None] = {}
        self._lock = threading.Lock()

    def labels(self, image: str) -> Mapping[str, str] | None:
        with self._lock:
            if image in self._cache:
                return self._cache[image]
        found = self._read(image)
        with self._lock:
            self._cache[image] = found
        return found

    def _read(self, image: str) -> Mapping[str, str] | None:
        ref = imageref.parse(image)
        if ref is None or ref.registry_host not in self._hosts:
            return None
        try:
            manifest = self._registry.manifest(ref.registry_path, ref.reference())
            if manifest is None:
                return None
            config = self._registry.config(ref.registry_path, manifest)
        except (RegistryFailure, PipelineError):
            return None
        raw = (config.get("config") or {}) if isinstance(config, dict) else {}
        labels = raw.get("Labels") if isinstance(raw, dict) else None
        return {str(k): str(v) for k, v in (labels or {}).items()}
