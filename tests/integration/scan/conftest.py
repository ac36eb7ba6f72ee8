"""The sandbox fixtures (ECR client, repositories, images pushed through the registry)."""

from tests.integration.sandbox.conftest import auth, ecr, images, registry, repository

__all__ = ["auth", "ecr", "images", "registry", "repository"]
