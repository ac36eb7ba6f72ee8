"""In-memory stand-ins for the sandbox's registry client and moto's ECR backend."""

from __future__ import annotations

import json

from pipeline.sandbox.distribution import RegistryRefused
from pipeline.sandbox.ecr import EcrState
from pipeline.sandbox.sync import digest_of

ACCOUNT, REGION = "123456789012", "us-east-1"
MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def manifest(seed: str) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 10,
                "digest": digest_of(seed.encode()),
            },
            "layers": [],
        }
    )


class FakeRegistry:
    """Holds manifests by (name, reference); records what the bridge asked of it."""

    def __init__(self) -> None:
        self.manifests: dict[tuple[str, str], bytes] = {}
        self.calls: list[tuple[str, ...]] = []
        self.refusal: RegistryRefused | None = None

    def get_manifest(self, name: str, reference: str) -> tuple[bytes, str]:
        try:
            return self.manifests[name, reference], MEDIA_TYPE
        except KeyError:
            raise RegistryRefused(404, "MANIFEST_UNKNOWN", "manifest unknown") from None

    def put_manifest(self, name: str, reference: str, data: bytes, media_type: str) -> str:
        self.calls.append(("put", name, reference))
        if self.refusal is not None:
            raise self.refusal
        self.manifests[name, reference] = data
        self.manifests[name, digest_of(data)] = data
        return digest_of(data)

    def delete_manifest(self, name: str, digest: str) -> None:
        self.calls.append(("delete", name, digest))

    def remove_tag(self, name: str, tag: str) -> None:
        self.calls.append(("untag", name, tag))

    def remove_repository(self, name: str) -> None:
        self.calls.append(("remove", name))


def ecr_state(*repositories: tuple[str, str, list[str]]) -> EcrState:
    """(name, mutability, exclusion filters) each, in a fresh moto backend."""
    from moto.ecr.models import ECRBackend

    backend = ECRBackend(REGION, ACCOUNT)
    for name, mutability, filters in repositories:
        exclusions = [{"filterType": "WILDCARD", "filter": f} for f in filters]
        backend.create_repository(name, None, {}, None, mutability, [], exclusions or None)
    return EcrState(ACCOUNT, REGION, {ACCOUNT: {REGION: backend}})


def pushed(registry: FakeRegistry, name: str, seed: str) -> tuple[str, str]:
    """A manifest as if docker had pushed it: (its text, its digest)."""
    text = manifest(seed)
    registry.manifests[name, digest_of(text.encode())] = text.encode()
    return text, digest_of(text.encode())
