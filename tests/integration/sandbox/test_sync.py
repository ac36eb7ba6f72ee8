"""ECR API calls reach the registry: what ECR lists, docker can pull, and no more."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.sandbox.support import Images, RegistryHttp, error_codes


def _pushed(images: Images, name: str, *tags: str) -> str:
    image = images.build()
    digest = None
    for tag in tags:
        errors, digest = images.push(image, name, tag)
        assert errors == []
    assert digest is not None
    return digest


def test_retag_by_manifest_is_pullable(
    ecr: Any, registry: RegistryHttp, images: Images, repository: Callable[..., str]
) -> None:
    name = repository()
    digest = _pushed(images, name, "build-1")
    found = ecr.batch_get_image(repositoryName=name, imageIds=[{"imageTag": "build-1"}])
    manifest = found["images"][0]["imageManifest"]
    ecr.put_image(repositoryName=name, imageManifest=manifest, imageTag="release")
    assert registry.tags(name) == ["build-1", "release"]
    assert registry.manifest(name, "release")[1] == digest
    pulled = images.pull(name, "release")
    assert f"{images.host}/{name}@{digest}" in pulled.attrs["RepoDigests"]
    tags = ecr.describe_images(repositoryName=name)["imageDetails"][0]["imageTags"]
    assert sorted(tags) == ["build-1", "release"]


def test_put_image_with_missing_layers_changes_nothing(
    ecr: Any, registry: RegistryHttp, images: Images, repository: Callable[..., str]
) -> None:
    source, target = repository(), repository()
    _pushed(images, source, "v1")
    manifest = ecr.batch_get_image(repositoryName=source, imageIds=[{"imageTag": "v1"}])
    with pytest.raises(ecr.exceptions.LayersNotFoundException):
        ecr.put_image(
            repositoryName=target,
            imageManifest=manifest["images"][0]["imageManifest"],
            imageTag="v1",
        )
    assert ecr.list_images(repositoryName=target)["imageIds"] == []
    assert registry.tags(target) == []


def test_delete_by_tag_removes_only_that_tag(
    ecr: Any, registry: RegistryHttp, images: Images, repository: Callable[..., str]
) -> None:
    name = repository()
    digest = _pushed(images, name, "a", "b")
    result = ecr.batch_delete_image(repositoryName=name, imageIds=[{"imageTag": "a"}])
    assert result["failures"] == []
    assert registry.tags(name) == ["b"]
    assert registry.manifest(name, "a")[0] == 404
    assert registry.manifest(name, "b")[:2] == (200, digest)
    listed = ecr.list_images(repositoryName=name)["imageIds"]
    assert listed == [{"imageDigest": digest, "imageTag": "b"}]


def test_delete_by_digest_removes_the_manifest(
    ecr: Any, registry: RegistryHttp, images: Images, repository: Callable[..., str]
) -> None:
    name = repository()
    digest = _pushed(images, name, "a", "b")
    kept = _pushed(images, name, "other")
    # Not behind ECR's back: the registry API has no DELETE in ECR.
    status, _, body = registry.call("DELETE", f"/v2/{name}/manifests/{digest}")
    assert (status, error_codes(body)) == (405, ["UNSUPPORTED"])
    ecr.batch_delete_image(repositoryName=name, imageIds=[{"imageDigest": digest}])
    assert registry.tags(name) == ["other"]
    assert registry.manifest(name, digest)[0] == 404
    assert registry.manifest(name, "other")[:2] == (200, kept)


def test_deleted_repository_is_gone_from_the_registry(
    ecr: Any, registry: RegistryHttp, images: Images, repository: Callable[..., str]
) -> None:
    name = repository()
    _pushed(images, name, "v1")
    ecr.delete_repository(repositoryName=name, force=True)
    assert registry.manifest(name, "v1")[0] == 404
    ecr.create_repository(repositoryName=name)
    assert registry.tags(name) == []
    assert registry.manifest(name, "v1")[0] == 404
