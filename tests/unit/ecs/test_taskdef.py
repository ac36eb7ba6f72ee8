"""The new revision keeps every field of the task definition; only images change.

Scenarios 14-17 of reference/auth-push-deploy.md, against the allowlist read
from the installed botocore's own ECS model, and the request checked with
botocore's own parameter validator (what the real call would do first).
"""

from __future__ import annotations

import copy
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from pipeline.ecs import taskdef
from pipeline.ecs.taskdef import TaskDefinitionError, new_revision
from tests.unit.ecs.fakes import DIGEST, REPO, registrable_keys
from tests.unit.ecs.taskdefs import DESCRIBE_ONLY, rich

ALLOWED = registrable_keys()
PINNED = f"{REPO}@{DIGEST}"


def validate(request: Any) -> None:
    """What botocore checks before sending RegisterTaskDefinition."""
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()


def test_only_the_named_container_changes_every_other_field_is_kept() -> None:
    described = rich()
    before = copy.deepcopy(described)
    revision = new_revision(described, PINNED, ALLOWED, ["app"])
    validate(revision.request)
    assert described == before, "the description is not modified"
    expected = {k: v for k, v in before["taskDefinition"].items() if k not in DESCRIBE_ONLY}
    expected = copy.deepcopy(expected)
    expected["containerDefinitions"][0]["image"] = PINNED
    expected["tags"] = [{"key": "team", "value": "shop"}, {"key": "cost-center", "value": ""}]
    assert revision.request == expected
    assert revision.changes == (taskdef.ImageChange("app", f"{REPO}:sha-1234567", PINNED),)
    assert revision.containers == ("app",)


def test_describe_only_and_unknown_keys_are_left_out_and_listed() -> None:
    revision = new_revision(rich(), PINNED, ALLOWED, ["app"])
    assert set(revision.left_out) == {*DESCRIBE_ONLY, "tags[aws:cloudformation:stack-name]"}
    assert not set(DESCRIBE_ONLY) & set(revision.request)
    for kept in ("enableFaultInjection", "runtimePlatform", "ephemeralStorage", "pidMode"):
        assert revision.request[kept] == rich()["taskDefinition"][kept]


def test_the_allowlist_is_the_sdk_model_not_a_strip_list() -> None:
    # A key the SDK takes is carried even if this code has never heard of it.
    described = rich()
    described["taskDefinition"]["someFieldEcsAddsNextYear"] = "kept"
    revision = new_revision(described, PINNED, ALLOWED | {"someFieldEcsAddsNextYear"}, ["app"])
    assert revision.request["someFieldEcsAddsNextYear"] == "kept"
    # And one it does not take is left out, whatever it is called.
    narrow = new_revision(rich(), PINNED, frozenset({"family", "containerDefinitions"}), ["app"])
    assert set(narrow.request) == {"family", "containerDefinitions"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("containerDefinitions", 0, "environment", 0), {"name": "EMPTY_ON_PURPOSE", "value": ""}),
        (("containerDefinitions", 0, "logConfiguration", "options", "tag"), ""),
        (("containerDefinitions", 0, "logConfiguration", "options", "log_key"), "k=v=w"),
        (("containerDefinitions", 0, "dockerLabels", "com.example.query"), "a=b=c"),
        (("containerDefinitions", 0, "dockerLabels", "empty"), ""),
        (("containerDefinitions", 0, "entryPoint"), []),
        (("containerDefinitions", 0, "volumesFrom"), []),
        (("containerDefinitions", 0, "linuxParameters", "capabilities", "add"), []),
        (("containerDefinitions", 2, "firelensConfiguration", "options"), {}),
        (("containerDefinitions", 3, "environment"), []),
        (("proxyConfiguration", "properties", 1), {"name": "EgressIgnoredIPs", "value": ""}),
        (("placementConstraints",), []),
        (("volumes", 0), {"name": "scratch", "host": {}}),
        (("enableFaultInjection",), False),
        (("tags", 1), {"key": "cost-center", "value": ""}),
    ],
)
def test_no_lossy_pruning(path: tuple[Any, ...], value: Any) -> None:
    node: Any = new_revision(rich(), PINNED, ALLOWED, ["app"]).request
    for step in path:
        node = node[step]
    assert node == value


def test_default_selection_is_every_container_of_this_repository() -> None:
    revision = new_revision(rich(), PINNED, ALLOWED)
    # app (by tag) and worker (by another digest); never the sidecars
    assert revision.containers == ("app", "worker")
    assert [c.container for c in revision.changes] == ["app", "worker"]
    assert revision.request["containerDefinitions"][3]["image"] == PINNED
    assert revision.request["containerDefinitions"][1]["image"].endswith("envoy:v1.27")


def test_another_host_name_of_the_same_repository_counts_when_given() -> None:
    described = rich()
    sandbox = "127.0.0.1:5262/shop/web"
    revision = new_revision(described, f"{sandbox}@{DIGEST}", ALLOWED, also=[REPO])
    assert revision.containers == ("app", "worker")
    with pytest.raises(TaskDefinitionError, match="no container of the task definition runs"):
        new_revision(rich(), f"{sandbox}@{DIGEST}", ALLOWED)


def test_a_comma_list_names_several_containers() -> None:
    revision = new_revision(rich(), PINNED, ALLOWED, ["app,worker"])
    assert revision.containers == ("app", "worker")


