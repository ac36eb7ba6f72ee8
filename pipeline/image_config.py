"""Reading an image's config blob (as a registry serves it): pure, for stages and adapters."""

from __future__ import annotations

from typing import Any


def labels_of(config: dict[str, Any]) -> dict[str, str]:
    """The image's labels; an empty mapping when the config has none or is malformed."""
    inner = config.get("config")
    labels = inner.get("Labels") if isinstance(inner, dict) else None
    if not isinstance(labels, dict):
        return {}
    return {str(k): str(v) for k, v in labels.items()}
