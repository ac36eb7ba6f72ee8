"""The cache candidates a build gets: looked up first, missing and unreachable ones skipped."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline import registry as registries
from pipeline.adapters.ports import BuildRequest, Manifest
from pipeline.config.schema import Config
from pipeline.context import Context
from pipeline.plan import ImagePlan, Plan
from pipeline.retry import Kind, RegistryFailure
from pipeline.stages import cache as cache_stage
from pipeline.tags import Tag, TagSet

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
PARENT = "c" * 40


class Registry:
    def __init__(self, tags: set[str], down: bool = False) -> None:
        self.tags = tags
        self.down = down
        self.asked: list[tuple[str, str]] = []

    def manifest(self, repository: str, reference: str) -> Manifest | None:
        self.asked.append((repository, reference))
        if self.down:
            raise RegistryFailure("connection refused", Kind.TRANSIENT)
        return Manifest("sha256:" + "0" * 64, "x", b"{}") if reference in self.tags else None


def make(
    tmp_path: Path, cache: object = None, dockerfile: str = "FROM scratch\n", **registry: object
) -> Plan:
    doc: dict[str, object] = {
        "version": 1,
        "registry": registry or {"type": "ecr", "account": "123456789012", "region": "eu-west-1"},
        "images": [{"name": "app", "repository": "team/app"}],
    }
    if cache is not None:
        doc["cache"] = cache
    config = Config.model_validate(doc)
    target = registries.resolve(config.registry, {})
    (tmp_path / "Dockerfile").write_text(dockerfile)
    tags = TagSet((Tag("sha-aaaaaaa", False, "sha"),), None, None)
    image = ImagePlan(
        "app",
        "team/app",
        target.image("team/app"),
        tmp_path,
        tmp_path / "Dockerfile",
        None,
        {"BASE": "public.ecr.aws/x/y:1"},
        (),
        (),
        {},
        tags,
        (),
    )
    ctx = Context(
        provider="github", event="push", sha="a" * 40, branch="feat", default_branch="main"
    )
    return Plan(config, tmp_path, ctx, target, (image,), ("build", "push"))


def request(plan: Plan) -> dict[str, BuildRequest]:
    image = plan.images[0]
    return {"app": BuildRequest("app", tuple(image.refs), image.context_dir, image.dockerfile)}


def test_only_candidates_the_registry_holds_are_used_in_order(tmp_path: Path) -> None:
    plan = make(tmp_path)
    reg = Registry({"latest", "main", f"sha-{PARENT[:7]}"})
    out = cache_stage.attach(plan, request(plan), reg, PARENT)
    base = f"{ECR}/team/app"
    assert out["app"].cache_from == (f"{base}:sha-ccccccc", f"{base}:main", f"{base}:latest")
    assert reg.asked == [("team/app", t) for t in ("sha-ccccccc", "feat", "main", "latest")]


def test_an_unreachable_registry_is_skipped_with_a_debug_line_and_asked_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plan = make(tmp_path)
    reg = Registry(set(), down=True)
    with caplog.at_level(logging.DEBUG, logger="pipeline"):
        out = cache_stage.attach(plan, request(plan), reg, PARENT)
    assert out["app"].cache_from == ()
    assert len(reg.asked) == 1
    assert "connection refused" in caplog.text


def test_no_registry_at_hand_means_no_cache_from_it(tmp_path: Path) -> None:
    plan = make(tmp_path)
    assert cache_stage.attach(plan, request(plan), None, PARENT)["app"].cache_from == ()


def test_cache_false_asks_nothing_and_exports_nothing(tmp_path: Path) -> None:
    plan = make(tmp_path, cache=False)
    reg = Registry({"latest"})
    assert not cache_stage.wants_lookup(plan)
    assert cache_stage.attach(plan, request(plan), reg, PARENT)["app"].cache_from == ()
    assert reg.asked == []
    assert cache_stage.prepare(plan, request(plan), {}, "buildkit")["app"].cache_to == "none"


def test_listed_refs_of_other_registries_go_to_the_builder_unasked(tmp_path: Path) -> None:
    plan = make(tmp_path, cache={"from": ["other.example/a:1", f"{ECR}/team/app:gone"]})
    reg = Registry(set())
    out = cache_stage.attach(plan, request(plan), reg, PARENT)
    assert out["app"].cache_from == ("other.example/a:1",)
    assert reg.asked == [("team/app", "gone")]


@pytest.mark.parametrize(
    ("cache", "taken"),
    [
        (None, False),  # auto: every candidate is in the registry, which decides
        (False, False),
        ({"from": [f"{ECR}/team/app:main", f"{ECR}/team/base:1"]}, False),
        ({"from": ["other.example/a:1"]}, True),  # handed to the builder unasked
    ],
    ids=["auto", "off", "listed in the registry", "listed elsewhere"],
)
def test_a_cache_taken_without_lookup_is_one_another_registry_holds(
    tmp_path: Path, cache: object, taken: bool
) -> None:
    """Such a build waits for the lookup; any other may start before it (an early build)."""
    assert cache_stage.taken_without_lookup(make(tmp_path, cache=cache)) is taken


@pytest.mark.parametrize(
    ("builder", "to", "want_to", "want_ref"),
    [
        ("buildkit", None, "inline", None),
        ("buildkit", "registry", "inline", None),  # needs buildx: inline instead
        ("buildx", "registry", "registry", f"{ECR}/team/app:buildcache"),
        ("classic", "none", "none", None),
    ],
)
def test_prepare_says_where_the_cache_goes(
    tmp_path: Path, builder: str, to: str | None, want_to: str, want_ref: str | None
) -> None:
    plan = make(tmp_path, cache={"to": to} if to else None)
    out = cache_stage.prepare(plan, request(plan), {}, builder)["app"]
    assert (out.cache_to, out.cache_ref) == (want_to, want_ref)


def test_registry_cache_without_buildx_warns_and_leaves_inline_cache(tmp_path: Path) -> None:
    plan = make(tmp_path, cache={"to": "registry"})
    warnings: list[str] = []
    out = cache_stage.prepare(plan, request(plan), {}, "buildkit", warnings)["app"]
    assert out.cache_to == "inline"
    assert warnings == [
        "image app: cache.to registry needs docker buildx (buildkit builds here); leaving"
        " inline cache, which describes only the final stage"
    ]


def test_registry_cache_is_the_first_candidate_with_buildx(tmp_path: Path) -> None:
    plan = make(tmp_path, cache={"to": "registry"})
    prepared = cache_stage.prepare(plan, request(plan), {}, "buildx")
    out = cache_stage.attach(plan, prepared, Registry({"buildcache", "latest"}), None)
    assert out["app"].cache_from == (f"{ECR}/team/app:buildcache", f"{ECR}/team/app:latest")


def test_logins_cover_the_registry_from_lines_and_pull_from_that_the_helper_serves(
    tmp_path: Path,
) -> None:
    other = "987654321098.dkr.ecr.us-east-1.amazonaws.com"
    plan = make(
        tmp_path,
        dockerfile="ARG BASE\nFROM ${BASE} AS b\nFROM docker.io/library/x\nFROM b\n",
        type="ecr",
        account="123456789012",
        region="eu-west-1",
        pull_from=[other],
    )
    hosts = cache_stage.prepare(plan, request(plan), {}, "buildkit")["app"].registry_hosts
    assert set(hosts) == {ECR, other, "public.ecr.aws"}  # docker.io keeps the user's login


def test_a_generic_registry_keeps_the_users_own_login(tmp_path: Path) -> None:
    plan = make(tmp_path, type="generic", url="ghcr.io/acme")
    assert cache_stage.prepare(plan, request(plan), {}, "buildkit")["app"].registry_hosts == ()