def test_an_unknown_container_lists_the_names_that_exist() -> None:
    with pytest.raises(TaskDefinitionError) as err:
        new_revision(rich(), PINNED, ALLOWED, ["app", "api"])
    assert str(err.value) == (
        "no container named api in the task definition; its containers are:"
        " app, envoy, log_router, worker"
    )


def test_no_matching_container_says_what_runs() -> None:
    with pytest.raises(TaskDefinitionError, match=r"log_router \(public.ecr.aws"):
        new_revision(rich(), f"other.example/x@{DIGEST}", ALLOWED)


@pytest.mark.parametrize(
    "image",
    [
        "host:5000/repo",
        "host:5000/repo:t",
        f"host:5000/repo@{DIGEST}",
        f"host:5000/repo:t@{DIGEST}",
    ],
)
def test_images_are_matched_with_a_real_reference_parser(image: str) -> None:
    new = f"host:5000/repo@sha256:{'e' * 64}"
    task = {"family": "f", "containerDefinitions": [{"name": "c", "image": image}]}
    revision = new_revision({"taskDefinition": task}, new, ALLOWED)
    assert revision.containers == ("c",)
    assert revision.request["containerDefinitions"][0]["image"] == new


def test_an_image_already_on_the_digest_is_no_change() -> None:
    described = rich()
    described["taskDefinition"]["containerDefinitions"][0]["image"] = PINNED
    revision = new_revision(described, PINNED, ALLOWED, ["app"])
    assert revision.unchanged
    assert revision.old_images() == (PINNED,)


def test_an_image_without_digest_is_refused() -> None:
    with pytest.raises(TaskDefinitionError, match="has no digest"):
        new_revision(rich(), f"{REPO}:latest", ALLOWED)


def test_the_diff_reads_container_old_new() -> None:
    change = new_revision(rich(), PINNED, ALLOWED, ["app"]).changes[0]
    assert change.render() == f"app: {REPO}:sha-1234567 -> {PINNED}"


def test_missing_tags_stay_missing() -> None:
    described = rich()
    del described["tags"]
    assert "tags" not in new_revision(described, PINNED, ALLOWED, ["app"]).request


def test_an_image_that_is_no_reference_is_a_deploy_error() -> None:
    with pytest.raises(TaskDefinitionError, match="is not a repository path"):
        new_revision(rich(), "Shop/Web@" + DIGEST, ALLOWED)


# ------------------------------------------------------------- several images, one revision

ENVOY_REPO = "840364872350.dkr.ecr.us-east-1.amazonaws.com/aws-appmesh-envoy"
ENVOY_PINNED = f"{ENVOY_REPO}@sha256:{'e' * 64}"


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        pytest.param(
            [taskdef.Part(PINNED, ["app"]), taskdef.Part(ENVOY_PINNED)],
            {"app": PINNED, "envoy": ENVOY_PINNED},
            id="named-and-by-repository",
        ),
        pytest.param(
            [taskdef.Part(ENVOY_PINNED), taskdef.Part(PINNED, ["app,worker"])],
            {"envoy": ENVOY_PINNED, "app": PINNED, "worker": PINNED},
            id="comma-list-and-order-of-parts",
        ),
    ],
)
def test_several_images_change_their_own_containers_in_one_request(
    parts: list[taskdef.Part], expected: dict[str, str]
) -> None:
    described = rich()
    views = taskdef.new_revisions(described, parts, ALLOWED)
    validate(views[0].request)
    assert all(v.request is views[0].request for v in views), "one revision for every image"
    images = {c["name"]: c["image"] for c in views[0].request["containerDefinitions"]}
    untouched = {
        c["name"]: c["image"]
        for c in described["taskDefinition"]["containerDefinitions"]
        if c["name"] not in expected
    }
    assert images == {**untouched, **expected}
    for part, view in zip(parts, views, strict=True):
        assert {c.container for c in view.changes} == set(view.containers)
        assert all(c.new == part.image for c in view.changes)
        assert set(view.previous) == set(view.containers)


def test_the_multi_image_request_equals_two_single_rewrites_chained() -> None:
    # what chaining two amazon-ecs-render-task-definition steps gives, field for field
    described = rich()
    first = new_revision(described, PINNED, ALLOWED, ["app"])
    chained = {"taskDefinition": dict(first.request), "tags": first.request.get("tags")}
    second = new_revision(chained, ENVOY_PINNED, ALLOWED)
    views = taskdef.new_revisions(
        described, [taskdef.Part(PINNED, ["app"]), taskdef.Part(ENVOY_PINNED)], ALLOWED
    )
    assert views[0].request == second.request


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param(
            [taskdef.Part(PINNED, ["app"]), taskdef.Part(ENVOY_PINNED, ["app"])], id="named"
        ),
        pytest.param([taskdef.Part(PINNED), taskdef.Part(ENVOY_PINNED, ["worker"])], id="by-repo"),
    ],
)
def test_a_container_claimed_by_two_images_is_refused(parts: list[taskdef.Part]) -> None:
    with pytest.raises(TaskDefinitionError, match="would get both"):
        taskdef.new_revisions(rich(), parts, ALLOWED)


def test_one_part_is_byte_for_byte_the_single_image_rewrite() -> None:
    single = new_revision(rich(), PINNED, ALLOWED, ["app"])
    (view,) = taskdef.new_revisions(rich(), [taskdef.Part(PINNED, ["app"])], ALLOWED)
    assert view == single
