"""deploy_ecs from the service's answer to the result value, against fakes of the ports.

Scenarios 14-23 of reference/auth-push-deploy.md end to end through the core:
what is registered, what the service is updated to, how each rollout ends,
and what the result says.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pipeline.ecs import codepipeline
from pipeline.ecs.deploy import Deployment, EcsJob, EcsPorts, EcsTarget, deploy_all, deploy_ecs
from pipeline.ecs.ports import (
    CodeDeployStatus,
    DeploymentSettings,
    EcsApiError,
    LoadBalancer,
    StoppedTask,
)
from pipeline.guard import REVISION
from tests.unit.ecs.fakes import (
    DIGEST,
    NEW_IMAGE,
    OLD_IMAGE,
    TD1,
    TD2,
    TD3,
    FakeAncestry,
    FakeCodeDeploy,
    FakeEcs,
    FakeLabels,
    FakeTiming,
    Rollout,
    dep,
    event,
    service,
    steady,
    task_definition,
)

OLD_SHA, NEW_SHA = "1" * 40, "2" * 40
UNABLE = (
    "(service web) was unable to place a task because no container instance met all of its"
    " requirements."
)
TARGET = EcsTarget("prod", "web", wait=600.0)


class Strict(FakeEcs):
    """Any call outside the port (deleting a service, say) fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the deploy called {name}, which is not part of the port")


def run(
    ecs: FakeEcs,
    *,
    target: EcsTarget = TARGET,
    commit: str | None = NEW_SHA,
    labels: FakeLabels | None = None,
    ancestry: FakeAncestry | None = None,
    codedeploy: FakeCodeDeploy | None = None,
    clock: FakeTiming | None = None,
    lines: list[str] | None = None,
    **flags: bool,
) -> Deployment:
    labels = labels or FakeLabels({OLD_IMAGE: {REVISION: OLD_SHA}})
    ancestry = ancestry or FakeAncestry([(OLD_SHA, NEW_SHA)])
    sink = lines if lines is not None else []
    return deploy_ecs(
        target,
        NEW_IMAGE,
        commit,
        EcsPorts(ecs, labels, ancestry, codedeploy),
        timing=(clock or FakeTiming()).timing(),
        say=sink.append,
        **flags,
    )


def rolling(*polls: Any, after: Any = None, **kw: Any) -> Strict:
    first = after or service(
        dep("ecs-svc/new", TD2), dep("ecs-svc/old", TD1, "COMPLETED", status="ACTIVE"), td=TD2
    )
    return Strict(steady(**kw), [Rollout(first, list(polls))], described=task_definition())


def done(td: str = TD2, id: str = "ecs-svc/new") -> Any:
    return service(dep(id, td, "COMPLETED", running=2), td=td)


# ----------------------------------------------------------------------------- success


def test_a_rolling_deploy_registers_only_the_new_image_and_follows_it_to_completed() -> None:
    lines: list[str] = []
    ecs = rolling(service(dep("ecs-svc/new", TD2, running=1), td=TD2), done())
    result = run(ecs, lines=lines)
    assert result.status == "completed", result.message
    assert result.ok
    (request,) = ecs.registered
    expected = task_definition()["taskDefinition"]
    assert request["containerDefinitions"][0] == {
        **expected["containerDefinitions"][0],
        "image": NEW_IMAGE,
    }
    assert request["containerDefinitions"][1] == expected["containerDefinitions"][1]
    assert request["tags"] == [{"key": "team", "value": "shop"}]
    assert "registeredAt" not in request and "revision" not in request
    assert ecs.updates == [(TD2, False)]
    assert (result.image, result.previous) == (NEW_IMAGE, OLD_IMAGE)
    assert (result.task_definition, result.previous_task_definition) == (TD2, TD1)
    assert result.deployment_id == "ecs-svc/new"
    assert result.containers == ("app",)
    assert f"prod/web: app: {OLD_IMAGE} -> {NEW_IMAGE}" in lines
    assert lines.index(f"prod/web: app: {OLD_IMAGE} -> {NEW_IMAGE}") < lines.index(
        "prod/web: registered web:2"
    )
    assert result.to_json()["status"] == "completed"
    assert {"type", "target", "image", "previous", "status"} <= set(result.to_json())
    assert codepipeline.definitions(result)[0].image_uri == NEW_IMAGE


