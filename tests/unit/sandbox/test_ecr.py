"""EcrState on moto's models: registration, retags, and ECR's immutability rules."""

from __future__ import annotations

import pytest

from pipeline.sandbox.ecr import wildcard
from tests.unit.sandbox.fakes import MEDIA_TYPE, ecr_state, manifest


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("latest", "latest", True),
        ("latest", "latest-1", False),
        ("dev-*", "dev-abc", True),
        ("dev-*", "prod-dev-abc", False),
        ("*-rc*", "1.0-rc2", True),
        ("*", "", True),
        ("v1.*", "v1x2", False),  # a dot is a dot, not "any character"
        ("a+b", "aab", False),
    ],
)
def test_wildcards(pattern: str, value: str, matches: bool) -> None:
    assert wildcard(pattern, value) is matches


def test_register_is_idempotent_and_keeps_the_digest() -> None:
    ecr = ecr_state(("app/web", "MUTABLE", []))
    for _ in range(3):
        ecr.register("app/web", manifest("a"), MEDIA_TYPE, "sha256:" + "a" * 64, "1")
    assert ecr.snapshot("app/web") == {"sha256:" + "a" * 64: frozenset({"1"})}


def test_a_moved_tag_leaves_the_old_image_untagged() -> None:
    ecr = ecr_state(("app/web", "MUTABLE", []))
    old, new = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    ecr.register("app/web", manifest("a"), MEDIA_TYPE, old, "latest")
    ecr.register("app/web", manifest("b"), MEDIA_TYPE, new, "latest")
    ecr.register("app/web", manifest("b"), MEDIA_TYPE, new, None)
    assert ecr.snapshot("app/web") == {old: frozenset(), new: frozenset({"latest"})}
    assert ecr.tag_digest("app/web", "latest") == new
    image = ecr.repository("app/web").images[0]
    assert image.image_tag is None


def test_register_needs_the_repository() -> None:
    with pytest.raises(LookupError):
        ecr_state().register("nope/x", manifest("a"), MEDIA_TYPE, "sha256:" + "a" * 64, "1")


@pytest.mark.parametrize(
    ("mutability", "filters", "tag", "locked"),
    [
        ("MUTABLE", [], "1", False),
        ("IMMUTABLE", [], "1", True),
        ("IMMUTABLE", [], "new", False),  # only an existing tag is locked
        ("IMMUTABLE_WITH_EXCLUSION", ["latest"], "latest", False),
        ("IMMUTABLE_WITH_EXCLUSION", ["latest"], "1", True),
        ("IMMUTABLE_WITH_EXCLUSION", ["dev-*"], "dev-1", False),
        ("MUTABLE_WITH_EXCLUSION", ["release-*"], "release-1", True),
        ("MUTABLE_WITH_EXCLUSION", ["release-*"], "1", False),
    ],
)
def test_tag_locked(mutability: str, filters: list[str], tag: str, locked: bool) -> None:
    ecr = ecr_state(("app/web", mutability, filters))
    for existing in ("1", "latest", "dev-1", "release-1"):
        digest = "sha256:" + existing.encode().hex().ljust(64, "0")
        ecr.register("app/web", manifest(existing), MEDIA_TYPE, digest, existing)
    assert ecr.tag_locked("app/web", tag) is locked
    assert ecr.tag_locked("nope/x", tag) is False
