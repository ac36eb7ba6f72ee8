"""Which tags an existing repository will not let a run move: the pure decision, as a table."""

from __future__ import annotations

import pytest

from pipeline.adapters.ports import TagMutability
from pipeline.stages import collisions

IMM = TagMutability("IMMUTABLE")
MUT = TagMutability("MUTABLE")


def _excl(*filters: str) -> TagMutability:
    return TagMutability("IMMUTABLE_WITH_EXCLUSION", filters)


def _mut_excl(*filters: str) -> TagMutability:
    return TagMutability("MUTABLE_WITH_EXCLUSION", filters)


@pytest.mark.parametrize(
    ("mode", "tags", "expected"),
    [
        (MUT, ["main", "latest"], []),
        (IMM, ["main", "latest"], ["main", "latest"]),
        (TagMutability("immutable"), ["main"], ["main"]),  # the mode's case does not matter
        (_excl("latest"), ["main", "latest"], ["main"]),
        (_excl("latest", "main"), ["main", "latest"], []),
        (_excl("v*"), ["v1", "v1.2", "latest"], ["latest"]),
        (_excl("*"), ["main", "1.2"], []),
        (_excl("release-*-rc"), ["release-1-rc", "release-1"], ["release-1"]),
        (_excl("v?"), ["v1", "v?"], ["v1"]),  # only `*` is a wildcard in ECR's filters
        (_excl("v[12]"), ["v1", "v[12]"], ["v1"]),
        (_excl(), ["main"], ["main"]),
        (_mut_excl("v*"), ["v1", "main"], ["v1"]),  # the filters name the frozen tags
        (_mut_excl(), ["main"], []),
        (TagMutability("SOMETHING_NEW"), ["main"], []),  # unknown: the registry decides
        (IMM, [], []),
    ],
)
def test_stuck_tags_follow_the_mode_and_its_filters(
    mode: TagMutability, tags: list[str], expected: list[str]
) -> None:
    assert collisions.stuck(mode, tags) == expected


OURS = "sha256:ours"
OTHER = "sha256:other"


@pytest.mark.parametrize(
    ("mode", "current", "ours", "expected"),
    [
        # the first run: the tags do not exist yet, so they are created, not moved
        (IMM, {"main": None, "latest": None}, None, []),
        # the next commit: the tags name the previous commit's image
        (IMM, {"main": OTHER, "latest": OTHER}, None, ["main", "latest"]),
        (IMM, {"main": OTHER, "latest": None}, None, ["main"]),
        # a re-run of the same commit: they already name this run's digest
        (IMM, {"main": OURS, "latest": OURS}, OURS, []),
        (IMM, {"main": OURS, "latest": OTHER}, OURS, ["latest"]),
        # a digest not known before the push never matches a present tag
        (IMM, {"main": OURS}, None, ["main"]),
        (MUT, {"main": OTHER}, None, []),
        (_excl("main"), {"main": OTHER, "1.2": OTHER}, None, ["1.2"]),
        (_mut_excl("1.*"), {"main": OTHER, "1.2": OTHER}, None, ["1.2"]),
        (IMM, {}, None, []),
    ],
)
def test_a_collision_is_a_stuck_tag_that_names_another_image(
    mode: TagMutability, current: dict[str, str | None], ours: str | None, expected: list[str]
) -> None:
    assert collisions.collisions(mode, current, ours) == expected


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (
            IMM,
            "ECR repository team/api is IMMUTABLE: tags 'main', 'latest' move between commits,"
            " but already name another image and the repository will not move them; add an"
            " exclusion filter matching them to the repository, make it MUTABLE, or drop the"
            " rule",
        ),
        (
            _excl("v*", "edge"),
            "ECR repository team/api is IMMUTABLE_WITH_EXCLUSION (filters: v*, edge): tags"
            " 'main', 'latest' move between commits, but already name another image and the"
            " repository will not move them; add an exclusion filter matching them to the"
            " repository, make it MUTABLE, or drop the rule",
        ),
        (
            _mut_excl("ma*"),
            "ECR repository team/api is MUTABLE_WITH_EXCLUSION (filters: ma*): tags 'main',"
            " 'latest' move between commits, but already name another image and the repository"
            " will not move them; remove the exclusion filters matching them from the"
            " repository, make it MUTABLE, or drop the rule",
        ),
    ],
)
def test_the_refusal_names_the_repository_its_mode_the_tags_and_the_fixes(
    mode: TagMutability, expected: str
) -> None:
    assert collisions.refusal("team/api", mode, ["main", "latest"]) == expected