def test_stable_while_baking_is_not_done_and_the_wait_covers_the_bake_time() -> None:
    """BLUE_GREEN, 30-minute bake, `wait: 15m`: 40 minutes stable and IN_PROGRESS, then done."""
    settings = DeploymentSettings("BLUE_GREEN", bake_minutes=30)
    baking = service(dep("ecs-svc/new", TD2, "IN_PROGRESS", running=2), td=TD2, settings=settings)
    clock = FakeTiming()
    polls = [baking] * 1300 + [done()]  # about 43 minutes of 2 s polls
    ecs = Strict(steady(settings=settings), [Rollout(baking, polls)], described=task_definition())
    result = run(ecs, target=EcsTarget("prod", "web", wait=900.0), clock=clock)
    assert result.status == "completed", result.message
    assert 40 * 60 < clock.now < 45 * 60


def test_desired_count_zero_succeeds_at_once() -> None:
    idle = service(dep("ecs-svc/new", TD2), td=TD2, desired=0)
    ecs = Strict(steady(desired=0), [Rollout(idle, [idle])], described=task_definition())
    clock = FakeTiming()
    result = run(ecs, clock=clock)
    assert result.status == "completed"
    assert "desiredCount is 0" in result.message
    assert clock.sleeps == []


def test_force_with_the_same_task_definition_follows_the_new_deployment_id() -> None:
    """Scenario 19: the old deployment has the same task definition and is COMPLETED."""
    on_digest = task_definition(image=NEW_IMAGE)
    running = steady(td=TD1)
    forced = service(
        dep("ecs-svc/forced", TD1), dep("ecs-svc/old", TD1, "COMPLETED", status="ACTIVE")
    )
    polls = [forced, forced, done(TD1, "ecs-svc/forced")]
    ecs = Strict(running, [Rollout(forced, polls)], described=on_digest)
    clock = FakeTiming()
    result = run(ecs, force=True, clock=clock)
    assert ecs.updates == [(TD1, True)]
    assert ecs.registered == []
    assert result.deployment_id == "ecs-svc/forced"
    assert result.status == "completed"
    assert len(clock.sleeps) == 2, "not done while only the old deployment was COMPLETED"


def test_an_image_already_running_is_skipped_without_force() -> None:
    ecs = Strict(steady(), [], described=task_definition(image=NEW_IMAGE))
    result = run(ecs)
    assert result.status == "skipped"
    assert "already runs" in result.message
    assert ecs.registered == [] and ecs.updates == []


def test_an_image_being_deployed_already_is_followed_not_redeployed() -> None:
    going = service(dep("ecs-svc/theirs", TD1, "IN_PROGRESS"))
    ecs = Strict(going, [], described=task_definition(image=NEW_IMAGE))
    ecs.initial = going

    def finish(cluster: str, name: str) -> Any:
        ecs.describes += 1
        return going if ecs.describes < 3 else done(TD1, "ecs-svc/theirs")

    ecs.describe_service = finish  # type: ignore[method-assign]
    result = run(ecs)
    assert result.status == "completed"
    assert result.deployment_id == "ecs-svc/theirs"
    assert ecs.updates == []


# ----------------------------------------------------------------------------- failures


