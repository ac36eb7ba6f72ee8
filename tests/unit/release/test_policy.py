"""What a release may do: the tag prefix it uses, and the refusals (pure, from a Context)."""

from __future__ import annotations

import pytest

from pipeline.config.schema import Config
from pipeline.context import Context
from pipeline.errors import UsageError
from pipeline.release import policy
from tests.unit.config.helpers import valid

SHA = "a" * 40
REGISTRY = "registry: {type: generic, url: r.example.com/acme}\n"


def config_with(top_prefix: str | None, images: dict[str, str | None]) -> Config:
    lines = ["version: 1", REGISTRY.strip()]
    if top_prefix is not None:
        lines.append(f'tag_prefix: "{top_prefix}"')
    lines.append("images:")
    for name, prefix in images.items():
        lines.append(f"  - name: {name}")
        if prefix is not None:
            lines.append(f'    tag_prefix: "{prefix}"')
    return valid("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("top", "images", "asked", "prefix", "run_images"),
    [
        (None, {"a": None, "b": None}, (), "", ()),
        ("svc/", {"a": None, "b": None}, (), "svc/", ()),
        (None, {"a": "x/", "b": "x/"}, (), "x/", ()),
        # one prefix for every image: --image only picks it, the run builds all
        (None, {"a": None, "b": None}, ("a",), "", ()),
        # different prefixes: --image picks one; the run builds the images sharing it
        (None, {"api": "api/", "worker": "api/", "web": "web/"}, ("web",), "web/", ("web",)),
        (
            None,
            {"api": "api/", "worker": "api/", "web": "web/"},
            ("worker",),
            "api/",
            ("api", "worker"),
        ),
        ("", {"api": None, "web": "web/"}, ("api",), "", ("api",)),
        ("", {"api": None, "web": "web/"}, ("api", "api"), "", ("api",)),
    ],
)
def test_select_prefix(
    top: str | None,
    images: dict[str, str | None],
    asked: tuple[str, ...],
    prefix: str,
    run_images: tuple[str, ...],
) -> None:
    got = policy.select(config_with(top, images), asked)
    assert (got.prefix, got.images) == (prefix, run_images)


@pytest.mark.parametrize(
    ("images", "asked", "message"),
    [
        (
            {"api": "api/", "web": "web/"},
            (),
            "the images use different tag prefixes (api/: api; web/: web);"
            " name the image to release with --image NAME",
        ),
        (
            {"api": None, "web": "web/"},
            (),
            "the images use different tag prefixes ((no prefix): api; web/: web);"
            " name the image to release with --image NAME",
        ),
        (
            {"api": "api/", "web": "web/"},
            ("api", "web"),
            "the images use different tag prefixes (api/: api; web/: web);"
            " release them one at a time",
        ),
        ({"api": "api/"}, ("ghost",), "--image ghost: no such image; the config has api"),
    ],
)
def test_select_refuses_an_ambiguous_prefix(
    images: dict[str, str | None], asked: tuple[str, ...], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        policy.select(config_with(None, images), asked)
    assert str(caught.value) == message


def ctx(**overrides: object) -> Context:
    base: dict[str, object] = {
        "provider": "local",
        "event": "push",
        "sha": SHA,
        "ref": "refs/heads/main",
        "branch": "main",
        "default_branch": "main",
        "repo_tags": (),
    }
    base.update(overrides)
    return Context(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("context", "allow_dirty", "allow_branch", "expected"),
    [
        (ctx(), False, False, []),
        (ctx(dirty=True), False, False, ["uncommitted changes"]),
        (ctx(dirty=True), True, False, []),
        (ctx(branch="feature"), False, False, ["on branch feature, not the default branch main"]),
        (ctx(branch="feature"), False, True, []),
        (ctx(branch=None, ref=None), False, False, ["HEAD is not on a branch"]),
        (ctx(branch=None, ref=None), False, True, []),
        (ctx(default_branch=None), False, False, ["cannot tell the default branch"]),
        (ctx(default_branch=None), False, True, []),
        (ctx(shallow=True, repo_tags=None), True, True, ["the clone is shallow"]),
        (
            ctx(dirty=True, branch="feature"),
            False,
            False,
            ["uncommitted changes", "on branch feature"],
        ),
    ],
)
def test_refusals(
    context: Context, allow_dirty: bool, allow_branch: bool, expected: list[str]
) -> None:
    got = policy.refusals(context, allow_dirty=allow_dirty, allow_branch=allow_branch)
    assert len(got) == len(expected)
    for line, part in zip(got, expected, strict=True):
        assert part in line


def test_each_refusal_names_its_way_out() -> None:
    got = policy.refusals(ctx(dirty=True, branch="feature"), allow_dirty=False, allow_branch=False)
    assert got[0].endswith("or pass --allow-dirty")
    assert got[1].endswith("or pass --allow-branch")


@pytest.mark.parametrize(
    ("head_tags", "prefix", "expected"),
    [
        ((), "", None),
        (("v1.2.3",), "", "v1.2.3"),
        (("v1.2.3-rc.1",), "", None),
        (("v1.2.3", "v1.2.4"), "", "v1.2.4"),
        (("backend/v1.0.0",), "", None),
        (("backend/v1.0.0",), "backend/", "backend/v1.0.0"),
        (("nightly",), "", None),
    ],
)
def test_already_released(head_tags: tuple[str, ...], prefix: str, expected: str | None) -> None:
    assert policy.already_released(head_tags, prefix) == expected
