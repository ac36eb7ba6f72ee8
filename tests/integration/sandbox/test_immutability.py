"""IMMUTABLE and IMMUTABLE_WITH_EXCLUSION repositories refuse tag moves like ECR."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.sandbox.support import Images, RegistryHttp


def _refusal(name: str, tag: str) -> str:
    return (
        f"tag invalid: The image tag '{tag}' already exists in the '{name}' repository "
        "and cannot be overwritten because the repository is immutable."
    )


def test_immutable_tag_cannot_be_pushed_again(
    ecr: Any, registry: RegistryHttp, images: Images, repository: Callable[..., str]
) -> None:
    name = repository(imageTagMutability="IMMUTABLE")
    first, second = images.build(), images.build()
    errors, digest = images.push(first, name, "1.0.0")
    assert errors == []
    assert images.push(second, name, "1.0.0")[0] == [_refusal(name, "1.0.0")]
    # ECR refuses even when the digest is the same.
    assert images.push(first, name, "1.0.0")[0] == [_refusal(name, "1.0.0")]
    _, _, manifest = registry.manifest(name, "1.0.0")
    status, _, body = registry.call(
        "PUT",
        f"/v2/{name}/manifests/1.0.0",
        manifest,
        {"Content-Type": json.loads(manifest)["mediaType"]},
    )
    assert status == 400
    assert json.loads(body)["errors"][0]["code"] == "TAG_INVALID"
    assert images.push(second, name, "1.0.1")[0] == []  # a new tag is fine
    listed = {
        i["imageTag"]: i["imageDigest"] for i in ecr.list_images(repositoryName=name)["imageIds"]
    }
    assert listed["1.0.0"] == digest
    with pytest.raises(ecr.exceptions.ImageTagAlreadyExistsException):
        ecr.put_image(repositoryName=name, imageManifest=manifest.decode(), imageTag="1.0.1")


def test_excluded_tag_may_move(ecr: Any, images: Images, repository: Callable[..., str]) -> None:
    name = repository(
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}],
    )
    first, second = images.build(), images.build()
    assert images.push(first, name, "latest")[0] == []
    errors, moved = images.push(second, name, "latest")
    assert errors == []
    assert images.push(first, name, "1")[0] == []
    assert images.push(second, name, "1")[0] == [_refusal(name, "1")]
    found = ecr.describe_images(repositoryName=name, imageIds=[{"imageTag": "latest"}])
    assert found["imageDetails"][0]["imageDigest"] == moved