def test_circuit_breaker_rollback_is_a_failure_and_nothing_is_deregistered() -> None:
    """Scenario 18: ECS ends stable on the old revision; the waiter would say success."""
    reason = "ECS deployment circuit breaker: tasks failed to start."
    failed = service(
        dep("ecs-svc/rollback", TD1, "IN_PROGRESS"),
        dep("ecs-svc/new", TD2, "FAILED", status="ACTIVE", reason=reason),
        events=[
            event("e2", "(service web) rolling back to deployment ecs-svc/old."),
            event(
                "e1",
                "(service web) deployment ecs-svc/new deployment failed: tasks failed to start.",
            ),
        ],
    )
    back = service(dep("ecs-svc/rollback", TD1, "COMPLETED", running=2))
    stopped = StoppedTask(
        "arn:aws:ecs:us-east-1:1:task/prod/abc123",
        TD2,
        "Essential container in task exited",
        ("app: exit code 1",),
    )
    ecs = rolling(failed, back)
    ecs.stopped = (stopped,)
    result = run(ecs)
    assert result.status == "rolled_back"
    assert not result.ok
    assert reason in result.message and "the rollback completed" in result.message
    assert ecs.updates == [(TD2, False)], "ECS rolled back itself: no second update"
    assert result.events == (
        "(service web) deployment ecs-svc/new deployment failed: tasks failed to start.",
        "(service web) rolling back to deployment ecs-svc/old.",
        "stopped task abc123: Essential container in task exited; app: exit code 1",
    )
    assert ecs.stopped_asks == [TD2]


def test_new_deployment_vanished_and_service_stable_on_old_revision_is_rolled_back() -> None:
    ecs = rolling(service(dep("ecs-svc/rb", TD1, "COMPLETED", running=2)))
    result = run(ecs, target=EcsTarget("prod", "web", rollback=False))
    assert result.status == "rolled_back"
    assert "rolled back by the deployment circuit breaker" in result.message


def test_timeout_reports_events_and_stopped_tasks_and_leaves_the_service_without_rollback() -> None:
    """Scenario 21."""
    stuck = service(
        dep("ecs-svc/new", TD2, running=0, failed=4),
        dep("ecs-svc/old", TD1, "COMPLETED", status="ACTIVE"),
        td=TD2,
        events=[
            event("e2", "(service web) (task abc) failed container health checks."),
            event(
                "e1",
                UNABLE,
            ),
        ],
    )
    ecs = rolling(stuck)
    ecs.stopped = (
        StoppedTask("arn:aws:ecs:::task/prod/t1", TD2, "Task failed container health checks"),
    )
    result = run(ecs, target=EcsTarget("prod", "web", wait=120.0, rollback=False))
    assert result.status == "failed"
    assert "not finished after 2m" in result.message and "4 failed" in result.message
    assert result.events == (
        UNABLE,
        "(service web) (task abc) failed container health checks.",
        "stopped task t1: Task failed container health checks",
    )
    assert ecs.updates == [(TD2, False)]


def test_timeout_with_rollback_puts_the_previous_revision_back_and_waits_for_it() -> None:
    stuck = service(
        dep("ecs-svc/new", TD2), dep("ecs-svc/old", TD1, "COMPLETED", status="ACTIVE"), td=TD2
    )
    back_going = service(dep("ecs-svc/back", TD1), dep("ecs-svc/new", TD2, status="ACTIVE"))
    ecs = Strict(
        steady(),
        [Rollout(stuck, [stuck]), Rollout(back_going, [back_going, done(TD1, "ecs-svc/back")])],
        described=task_definition(),
    )
    result = run(ecs, target=EcsTarget("prod", "web", wait=60.0, rollback=True))
    assert ecs.updates == [(TD2, False), (TD1, False)]
    assert result.status == "rolled_back"
    assert "rolled back to web:1" in result.message


def test_circuit_breaker_without_rollback_and_a_failing_client_rollback_is_failed() -> None:
    failed = service(dep("ecs-svc/new", TD2, "FAILED", reason="tasks failed to start"), td=TD2)
    back_failed = service(dep("ecs-svc/back", TD1, "FAILED", reason="old revision broken too"))
    ecs = Strict(
        steady(),
        [Rollout(failed, [failed]), Rollout(back_failed, [back_failed])],
        described=task_definition(),
    )
    result = run(ecs)
    assert ecs.updates == [(TD2, False), (TD1, False)]
    assert result.status == "failed"
    assert "tasks failed to start" in result.message
    assert "the rollback to web:1 failed too: old revision broken too" in result.message


