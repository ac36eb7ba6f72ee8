"""Deploying one image, by digest, to one ECS service; and to several at once.

`deploy_ecs` reads the service and its task definition, registers a revision
that changes only the chosen containers' image, refuses to go backwards,
updates the service (or asks CodeDeploy), follows the new deployment by its id
and, on failure with `rollback`, puts the service back on the previous task
definition. It never raises for a deploy that went wrong: the answer is a
`Deployment` value whose status says what happened (completed, rolled_back,
failed, skipped), with the service events and stopped tasks that explain it.
It deregisters only the revision it registered itself, and only when
UpdateService (or CodeDeploy's CreateDeployment) refused to start it, so a
refused deploy leaves nothing behind; a revision a service took stays.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypeVar

from pipeline import guard, imageref, log
from pipeline.deployment import Deployment, Status
from pipeline.ecs import codedeploy, rollout, taskdef
from pipeline.ecs.names import arn_region, short_name
from pipeline.ecs.ports import (
    CodeDeployApi,
    EcsApi,
    EcsDeployment,
    Service,
    Timing,
)
from pipeline.ecs.rollout import EventLog, Outcome, Phase
from pipeline.ecs.waiting import retrying
from pipeline.errors import DeployError, PipelineError
from pipeline.guard import Ancestry, ImageLabels

if TYPE_CHECKING:
    from pipeline.config.schema import EcsTarget as EcsTargetConfig

LineSink = Callable[[str], None]
T = TypeVar("T")

EVENTS_SHOWN = 10  # service events kept in a result
STOPPED_TASKS_SHOWN = 5
SUPPORTED_CONTROLLERS = ("ECS", "CODE_DEPLOY")


def _info(line: str) -> None:
    log.LOG.info("%s", line)


@dataclass(frozen=True)
class EcsTarget:
    """One `deploy: - type: ecs` entry, as plain values."""

    cluster: str
    service: str
    containers: tuple[str, ...] | None = None
    wait: float = 900.0
    rollback: bool = True
    codedeploy_application: str | None = None
    codedeploy_group: str | None = None
    appspec: str | None = None  # the user's AppSpec text, if any
    #: other names of the image's repository that count as "this repository"
    #: (ECR's own host when images are pushed through a host override)
    also_matches: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{short_name(self.cluster)}/{short_name(self.service)}"

    @classmethod
    def from_config(
        cls,
        target: EcsTargetConfig,
        *,
        also_matches: Sequence[str] = (),
        appspec: str | None = None,
    ) -> EcsTarget:
        cd = target.codedeploy
        return cls(
            cluster=target.cluster,
            service=target.service,
            containers=target.containers,
            wait=target.wait,
            rollback=target.rollback,
            codedeploy_application=cd.application if cd else None,
            codedeploy_group=cd.deployment_group if cd else None,
            appspec=appspec,
            also_matches=tuple(also_matches),
        )


class Interrupted(DeployError):
    """The run was interrupted (Ctrl-C) while a deploy was in flight."""


@dataclass(frozen=True)
class EcsPorts:
    ecs: EcsApi
    labels: ImageLabels
    ancestry: Ancestry
    codedeploy: CodeDeployApi | None = None


__all__ = [
    "Deployment",
    "EcsJob",
    "EcsPorts",
    "EcsTarget",
    "arn_region",
    "deploy_all",
    "deploy_ecs",
    "deploy_group",
    "short_name",
]


Member = tuple[EcsTarget, str, str | None]


@dataclass
class _Run:
    """The state of one deploy; each method is one step."""

    target: EcsTarget
    image: str
    revision: str | None
    ports: EcsPorts
    timing: Timing
    dry_run: bool
    force: bool
    say: LineSink
    #: the other entries deployed with this one (same service): target, image, commit
    others: tuple[Member, ...] = ()
    result: Deployment = field(init=False)
    #: each entry's view of the one new revision, this entry's first
    views: tuple[taskdef.NewRevision, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        self.result = Deployment("ecs", self.target.name, self.image, None, "failed", "")

    def done(self, status: Status, message: str) -> Deployment:
        self.result = replace(self.result, status=status, message=message)
        return self.result

    def note(self, text: str) -> None:
        self.result = replace(self.result, notes=(*self.result.notes, text))

    def line(self, text: str) -> None:
        self.say(f"{self.target.name}: {text}")

    # ------------------------------------------------------------------ steps

    def go(self) -> Deployment:
        ecs = self.ports.ecs
        service = self._service()
        if isinstance(service, Deployment):
            return service
        current = service.task_definition
        assert current is not None
        described = ecs.describe_task_definition(current)
        members = ((self.target, self.image, self.revision), *self.others)
        self.views = taskdef.new_revisions(
            described,
            [taskdef.Part(image, t.containers, t.also_matches) for t, image, _ in members],
            ecs.registrable_keys(),
        )
        revision = self.views[0]
        old = revision.old_images()
        self.result = replace(
            self.result,
            image=imageref.parse_strict(self.image).by_digest(),
            previous=old[0] if old else None,
            containers=revision.containers,
            changes=revision.changes,
            previous_task_definition=current,
        )
        if revision.left_out:
            self.note(
                "not carried over (RegisterTaskDefinition does not take them): "
                + ", ".join(revision.left_out)
            )
        changes = [c for view in self.views for c in view.changes]
        if not changes:
            # skipped only when every entry's containers already run its digest
            return self._unchanged(service, current)
        for (_, image, commit), view in zip(members, self.views, strict=True):
            if view.unchanged:
                continue
            verdict = guard.check(
                commit=commit,
                image=imageref.parse_strict(image).by_digest(),
                running_images=[c.old for c in view.changes],
                labels=self.ports.labels,
                ancestry=self.ports.ancestry,
                force=self.force,
            )
            self.note(verdict.message)
            if not verdict.allowed:
                return self.done(
                    "failed", f"refused: {verdict.message}; pass --force to deploy it anyway"
                )
        for change in changes:
            self.line(change.render())
        if self.dry_run:
            return self.done(
                "skipped",
                f"dry-run: would register a new revision of {revision.family} and"
                f" {self._how(service)}",
            )
        new_td = ecs.register_task_definition(revision.request)
        self.result = replace(self.result, task_definition=new_td)
        self.line(f"registered {rollout.short_td(new_td)}")
        return self._roll(service, new_td, previous_td=current, force_new=False)

    def _service(self) -> Service | Deployment:
        t = self.target
        service = self.ports.ecs.describe_service(t.cluster, t.service)
        if service is None:
            return self.done("failed", f"service not found: ECS has no service {t.name}")
        if service.status != "ACTIVE":
            return self.done(
                "failed", f"service {t.name} is {service.status}: it cannot take a deployment"
            )
        if service.controller not in SUPPORTED_CONTROLLERS:
            return self.done(
                "failed",
                f"service {t.name} uses the {service.controller} deployment controller, which"
                " is unsupported: only ECS (rolling, blue/green, linear, canary) and CODE_DEPLOY"
                " services can be deployed",
            )
        if not service.task_definition:
            return self.done("failed", f"service {t.name} has no task definition to start from")
        return service

    def _images(self) -> str:
        """The images this deploy moves the service to, as one phrase."""
        others = [imageref.parse_strict(image).by_digest() for _, image, _ in self.others]
        return " and ".join([self.result.image, *others])

    def results(self) -> tuple[Deployment, ...]:
        """One result per entry: the shared outcome, each with its own image and containers."""
        out = [self.result]
        for i, (target, image, _) in enumerate(self.others, start=1):
            ref = imageref.parse(image)
            mine = replace(
                self.result,
                target=target.name,
                image=ref.by_digest() if ref is not None and ref.digest else image,
                previous=None,
                containers=(),
                changes=(),
            )
            if i < len(self.views):
                view = self.views[i]
                old = view.old_images()
                mine = replace(
                    mine,
                    previous=old[0] if old else None,
                    containers=view.containers,
                    changes=view.changes,
                )
            out.append(mine)
        return tuple(out)

    def _how(self, service: Service) -> str:
        if service.controller == "CODE_DEPLOY":
            app, group = self._codedeploy_names()
            return f"create a CodeDeploy deployment in {app}/{group}"
        return f"update service {self.target.name}"

    def _unchanged(self, service: Service, current: str) -> Deployment:
        primary = service.primary()
        if not self.force:
            rolling = primary is not None and primary.rollout_state == "IN_PROGRESS"
            if primary is not None and rolling and primary.task_definition == current:
                self.line(f"already deploying this image; following deployment {primary.id}")
                return self._follow(service, primary, current, previous_td=None)
            self.result = replace(self.result, task_definition=current)
            return self.done(
                "skipped",
                f"already runs {self._images()} ({rollout.short_td(current)}); nothing to do",
            )
        if self.dry_run:
            return self.done(
                "skipped",
                f"dry-run: would start a new deployment of {rollout.short_td(current)} (--force)",
            )
        self.line(
            f"already runs this image; --force: new deployment of {rollout.short_td(current)}"
        )
        self.result = replace(self.result, task_definition=current)
        return self._roll(service, current, previous_td=current, force_new=True)

    def _roll(
        self, service: Service, new_td: str, *, previous_td: str, force_new: bool
    ) -> Deployment:
        # force_new redeploys the revision the service runs: never one to take away.
        registered = not force_new
        if service.controller == "CODE_DEPLOY":
            return self._codedeploy(service, new_td, registered=registered)
        t = self.target
        events = EventLog(service.events)
        after = self._starting(
            lambda: self.ports.ecs.update_service(
                t.cluster, t.service, new_td, force_new_deployment=force_new
            ),
            new_td,
            registered=registered,
        )
        if after.desired_count == 0:
            return self.done(
                "completed",
                f"service updated to {rollout.short_td(new_td)}; desiredCount is 0, so no task"
                " had to be replaced",
            )
        deployment = self._new_deployment(service, after, new_td)
        if deployment is None:
            return self.done(
                "failed",
                f"ECS started no deployment for {rollout.short_td(new_td)} (the service's"
                " deployments did not change)",
            )
        return self._follow(after, deployment, new_td, previous_td=previous_td, events=events)

    def _new_deployment(self, before: Service, after: Service, td: str) -> EcsDeployment | None:
        known = {d.id for d in before.deployments}
        for _ in range(3):  # the answer to UpdateService normally has it already
            fresh = [d for d in after.deployments if d.id not in known]
            # ours runs the revision we asked for; a fresh PRIMARY on another one is
            # already ECS's rollback of it
            pick = next((d for d in fresh if d.task_definition == td), None) or next(
                (d for d in fresh if d.status == "PRIMARY" and len(fresh) == 1), None
            )
            if pick is not None:
                return pick
            self.timing.sleep(1.0)
            described = self.ports.ecs.describe_service(self.target.cluster, self.target.service)
            if described is None:
                return None
            after = described
        return None

    def _follow(
        self,
        service: Service,
        deployment: EcsDeployment,
        new_td: str,
        *,
        previous_td: str | None,
        events: EventLog | None = None,
    ) -> Deployment:
        t = self.target
        events = events or EventLog(service.events)
        self.result = replace(self.result, deployment_id=deployment.id)
        seconds = t.wait + rollout.bake_seconds(service.settings)
        outcome = rollout.follow(
            self.ports.ecs,
            t.cluster,
            t.service,
            deployment.id,
            previous_td=previous_td,
            new_td=new_td,
            seconds=seconds,
            timing=self.timing,
            events=events,
            say=self.say,
        )
        return self._conclude(outcome, new_td, previous_td, events)

    def _conclude(
        self, outcome: Outcome, new_td: str, previous_td: str | None, events: EventLog
    ) -> Deployment:
        if outcome.phase is Phase.COMPLETED:
            return self.done(
                "completed", f"deployment {self.result.deployment_id} completed ({outcome.reason})"
            )
        diagnostics = self._diagnostics(outcome.service, new_td, events)
        self.result = replace(self.result, events=diagnostics)
        if outcome.phase is Phase.ROLLED_BACK:
            return self._after_ecs_rollback(outcome)
        can_undo = (
            self.target.rollback
            and previous_td is not None
            and previous_td != new_td
            and outcome.phase in (Phase.FAILED, Phase.TIMED_OUT)
        )
        if not can_undo:
            return self.done("failed", outcome.reason)
        assert previous_td is not None
        return self._roll_back(outcome.reason, previous_td)

    def _after_ecs_rollback(self, outcome: Outcome) -> Deployment:
        service = outcome.service
        primary = service.primary() if service else None
        if not self.target.rollback or primary is None or primary.rollout_state != "IN_PROGRESS":
            return self.done("rolled_back", outcome.reason)
        # ECS is already rolling back: wait for the old revision to serve again.
        back = rollout.follow(
            self.ports.ecs,
            self.target.cluster,
            self.target.service,
            primary.id,
            previous_td=None,
            new_td=primary.task_definition,
            seconds=self.target.wait,
            timing=self.timing,
            events=EventLog(service.events if service else ()),
            say=self.say,
        )
        if back.phase is Phase.COMPLETED:
            return self.done("rolled_back", f"{outcome.reason}; the rollback completed")
        return self.done("rolled_back", f"{outcome.reason}; the rollback: {back.reason}")

    def _roll_back(self, reason: str, previous_td: str) -> Deployment:
        t = self.target
        self.line(f"{reason}; rolling back to {rollout.short_td(previous_td)}")
        before = self.ports.ecs.describe_service(t.cluster, t.service)
        if before is None:
            return self.done("failed", f"{reason}; the service vanished, no rollback possible")
        after = self.ports.ecs.update_service(
            t.cluster, t.service, previous_td, force_new_deployment=False
        )
        deployment = self._new_deployment(before, after, previous_td)
        if deployment is None:
            return self.done(
                "failed", f"{reason}; the rollback to {rollout.short_td(previous_td)} did not start"
            )
        back = rollout.follow(
            self.ports.ecs,
            t.cluster,
            t.service,
            deployment.id,
            previous_td=None,
            new_td=previous_td,
            seconds=t.wait + rollout.bake_seconds(after.settings),
            timing=self.timing,
            events=EventLog(before.events),
            say=self.say,
        )
        if back.phase is Phase.COMPLETED:
            return self.done(
                "rolled_back", f"{reason}; rolled back to {rollout.short_td(previous_td)}"
            )
        return self.done(
            "failed",
            f"{reason}; the rollback to {rollout.short_td(previous_td)} failed too: {back.reason}",
        )

    # ------------------------------------------------------------ CodeDeploy

    def _codedeploy_names(self) -> tuple[str, str]:
        t = self.target
        app, group = codedeploy.default_names(short_name(t.cluster), short_name(t.service))
        return self.target.codedeploy_application or app, self.target.codedeploy_group or group

    def _starting(self, start: Callable[[], T], new_td: str, *, registered: bool) -> T:
        """Start the rollout of `new_td`; when refused, take back the revision registered for it.

        Nothing runs the new revision yet, so a refused deploy leaves nothing
        behind; the error says whether the revision could be deregistered.
        """
        try:
            return start()
        except PipelineError as err:
            if not registered:
                raise
            raise DeployError(f"{err}; {self._deregister(new_td)}") from err

    def _deregister(self, new_td: str) -> str:
        short = rollout.short_td(new_td)
        try:
            retrying(
                lambda: self.ports.ecs.deregister_task_definition(new_td),
                what=f"ECS DeregisterTaskDefinition {short}",
                timing=self.timing,
                attempts=3,
            )
        except PipelineError as err:
            return f"the new revision {short} could not be deregistered: {err}"
        self.line(f"deregistered {short}")
        return f"the new revision {short} was deregistered"

    def _codedeploy(self, service: Service, new_td: str, *, registered: bool) -> Deployment:
        def start() -> tuple[CodeDeployApi, str, str, float, str]:
            api = self.ports.codedeploy
            if api is None:
                raise DeployError(
                    f"service {self.target.name} needs CodeDeploy, and no client is set"
                )
            app, group = self._codedeploy_names()
            content = codedeploy.appspec(new_td, service.load_balancers, self.target.appspec)
            extra = api.extra_wait_seconds(app, group)
            description = f"pipeline: {self._images()}"[: codedeploy.DESCRIPTION_LIMIT]
            created = api.create_deployment(
                app, group, content, codedeploy.content_sha256(content), description
            )
            return api, app, group, extra, created

        api, app, group, extra, deployment_id = self._starting(start, new_td, registered=registered)
        self.result = replace(self.result, deployment_id=deployment_id)
        self.line(f"CodeDeploy deployment {deployment_id} in {app}/{group}")
        events = EventLog(service.events)
        outcome = codedeploy.follow(
            api,
            deployment_id,
            seconds=self.target.wait + extra,
            timing=self.timing,
            say=self.say,
            label=self.target.name,
        )
        if outcome.phase is Phase.COMPLETED:
            return self.done("completed", outcome.reason)
        latest = self.ports.ecs.describe_service(self.target.cluster, self.target.service)
        self.result = replace(self.result, events=self._diagnostics(latest, new_td, events))
        if outcome.phase is Phase.ROLLED_BACK:
            return self.done("rolled_back", outcome.reason)
        if outcome.phase is Phase.TIMED_OUT and self.target.rollback:
            self.line(f"{outcome.reason}; stopping it with rollback")
            try:
                api.stop_deployment(deployment_id, auto_rollback=True)
            except PipelineError as err:
                # the timeout is the news; the refused stop only says it still runs
                return self.done("failed", f"{outcome.reason}; stopping it failed: {err}")
            stopped = codedeploy.follow(
                api,
                deployment_id,
                seconds=self.target.wait,
                timing=self.timing,
                say=self.say,
                label=self.target.name,
            )
            if stopped.phase in (Phase.ROLLED_BACK, Phase.FAILED):
                return self.done("rolled_back", f"{outcome.reason}; stopped and rolled back")
            return self.done("failed", f"{outcome.reason}; stopping it: {stopped.reason}")
        return self.done("failed", outcome.reason)

    # ----------------------------------------------------------- diagnostics

    def _diagnostics(
        self, service: Service | None, new_td: str, events: EventLog
    ) -> tuple[str, ...]:
        """The last service events and why the new revision's tasks stopped."""
        events.take(service)
        shown = events.new[-EVENTS_SHOWN:] or (
            list(reversed(service.events[: EVENTS_SHOWN // 2])) if service else []
        )
        lines = [e.message for e in shown]
        t = self.target
        try:
            stopped = retrying(
                lambda: self.ports.ecs.stopped_tasks(
                    t.cluster, t.service, new_td, STOPPED_TASKS_SHOWN
                ),
                what=f"ECS ListTasks {t.name}",
                timing=self.timing,
                attempts=3,
            )
        except PipelineError as err:
            return (*lines, f"stopped tasks could not be listed: {err}")
        for task in stopped:
            why = "; ".join(r for r in (task.stopped_reason, *task.container_reasons) if r)
            lines.append(f"stopped task {task.arn.rsplit('/', 1)[-1]}: {why or 'no reason given'}")
        return tuple(lines)


def deploy_ecs(
    target: EcsTarget,
    image: str,
    revision: str | None,
    ports: EcsPorts,
    *,
    timing: Timing | None = None,
    dry_run: bool = False,
    force: bool = False,
    say: LineSink = _info,
) -> Deployment:
    """Deploy `image` (`host/repo@sha256:...`), built from commit `revision`, to `target`."""
    (result,) = deploy_group(
        [(target, image, revision)], ports, timing=timing, dry_run=dry_run, force=force, say=say
    )
    return result


def deploy_group(
    members: Sequence[Member],
    ports: EcsPorts,
    *,
    timing: Timing | None = None,
    dry_run: bool = False,
    force: bool = False,
    say: LineSink = _info,
) -> tuple[Deployment, ...]:
    """Deploy several images to one service together; one result per member, in order.

    The members (target, image, commit) name the same service, and their
    wait, rollback and CodeDeploy settings agree (the config check sees to
    it): one new revision in which each member's containers get its image,
    one UpdateService (or CodeDeploy deployment), one wait. The service is
    skipped only when every member's containers already run its digest.
    """
    (target, image, revision), *others = members
    run = _Run(
        target, image, revision, ports, timing or Timing(), dry_run, force, say, tuple(others)
    )
    try:
        run.go()
    except PipelineError as err:
        run.done("failed", str(err))
    return run.results()


@dataclass(frozen=True)
class EcsJob:
    target: EcsTarget
    image: str
    revision: str | None
    ports: EcsPorts


def deploy_all(
    jobs: Sequence[EcsJob],
    *,
    timing: Timing | None = None,
    dry_run: bool = False,
    force: bool = False,
    say: LineSink = _info,
    workers: int = 8,
    cancel: threading.Event | None = None,
) -> tuple[Deployment, ...]:
    """Deploy every job at the same time; results in the order of `jobs`.

    Setting `cancel` (or Ctrl-C in the calling thread) ends the waits: each
    deploy in flight returns `failed` saying it was interrupted.
    """
    if not jobs:
        return ()
    base = timing or Timing()
    stop = cancel or threading.Event()

    def sleep(seconds: float) -> None:
        # Ctrl-C is seen between polls (at most a poll interval, or one
        # backoff, later): ECS carries on with an update already made.
        if stop.is_set():
            raise Interrupted("interrupted; the deployment started goes on in ECS")
        base.sleep(seconds)
        if stop.is_set():
            raise Interrupted("interrupted; the deployment started goes on in ECS")

    watched = Timing(now=base.now, sleep=sleep, jitter=base.jitter)

    def one(job: EcsJob) -> Deployment:
        return deploy_ecs(
            job.target,
            job.image,
            job.revision,
            job.ports,
            timing=watched,
            dry_run=dry_run,
            force=force,
            say=say,
        )

    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs))))
    try:
        return tuple(pool.map(one, jobs))
    except KeyboardInterrupt:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True)
