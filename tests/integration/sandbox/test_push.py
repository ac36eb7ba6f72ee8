"""docker push into the sandbox: auth, ECR's view of the push, missing repositories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.sandbox.support import Images, RegistryHttp, error_codes


def test_push_is_listed_by_ecr_with_the_registry_digest(
    ecr: Any, registry: RegistryHttp, images: Images, repository: Callable[..., str]
) -> None:
    name = repository()
    errors, pushed = images.push(images.build(), name, "v1")
    assert errors == []
    status, served, _ = registry.manifest(name, "v1")
    assert status == 200
    # Straight after the push, with no waiting here: the proxy held the answer
    # until the webhook had recorded the push.
    details = ecr.describe_images(repositoryName=name)["imageDetails"]
    assert [(d["imageDigest"], d["imageTags"]) for d in details] == [(served, ["v1"])]
    assert pushed == served
    assert (
        details[0]["imageManifestMediaType"]
        == "application/vnd.docker.distribution.manifest.v2+json"
    )


def test_token_is_realistic(ecr: Any) -> None:
    from datetime import datetime, timedelta, timezone

    data = ecr.get_authorization_token()["authorizationData"][0]
    left = data["expiresAt"] - datetime.now(timezone.utc)
    assert timedelta(hours=11, minutes=59) < left <= timedelta(hours=12)
    assert data["proxyEndpoint"] == "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"


def test_wrong_password_is_rejected(
    registry: RegistryHttp, images: Images, repository: Callable[..., str]
) -> None:
    name = repository()
    errors, _ = images.push(images.build(), name, "v1", password="not-the-token")
    assert errors
    assert "unauthorized" in errors[0] or "authentication required" in errors[0]
    assert registry.tags(name) == []
    status, _, _ = RegistryHttp(registry.host, "AWS", "not-the-token").call("GET", "/v2/")
    assert status == 401


def test_push_to_a_missing_repository_is_name_unknown(
    registry: RegistryHttp, images: Images
) -> None:
    errors, _ = images.push(images.build(), "sbx/never-created", "v1")
    message = (
        "The repository with name 'sbx/never-created' does not exist "
        "in the registry with id '123456789012'"
    )
    assert errors == [f"name unknown: {message}"]
    status, _, body = registry.call("POST", "/v2/sbx/never-created/blobs/uploads/")
    assert (status, error_codes(body)) == (404, ["NAME_UNKNOWN"])