def test_a_deployment_replaced_by_someone_else_fails_and_is_not_rolled_back() -> None:
    theirs = service(dep("ecs-svc/theirs", TD3), dep("ecs-svc/new", TD2, status="ACTIVE"), td=TD3)
    ecs = rolling(theirs)
    result = run(ecs)
    assert result.status == "failed"
    assert "another update replaced it" in result.message
    assert ecs.updates == [(TD2, False)]


def test_lifecycle_hook_failure_on_blue_green_is_rolled_back_with_events() -> None:
    settings = DeploymentSettings("BLUE_GREEN", bake_minutes=5)
    hook = (
        "Lifecycle hook arn:aws:lambda:us-east-1:1:function:smoke failed in POST_TEST_TRAFFIC_SHIFT"
    )
    failed = service(
        dep("ecs-svc/back", TD1, "COMPLETED", running=2),
        dep("ecs-svc/new", TD2, "FAILED", status="ACTIVE", reason=hook),
        settings=settings,
        events=[event("h", f"(service web) {hook}")],
    )
    ecs = Strict(
        steady(settings=settings), [Rollout(failed, [failed])], described=task_definition()
    )
    result = run(ecs)
    assert result.status == "rolled_back"
    assert hook in result.message
    assert f"(service web) {hook}" in result.events


@pytest.mark.parametrize(
    ("initial", "says"),
    [
        (None, "service not found: ECS has no service prod/web"),
        (steady(status="DRAINING"), "is DRAINING"),
        (steady(status="INACTIVE"), "is INACTIVE"),
        (steady(controller="EXTERNAL"), "EXTERNAL deployment controller, which is unsupported"),
    ],
)
def test_services_that_cannot_take_a_deployment_fail_before_any_change(
    initial: Any, says: str
) -> None:
    ecs = Strict(initial, [], described=task_definition())
    result = run(ecs)
    assert result.status == "failed"
    assert says in result.message
    assert ecs.registered == [] and ecs.updates == []


def test_an_unknown_container_fails_naming_the_containers() -> None:
    ecs = Strict(steady(), [], described=task_definition())
    result = run(ecs, target=EcsTarget("prod", "web", containers=("api",)))
    assert result.status == "failed"
    assert (
        result.message
        == "no container named api in the task definition; its containers are: app, envoy"
    )
    assert ecs.registered == []


def test_no_deployment_started_is_a_failure_not_a_wait() -> None:
    unchanged = steady()
    ecs = Strict(steady(), [Rollout(unchanged, [unchanged])], described=task_definition())
    result = run(ecs, clock=FakeTiming())
    assert result.status == "failed"
    assert "ECS started no deployment for web:2" in result.message


def test_api_errors_become_a_failed_result_naming_the_operation() -> None:
    from pipeline.ecs.ports import EcsApiError

    class Denied(FakeEcs):
        def register_task_definition(self, request: Any) -> str:
            raise EcsApiError(
                "ECS RegisterTaskDefinition web: AccessDeniedException: not allowed",
                code="AccessDeniedException",
            )

    result = run(Denied(steady(), [], described=task_definition()))
    assert result.status == "failed"
    assert result.message == "ECS RegisterTaskDefinition web: AccessDeniedException: not allowed"


# ----------------------------------------------------------------------------- never backwards


def test_an_older_commit_is_refused_naming_both_and_nothing_changes() -> None:
    ecs = Strict(steady(), [], described=task_definition())
    labels = FakeLabels({OLD_IMAGE: {REVISION: NEW_SHA}})
    result = run(ecs, commit=OLD_SHA, labels=labels, ancestry=FakeAncestry([(OLD_SHA, NEW_SHA)]))
    assert result.status == "failed"
    assert f"commit {OLD_SHA} is an ancestor of {NEW_SHA}" in result.message
    assert "--force" in result.message
    assert ecs.registered == [] and ecs.updates == []


def test_force_deploys_an_older_commit_and_notes_it() -> None:
    ecs = rolling(done())
    labels = FakeLabels({OLD_IMAGE: {REVISION: NEW_SHA}})
    result = run(ecs, commit=OLD_SHA, labels=labels, force=True)
    assert result.status == "completed"
    assert any(n.startswith("--force: deploying although") for n in result.notes)


