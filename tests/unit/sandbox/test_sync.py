"""Bridge: both directions between ECR and the registry, and the wait for ECR."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pipeline.sandbox.distribution import RegistryRefused
from pipeline.sandbox.sync import ApiError, Bridge, digest_of
from tests.unit.sandbox.fakes import MEDIA_TYPE, FakeRegistry, ecr_state, manifest, pushed


def _bridge(*repos: tuple[str, str, list[str]]) -> tuple[Bridge, FakeRegistry]:
    registry = FakeRegistry()
    bridge = Bridge(ecr_state(*repos), registry)  # type: ignore[arg-type]
    return bridge, registry


def test_a_push_is_recorded_under_its_real_digest() -> None:
    bridge, registry = _bridge(("app/web", "MUTABLE", []))
    _, digest = pushed(registry, "app/web", "a")
    assert bridge.pushed("app/web", digest, "1")
    assert bridge.pushed("app/web", digest, "1")  # a repeated event changes nothing
    assert bridge.pushed("app/web", digest, None)
    assert bridge.ecr.snapshot("app/web") == {digest: frozenset({"1"})}
    image = bridge.ecr.repository("app/web").images[0]
    assert image.image_manifest_media_type == MEDIA_TYPE


def test_bytes_that_do_not_match_the_digest_are_not_recorded() -> None:
    bridge, registry = _bridge(("app/web", "MUTABLE", []))
    registry.manifests["app/web", "sha256:" + "0" * 64] = b"{}"
    assert not bridge.pushed("app/web", "sha256:" + "0" * 64, "1")
    assert bridge.ecr.snapshot("app/web") == {}


def test_a_push_to_a_repository_ecr_lacks_is_dropped() -> None:
    bridge, registry = _bridge()
    _, digest = pushed(registry, "gone/repo", "a")
    assert not bridge.pushed("gone/repo", digest, "1")


def test_wait_for_returns_when_the_webhook_records() -> None:
    bridge, registry = _bridge(("app/web", "MUTABLE", []))
    _, digest = pushed(registry, "app/web", "a")
    assert not bridge.wait_for("app/web", digest, "1", timeout=0)
    started = threading.Event()

    def webhook() -> None:
        started.wait()
        bridge.pushed("app/web", digest, "1")

    thread = threading.Thread(target=webhook)
    thread.start()
    with bridge.lock:  # no notification can slip in before the wait begins
        started.set()
        assert bridge.wait_for("app/web", digest, "1", timeout=30)
    thread.join()


def test_put_image_tags_the_registry_then_ecr() -> None:
    bridge, registry = _bridge(("app/web", "MUTABLE", []))
    text = manifest("a")
    image = bridge.put_image("app/web", text, "release", None, None)
    assert image.get_image_digest() == digest_of(text.encode())
    assert registry.calls == [("put", "app/web", "release")]
    assert bridge.ecr.snapshot("app/web") == {digest_of(text.encode()): frozenset({"release"})}


@pytest.mark.parametrize(
    ("repo", "tag", "digest", "code"),
    [
        ("nope/x", "1", None, "RepositoryNotFoundException"),
        ("app/web", "2", "sha256:" + "0" * 64, "ImageDigestDoesNotMatchException"),
        ("app/web", "1", None, "ImageAlreadyExistsException"),
    ],
)
def test_put_image_refusals(repo: str, tag: str, digest: str | None, code: str) -> None:
    bridge, registry = _bridge(("app/web", "MUTABLE", []))
    bridge.put_image("app/web", manifest("a"), "1", None, None)
    registry.calls.clear()
    with pytest.raises(ApiError) as caught:
        bridge.put_image(repo, manifest("a"), tag, None, digest)
    assert caught.value.code == code
    assert registry.calls == []


def test_put_image_on_an_immutable_tag() -> None:
    bridge, _ = _bridge(("app/web", "IMMUTABLE", []))
    bridge.put_image("app/web", manifest("a"), "1", None, None)
    with pytest.raises(ApiError) as caught:
        bridge.put_image("app/web", manifest("b"), "1", None, None)
    assert caught.value.code == "ImageTagAlreadyExistsException"
    assert "cannot be overwritten because the repository is immutable" in caught.value.message


@pytest.mark.parametrize(
    ("refusal", "code"),
    [
        (RegistryRefused(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown"), "LayersNotFoundException"),
        (RegistryRefused(400, "MANIFEST_INVALID", "bad"), "InvalidParameterException"),
        (RegistryRefused(500, "UNKNOWN", "boom"), "ServerException"),
    ],
)
def test_a_registry_refusal_leaves_ecr_unchanged(refusal: RegistryRefused, code: str) -> None:
    bridge, registry = _bridge(("app/web", "MUTABLE", []))
    registry.refusal = refusal
    with pytest.raises(ApiError) as caught:
        bridge.put_image("app/web", manifest("a"), "1", None, None)
    assert caught.value.code == code
    assert bridge.ecr.snapshot("app/web") == {}


def test_a_manifest_without_a_media_type_needs_one() -> None:
    bridge, _ = _bridge(("app/web", "MUTABLE", []))
    with pytest.raises(ApiError, match="InvalidParameterException"):
        bridge.put_image("app/web", "{}", "1", None, None)


def test_deletes_reach_the_registry_as_ecr_did_them() -> None:
    bridge, registry = _bridge(("app/web", "MUTABLE", []))
    a = bridge.put_image("app/web", manifest("a"), "a1", None, None).get_image_digest()
    bridge.put_image("app/web", manifest("a"), "a2", None, None)
    b = bridge.put_image("app/web", manifest("b"), "b1", None, None).get_image_digest()
    registry.calls.clear()
    repo: Any = bridge.ecr.repository("app/web")

    def ecr_deletes() -> str:  # what moto's BatchDeleteImage does: a tag, then an image
        repo.images[0].remove_tag("a1")
        repo.images[:] = [i for i in repo.images if i.get_image_digest() != b]
        return "result"

    assert bridge.delete_images("app/web", ecr_deletes) == "result"
    assert sorted(registry.calls) == [
        ("delete", "app/web", b),
        ("untag", "app/web", "a1"),
        ("untag", "app/web", "b1"),
    ]
    assert bridge.ecr.snapshot("app/web") == {a: frozenset({"a2"})}


def test_a_deleted_repository_leaves_the_registry() -> None:
    bridge, registry = _bridge(("app/web", "MUTABLE", []))
    bridge.delete_repository("app/web", lambda: None)
    assert registry.calls == []  # ECR refused (still has it): nothing to remove
    repositories = bridge.ecr._backend.repositories
    bridge.delete_repository("app/web", lambda: repositories.pop("app/web"))
    assert registry.calls == [("remove", "app/web")]


def test_new_image_listeners_hear_each_new_digest_once() -> None:
    bridge, registry = _bridge(("app/web", "MUTABLE", []))
    heard: list[tuple[str, str, bool]] = []

    def listener(name: str, digest: str) -> None:
        heard.append((name, digest, bridge.ecr.has(name, digest, None)))  # recorded already

    def broken(name: str, digest: str) -> None:
        raise RuntimeError("a listener's bug")

    bridge.on_new_image.extend([broken, listener])
    _, first = pushed(registry, "app/web", "a")
    assert bridge.pushed("app/web", first, "1")  # the broken listener loses nothing
    assert bridge.pushed("app/web", first, "2")  # a new tag, not a new image
    image = bridge.put_image("app/web", manifest("b"), "3", MEDIA_TYPE, None)
    second = image.get_image_digest()
    bridge.put_image("app/web", manifest("b"), "4", MEDIA_TYPE, None)
    assert heard == [("app/web", first, True), ("app/web", second, True)]
