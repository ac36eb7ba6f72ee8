"""Which images a cold runner takes its layer cache from, in which order."""

from __future__ import annotations

import pytest

from pipeline import cache
from pipeline.config.schema import Cache, ShaRule
from pipeline.context import Context

PARENT = "b" * 40
IMAGE = "reg.example/team/app"


def ctx(**kw: object) -> Context:
    return Context(provider="github", event=str(kw.pop("event", "push")), sha="a" * 40, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("context", "parent", "expected"),
    [
        (
            ctx(branch="feature/x", default_branch="main"),
            PARENT,
            ["sha-bbbbbbb", "feature-x", "main", "latest"],
        ),
        (
            ctx(event="pull_request", pr=7, base_ref="develop", default_branch="main"),
            PARENT,
            ["sha-bbbbbbb", "pr-7", "develop", "main", "latest"],
        ),
        (
            ctx(event="pull_request", pr=7, base_ref="refs/heads/main", default_branch="main"),
            None,
            ["pr-7", "main", "latest"],
        ),
        (ctx(branch="main", default_branch="main"), PARENT, ["sha-bbbbbbb", "main", "latest"]),
        (ctx(), None, ["latest"]),  # a root commit, no branch known: latest only
        (ctx(tag="v1.2.3", default_branch="main"), PARENT, ["sha-bbbbbbb", "main", "latest"]),
    ],
    ids=["branch", "pr-with-base", "pr-base-is-default", "default-branch", "root", "tag"],
)
def test_auto_candidates_come_in_the_order_most_likely_to_share_layers(
    context: Context, parent: str | None, expected: list[str]
) -> None:
    assert cache.auto_tags(context, parent) == expected


def test_the_parent_tag_follows_the_images_sha_rule() -> None:
    rules = (ShaRule(type="sha", length=10),)
    assert cache.auto_tags(ctx(), PARENT, rules)[0] == "sha-bbbbbbbbbb"
    long = (ShaRule(type="sha", format="long", prefix="commit-"),)
    assert cache.auto_tags(ctx(), PARENT, long)[0] == f"commit-{PARENT}"


def test_candidates_are_full_references_and_a_list_replaces_auto() -> None:
    auto = cache.candidates(cache.CacheSettings(), IMAGE, ctx(branch="main"), None)
    assert auto == [f"{IMAGE}:main", f"{IMAGE}:latest"]
    listed = cache.CacheSettings(from_refs=("x.io/a:1", "x.io/a:1", "y.io/b:2"))
    assert cache.candidates(listed, IMAGE, ctx(branch="main"), PARENT) == ["x.io/a:1", "y.io/b:2"]
    off = cache.CacheSettings(enabled=False, to="none")
    assert cache.candidates(off, IMAGE, ctx(branch="main"), PARENT) == []


@pytest.mark.parametrize(
    ("top", "image", "expected"),
    [
        (None, None, cache.CacheSettings()),
        (False, None, cache.CacheSettings(False, None, "none")),
        (Cache(to="registry"), None, cache.CacheSettings(True, None, "registry")),
        (False, Cache(), cache.CacheSettings()),  # the image's setting replaces the top's
        (Cache(), False, cache.CacheSettings(False, None, "none")),
        (
            None,
            Cache.model_validate({"from": ["x.io/a:1"]}),
            cache.CacheSettings(True, ("x.io/a:1",)),
        ),
        (None, Cache(to="none"), cache.CacheSettings(True, None, "none")),
    ],
)
def test_settings_of_an_image_replace_the_top_level(
    top: object, image: object, expected: cache.CacheSettings
) -> None:
    assert cache.settings(top, image) == expected  # type: ignore[arg-type]
