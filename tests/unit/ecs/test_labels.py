"""Labels read from the pipeline's own registry, by digest or tag; anything else is unknown."""

from __future__ import annotations

from pipeline.ecs.labels import RegistryLabels
from pipeline.retry import Kind, RegistryFailure
from tests.unit.fakes import FakeRegistry, manifest_for

HOST = "127.0.0.1:5262"
CANONICAL = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def registry() -> tuple[FakeRegistry, str]:
    reg = FakeRegistry()
    manifest = manifest_for("sha256:" + "c" * 64)
    reg.store("shop/web", "sha-abc", manifest, labels={"org.opencontainers.image.revision": "abc"})
    return reg, manifest.digest


def test_by_digest_and_by_tag_on_any_host_name_of_the_registry() -> None:
    reg, digest = registry()
    labels = RegistryLabels(reg, [HOST, CANONICAL])
    assert labels.labels(f"{HOST}/shop/web@{digest}") == {
        "org.opencontainers.image.revision": "abc"
    }
    assert labels.labels(f"{CANONICAL}/shop/web:sha-abc") == {
        "org.opencontainers.image.revision": "abc"
    }


def test_other_registries_and_missing_images_are_unknown() -> None:
    reg, _ = registry()
    labels = RegistryLabels(reg, [HOST])
    assert labels.labels("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable") is None
    assert labels.labels(f"{HOST}/shop/web:nope") is None
    assert labels.labels("not a reference") is None


def test_a_registry_failure_is_unknown_not_an_error() -> None:
    class Broken(FakeRegistry):
        def manifest(self, repository: str, reference: str) -> None:
            raise RegistryFailure("503 Service Unavailable", Kind.TRANSIENT)

    assert RegistryLabels(Broken(), [HOST]).labels(f"{HOST}/shop/web:x") is None


def test_each_image_is_read_once() -> None:
    reg, digest = registry()
    labels = RegistryLabels(reg, [HOST])
    for _ in range(3):
        labels.labels(f"{HOST}/shop/web@{digest}")
    assert reg.reads == 1