# ----------------------------------------------------------------------------- dry-run


def test_dry_run_prints_the_diff_and_changes_nothing() -> None:
    lines: list[str] = []
    ecs = Strict(steady(), [], described=task_definition())
    result = run(ecs, dry_run=True, lines=lines)
    assert result.status == "skipped"
    assert (
        result.message
        == "dry-run: would register a new revision of web and update service prod/web"
    )
    assert lines == [f"prod/web: app: {OLD_IMAGE} -> {NEW_IMAGE}"]
    assert ecs.registered == [] and ecs.updates == []


# ----------------------------------------------------------------------------- CODE_DEPLOY

LB = (LoadBalancer("app", 8080, "arn:tg/blue"),)


def codedeploy_service() -> Any:
    return steady(controller="CODE_DEPLOY", load_balancers=LB)


def test_code_deploy_service_gets_an_appspec_naming_the_new_revision() -> None:
    api = FakeCodeDeploy([CodeDeployStatus("InProgress"), CodeDeployStatus("Succeeded")])
    ecs = Strict(codedeploy_service(), [], described=task_definition())
    target = EcsTarget("prod", "web", codedeploy_application="shop", codedeploy_group="prod-web")
    result = run(ecs, target=target, codedeploy=api)
    assert result.status == "completed", result.message
    assert ecs.updates == [], "CODE_DEPLOY services are not updated directly"
    (created,) = api.created
    assert (created["application"], created["group"]) == ("shop", "prod-web")
    assert TD2 in created["appspec"]
    assert created["description"] == f"pipeline: {NEW_IMAGE}"
    assert result.deployment_id == "d-00000001"


def test_code_deploy_uses_the_console_default_names() -> None:
    api = FakeCodeDeploy([CodeDeployStatus("Succeeded")])
    run(Strict(codedeploy_service(), [], described=task_definition()), codedeploy=api)
    assert (api.created[0]["application"], api.created[0]["group"]) == (
        "AppECS-prod-web",
        "DgpECS-prod-web",
    )


def test_code_deploy_default_names_use_the_names_inside_arns() -> None:
    api = FakeCodeDeploy([CodeDeployStatus("Succeeded")])
    target = EcsTarget(
        "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
    )
    ecs = Strict(codedeploy_service(), [], described=task_definition())
    result = run(ecs, target=target, codedeploy=api)
    assert result.target == "prod/web"
    assert (api.created[0]["application"], api.created[0]["group"]) == (
        "AppECS-prod-web",
        "DgpECS-prod-web",
    )


def test_code_deploy_failure_with_auto_rollback_is_rolled_back_with_service_events() -> None:
    api = FakeCodeDeploy(
        [CodeDeployStatus("Failed", "HEALTH_CONSTRAINTS", "unhealthy", "d-RB", "")]
    )
    failing = steady(
        controller="CODE_DEPLOY",
        load_balancers=LB,
        events=[event("x", "(service web) task failed ELB health checks")],
    )
    ecs = Strict(codedeploy_service(), [], described=task_definition())
    ecs.describe_service = lambda c, s: failing  # type: ignore[method-assign]
    result = run(ecs, codedeploy=api)
    assert result.status == "rolled_back"
    assert "HEALTH_CONSTRAINTS unhealthy" in result.message
    assert result.events == ("(service web) task failed ELB health checks",)


def test_code_deploy_timeout_with_rollback_stops_the_deployment_with_rollback() -> None:
    api = FakeCodeDeploy(
        [CodeDeployStatus("InProgress")], extra=300.0, after_stop=[CodeDeployStatus("Stopped")]
    )
    clock = FakeTiming()
    result = run(
        Strict(codedeploy_service(), [], described=task_definition()),
        codedeploy=api,
        clock=clock,
        target=EcsTarget("prod", "web", wait=60.0),
    )
    assert api.stops == [("d-00000001", True)]
    assert result.status == "rolled_back"
    assert clock.now >= 360.0, "the group's ready and termination waits are added to `wait`"


