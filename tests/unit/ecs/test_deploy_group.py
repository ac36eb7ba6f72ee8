"""deploy_group: two images of one service, one revision, one rollout, one result each."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.ecs.deploy import Deployment, EcsPorts, EcsTarget, deploy_group
from pipeline.guard import REVISION
from tests.unit.ecs.fakes import (
    NEW_IMAGE,
    OLD_IMAGE,
    TD1,
    TD2,
    FakeAncestry,
    FakeEcs,
    FakeLabels,
    FakeTiming,
    Rollout,
    dep,
    service,
    steady,
    task_definition,
)

OLD_SHA, NEW_SHA = "1" * 40, "2" * 40
ENVOY_OLD = "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.27"
ENVOY_NEW = "public.ecr.aws/appmesh/aws-appmesh-envoy@sha256:" + "e" * 64
APP = EcsTarget("prod", "web", wait=60.0)
ENVOY = EcsTarget("prod", "web", wait=60.0)


def rolling(*polls: Any, described: dict[str, Any] | None = None) -> FakeEcs:
    first = service(
        dep("ecs-svc/new", TD2), dep("ecs-svc/old", TD1, "COMPLETED", status="ACTIVE"), td=TD2
    )
    return FakeEcs(
        steady(), [Rollout(first, list(polls))], described=described or task_definition()
    )


def done(td: str = TD2, id: str = "ecs-svc/new") -> Any:
    return service(dep(id, td, "COMPLETED", running=2), td=td)


def run(
    ecs: FakeEcs,
    *,
    envoy: str = ENVOY_NEW,
    labels: FakeLabels | None = None,
    commit: str = NEW_SHA,
    lines: list[str] | None = None,
    **flags: bool,
) -> tuple[Deployment, ...]:
    labels = labels or FakeLabels({OLD_IMAGE: {REVISION: OLD_SHA}})
    return deploy_group(
        [(APP, NEW_IMAGE, commit), (ENVOY, envoy, commit)],
        EcsPorts(ecs, labels, FakeAncestry([(OLD_SHA, NEW_SHA)])),
        timing=FakeTiming().timing(),
        say=(lines if lines is not None else []).append,
        **flags,
    )


def test_two_images_are_registered_in_one_revision_and_rolled_out_once() -> None:
    ecs = rolling(done())
    app, envoy = run(ecs)
    assert (app.status, envoy.status) == ("completed", "completed"), app.message
    (request,) = ecs.registered
    images = {c["name"]: c["image"] for c in request["containerDefinitions"]}
    assert images == {"app": NEW_IMAGE, "envoy": ENVOY_NEW}
    assert request["containerDefinitions"][0]["environment"] == [{"name": "EMPTY", "value": ""}]
    assert ecs.updates == [(TD2, False)]
    assert (app.image, app.previous, app.containers) == (NEW_IMAGE, OLD_IMAGE, ("app",))
    assert (envoy.image, envoy.previous, envoy.containers) == (ENVOY_NEW, ENVOY_OLD, ("envoy",))
    assert app.target == envoy.target == "prod/web"
    assert app.task_definition == envoy.task_definition == TD2
    assert app.deployment_id == envoy.deployment_id == "ecs-svc/new"


@pytest.mark.parametrize(
    ("app_running", "envoy_running", "registered"),
    [
        pytest.param(NEW_IMAGE, ENVOY_OLD, 1, id="only-envoy-changes"),
        pytest.param(OLD_IMAGE, ENVOY_NEW, 1, id="only-app-changes"),
        pytest.param(NEW_IMAGE, ENVOY_NEW, 0, id="both-already-run"),
    ],
)
def test_a_service_is_skipped_only_when_every_entry_runs_its_digest(
    app_running: str, envoy_running: str, registered: int
) -> None:
    described = task_definition(app_running)
    described["taskDefinition"]["containerDefinitions"][1]["image"] = envoy_running
    ecs = rolling(done(), described=described)
    results = run(ecs)
    assert len(ecs.registered) == registered
    expected = "completed" if registered else "skipped"
    assert [r.status for r in results] == [expected, expected]


def test_a_failed_rollout_rolls_back_and_marks_both_entries() -> None:
    stuck = service(
        dep("ecs-svc/new", TD2), dep("ecs-svc/old", TD1, "COMPLETED", status="ACTIVE"), td=TD2
    )
    back = service(dep("ecs-svc/back", TD1), dep("ecs-svc/new", TD2, status="ACTIVE"))
    ecs = FakeEcs(
        steady(),
        [Rollout(stuck, [stuck]), Rollout(back, [back, done(TD1, "ecs-svc/back")])],
        described=task_definition(),
    )
    results = run(ecs)
    assert ecs.updates == [(TD2, False), (TD1, False)], "one rollout, one rollback"
    assert [r.status for r in results] == ["rolled_back", "rolled_back"]
    assert results[0].message == results[1].message


def test_an_older_commit_of_either_image_refuses_the_whole_service() -> None:
    ecs = rolling(done())
    labels = FakeLabels({OLD_IMAGE: {REVISION: NEW_SHA}})
    results = run(ecs, labels=labels, commit=OLD_SHA)
    assert [r.status for r in results] == ["failed", "failed"]
    assert "--force" in results[1].message
    assert ecs.registered == [] and ecs.updates == []


def test_dry_run_prints_one_diff_naming_both_containers() -> None:
    lines: list[str] = []
    ecs = rolling(done())
    results = run(ecs, dry_run=True, lines=lines)
    assert lines == [
        f"prod/web: app: {OLD_IMAGE} -> {NEW_IMAGE}",
        f"prod/web: envoy: {ENVOY_OLD} -> {ENVOY_NEW}",
    ]
    assert [r.status for r in results] == ["skipped", "skipped"]
    assert ecs.registered == [] and ecs.updates == []


def test_two_images_for_one_container_fail_both_entries_before_any_change() -> None:
    ecs = rolling(done())
    envoy_on_app = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web@sha256:" + "f" * 64
    results = run(ecs, envoy=envoy_on_app)
    assert [r.status for r in results] == ["failed", "failed"]
    assert "would get both" in results[1].message
    assert ecs.registered == []
