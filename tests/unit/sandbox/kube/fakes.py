"""A fake clock and a Deployment manifest for the Kubernetes API emulation's tests."""

from __future__ import annotations

from typing import Any


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def manifest(image: str = "app:1", replicas: int = 2, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"x": 1}\n'},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "app", "image": image},
                        {"name": "envoy", "image": "envoy:1"},
                    ]
                },
            },
            **spec,
        },
    }