def test_a_refused_stop_after_a_code_deploy_timeout_keeps_the_timeout_in_the_message() -> None:
    api = FakeCodeDeploy([CodeDeployStatus("InProgress")])

    def refuse(deployment_id: str, *, auto_rollback: bool) -> None:
        raise EcsApiError(f"CodeDeploy StopDeployment {deployment_id}: AccessDenied")

    api.stop_deployment = refuse  # type: ignore[method-assign]
    result = run(
        Strict(codedeploy_service(), [], described=task_definition()),
        codedeploy=api,
        clock=FakeTiming(),
        target=EcsTarget("prod", "web", wait=60.0),
    )
    assert result.status == "failed"
    assert result.message.startswith("CodeDeploy deployment d-00000001 still InProgress after 60s")
    assert "StopDeployment d-00000001: AccessDenied" in result.message


def test_code_deploy_without_load_balancer_fails_before_creating_anything() -> None:
    api = FakeCodeDeploy([CodeDeployStatus("Succeeded")])
    ecs = Strict(steady(controller="CODE_DEPLOY"), [], described=task_definition())
    result = run(ecs, codedeploy=api)
    assert result.status == "failed" and "no load balancer" in result.message
    assert api.created == []
    assert ecs.deregistered == [TD2] and ecs.active() == [TD1]
    assert result.message.endswith("; the new revision web:2 was deregistered")


# ------------------------------------------------------------- a refused start leaves nothing

DENIED_UPDATE = EcsApiError(
    "ECS UpdateService prod/web: AccessDeniedException: not allowed",
    code="AccessDeniedException",
)
DENIED_CREATE = EcsApiError(
    "CodeDeploy CreateDeployment AppECS-prod-web/DgpECS-prod-web: DeploymentLimitExceeded",
    code="DeploymentLimitExceededException",
)
DENIED_DEREGISTER = EcsApiError(
    f"ECS DeregisterTaskDefinition {TD2}: AccessDeniedException: not allowed",
    code="AccessDeniedException",
)


@pytest.mark.parametrize(
    ("controller", "deregister_refused", "message", "active"),
    [
        (
            "ECS",
            False,
            f"{DENIED_UPDATE}; the new revision web:2 was deregistered",
            [TD1],
        ),
        (
            "ECS",
            True,
            f"{DENIED_UPDATE}; the new revision web:2 could not be deregistered:"
            f" {DENIED_DEREGISTER}",
            [TD1, TD2],
        ),
        (
            "CODE_DEPLOY",
            False,
            f"{DENIED_CREATE}; the new revision web:2 was deregistered",
            [TD1],
        ),
        (
            "CODE_DEPLOY",
            True,
            f"{DENIED_CREATE}; the new revision web:2 could not be deregistered:"
            f" {DENIED_DEREGISTER}",
            [TD1, TD2],
        ),
    ],
    ids=[
        "UpdateService refused",
        "UpdateService refused, deregister refused",
        "CreateDeployment refused",
        "CreateDeployment refused, deregister refused",
    ],
)
def test_a_refused_start_deregisters_the_revision_it_registered(
    controller: str, deregister_refused: bool, message: str, active: list[str]
) -> None:
    ecs = Strict(steady(controller=controller, load_balancers=LB), [], described=task_definition())
    ecs.refuse_update = DENIED_UPDATE
    if deregister_refused:
        ecs.refuse_deregister = DENIED_DEREGISTER
    api = FakeCodeDeploy([CodeDeployStatus("Succeeded")])
    api.refuse = DENIED_CREATE
    result = run(ecs, codedeploy=api)
    assert result.status == "failed"
    assert result.message == message
    assert ecs.registered and ecs.deregistered == [TD2]
    assert ecs.active() == active


def test_a_refused_forced_redeploy_keeps_the_revision_the_service_runs() -> None:
    ecs = Strict(steady(td=TD1), [], described=task_definition(image=NEW_IMAGE))
    ecs.refuse_update = DENIED_UPDATE
    result = run(ecs, force=True)
    assert (result.status, result.message) == ("failed", str(DENIED_UPDATE))
    assert ecs.updates == [(TD1, True)]
    assert ecs.deregistered == [] and ecs.active() == [TD1]


def test_a_rollout_that_fails_after_the_update_keeps_the_revision_the_service_took() -> None:
    ecs = rolling(service(dep("ecs-svc/new", TD2, "FAILED"), td=TD2))
    result = run(ecs, clock=FakeTiming(), target=EcsTarget("prod", "web", rollback=False))
    assert result.status == "failed", result.message
    assert ecs.deregistered == [] and ecs.active() == [TD1, TD2]


# ----------------------------------------------------------------------------- several targets


def test_several_targets_deploy_at_the_same_time_and_keep_their_order() -> None:
    barrier = threading.Barrier(2, timeout=10)

    class Meeting(FakeEcs):
        def update_service(self, *args: Any, **kwargs: Any) -> Any:
            barrier.wait()  # breaks (and fails the test) unless both deploys are here at once
            return super().update_service(*args, **kwargs)

    def ecs() -> Meeting:
        first = service(dep("ecs-svc/new", TD2), td=TD2)
        return Meeting(steady(), [Rollout(first, [done()])], described=task_definition())

    labels = FakeLabels({OLD_IMAGE: {REVISION: OLD_SHA}})
    jobs = [
        EcsJob(
            EcsTarget("prod", name),
            NEW_IMAGE,
            NEW_SHA,
            EcsPorts(ecs(), labels, FakeAncestry([(OLD_SHA, NEW_SHA)])),
        )
        for name in ("web", "api")
    ]
    results = deploy_all(jobs, timing=FakeTiming().timing(), say=lambda _l: None)
    assert [r.target for r in results] == ["prod/web", "prod/api"]
    assert [r.status for r in results] == ["completed", "completed"]


def test_a_digestless_image_is_refused() -> None:
    result = deploy_ecs(
        TARGET,
        NEW_IMAGE.replace(f"@{DIGEST}", ":latest"),
        NEW_SHA,
        EcsPorts(Strict(steady(), [], described=task_definition()), FakeLabels(), FakeAncestry()),
        timing=FakeTiming().timing(),
        say=lambda _l: None,
    )
    assert result.status == "failed" and "has no digest" in result.message


def test_cancelling_ends_the_waits_and_says_the_deployment_goes_on() -> None:
    cancel = threading.Event()
    going = service(dep("ecs-svc/new", TD2), td=TD2)

    class Cancelled(FakeEcs):
        def describe_service(self, cluster: str, name: str) -> Any:
            if self.updates:
                cancel.set()  # Ctrl-C while the rollout is followed
            return super().describe_service(cluster, name)

    ecs = Cancelled(steady(), [Rollout(going, [going])], described=task_definition())
    labels = FakeLabels({OLD_IMAGE: {REVISION: OLD_SHA}})
    ports = EcsPorts(ecs, labels, FakeAncestry([(OLD_SHA, NEW_SHA)]))
    clock = FakeTiming()
    (result,) = deploy_all(
        [EcsJob(TARGET, NEW_IMAGE, NEW_SHA, ports)],
        timing=clock.timing(),
        say=lambda _l: None,
        cancel=cancel,
    )
    assert result.status == "failed"
    assert result.message == "interrupted; the deployment started goes on in ECS"
    assert result.deployment_id == "ecs-svc/new"
    assert clock.now <= 2.0


def test_a_config_target_becomes_plain_values() -> None:
    from pipeline.config.schema import CodeDeploy
    from pipeline.config.schema import EcsTarget as Config

    config = Config(
        type="ecs",
        image="web",
        cluster="prod",
        service="web",
        containers=("app",),
        wait="1m",
        rollback=False,
        codedeploy=CodeDeploy(application="shop", deployment_group="prod-web"),
    )
    target = EcsTarget.from_config(config, also_matches=["reg.example/shop/web"])
    assert target == EcsTarget(
        "prod", "web", ("app",), 60.0, False, "shop", "prod-web", None, ("reg.example/shop/web",)
    )
