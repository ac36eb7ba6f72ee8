"""The run order as tables: what `--only`/`--skip` lets run, each stage failing, Ctrl-C anywhere.

Every stage is the real one (build, push, scan wait, gate, promote, the deploy
stage with a manifest target) over fakes of our own ports: the builder, the
engine, the registry, the credentials, the repositories, the scan API and the
GitOps workspace. Time only moves when a fake sleeps; nothing waits for real.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pipeline import plan as planning
from pipeline import preflight, runner
from pipeline.adapters.ports import Credentials, Manifest
from pipeline.config.schema import Config
from pipeline.context import Context
from pipeline.deployment import DeployError, Deployment
from pipeline.errors import AuthError, StageError, UsageError
from pipeline.plan import Plan
from pipeline.report import run_report
from pipeline.report.run_report import RunReport
from pipeline.retry import Kind, RegistryFailure
from pipeline.scan.gate import GatePolicy, GateResult
from pipeline.scan.ports import FindingsPage, ImageRef
from pipeline.scan.wait import WaitPolicy
from pipeline.stages import deploy as deploy_stage
from pipeline.stages import gate as gate_stage
from pipeline.stages import promote as promote_stage
from pipeline.stages import scan as scan_stage
from pipeline.stages.results import Deployed, Published, RunResult
from tests.unit.fakes import FakeBuilder, FakeCredentials, FakeEngine, FakeRegistry
from tests.unit.scan.fakes import T0, FakeScanApi, FakeTime, finding, page
from tests.unit.test_runner import logged, services

__all__ = ["logged"]

ECR = {"type": "ecr", "account": "123456789012", "region": "eu-west-1"}
TARGET = {"type": "manifest", "image": "app", "repo": "gitops", "files": ["deploy/web.yaml"]}
SHA = "a" * 40
CONTEXT = Context(
    provider="local", event="push", sha=SHA, ref="refs/heads/main", branch="main", origins=()
)
#: every stage, in the order a run takes them
EVERY = ("prepare", "build", "push", "scan", "gate", "promote", "deploy")


def make_config(*, scanning: bool = True, deploy: bool = True) -> Config:
    return Config.model_validate(
        {
            "version": 1,
            "registry": ECR,
            "tags": [{"type": "branch"}, {"type": "sha"}],
            "latest": "always",
            "scan": {"enabled": scanning, "thresholds": {"CRITICAL": 0}},
            "deploy": [TARGET] if deploy else [],
            "images": [{"name": "app", "repository": "team/app", "context": "app"}],
        }
    )


def make_plan(
    tmp_path: Path,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    *,
    scanning: bool = True,
    deploy: bool = True,
) -> Plan:
    """What `pipeline run --only/--skip` plans and preflight lets through (UsageError if not)."""
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    (app / "Dockerfile").write_text("FROM scratch\nLABEL n=app\n")
    stages = planning.select_stages(only, skip)
    config = make_config(scanning=scanning, deploy=deploy)
    plan = planning.make(config, CONTEXT, {}, root=tmp_path, stages=stages)
    preflight.check(plan, {})
    return plan


# ------------------------------------------------------------------------------ the fakes


class _Workspace:
    """A GitOps checkout on disk: commit and push are recorded, never run."""

    def __init__(self, top: Path, pushes: list[str]) -> None:
        self.top = self.base = top
        self.label = "gitops:main"
        self._pushes = pushes

    def commit(self, paths: Sequence[Path], message: str) -> str:
        return "c" * 40

    def push(self) -> bool:
        self._pushes.append(self.label)
        return True

    def sync(self) -> None:
        raise AssertionError("the remote never moves in these tests")

    def publish_locally(self) -> None:
        raise AssertionError("push: true in these tests")

    def close(self) -> None:
        pass


class _Gitops:
    """The deploy stage's Repositories port: `open` is the deploy call (recorded)."""

    def __init__(self, top: Path, image: str) -> None:
        (top / "deploy").mkdir(parents=True)
        (top / "deploy" / "web.yaml").write_text(f"spec:\n  image: {image}:old\n")
        self.top = top
        self.opened: list[str] = []
        self.pushed: list[str] = []
        self.fail: BaseException | None = None

    def open(self, repo: str, branch: str | None, push: bool) -> _Workspace:
        self.opened.append(repo)
        if self.fail is not None:
            raise self.fail
        return _Workspace(self.top, self.pushed)

    def connect(self, cluster: Any) -> Any:
        raise AssertionError("no EKS target in these plans")

    def labels(self, image: str) -> dict[str, str] | None:
        return None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool | None:
        return None


class _Credentials(FakeCredentials):
    def __init__(self) -> None:
        super().__init__()
        self.raises: BaseException | None = None

    def get(self) -> Credentials:
        if self.raises is not None:
            raise self.raises
        return super().get()


class _Registry(FakeRegistry):
    """Can fail (or be interrupted) when a mutable tag moves, or on any manifest read."""

    def __init__(self) -> None:
        super().__init__()
        self.on_tag: dict[str, BaseException] = {}
        self.on_read: BaseException | None = None

    def manifest(self, repository: str, reference: str) -> Manifest | None:
        if self.on_read is not None:
            raise self.on_read
        return super().manifest(repository, reference)

    def tag(self, repository: str, tag: str, manifest: Manifest) -> None:
        if tag in self.on_tag:
            raise self.on_tag[tag]
        super().tag(repository, tag, manifest)


class _Builder(FakeBuilder):
    def __init__(self, engine: FakeEngine, *, fail: str | None = None) -> None:
        super().__init__(engine, fail=fail)
        self.raises: BaseException | None = None

    def build(self, request: Any, on_line: Any) -> Any:
        if self.raises is not None:
            raise self.raises
        return super().build(request, on_line)


class _Engine(FakeEngine):
    def __init__(self, registry: FakeRegistry, host: str) -> None:
        super().__init__(registry, host)
        self.raises: BaseException | None = None

    def push(self, repository: str, tag: str, credentials: Any, on_line: Any) -> str:
        if self.raises is not None:
            raise self.raises
        return super().push(repository, tag, credentials, on_line)


@dataclass
class _ScanApi(FakeScanApi):
    raises: BaseException | None = None

    def findings_page(self, image: ImageRef, token: str | None = None) -> FindingsPage:
        if self.raises is not None:
            raise self.raises
        return super().findings_page(image, token)


@dataclass
class World:
    """One run's plan, its fakes, and the services the runner gets."""

    plan: Plan
    registry: _Registry
    engine: _Engine
    builder: _Builder
    creds: _Credentials
    scans: _ScanApi
    time: FakeTime
    gitops: _Gitops
    svc: runner.Services
    interrupts: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    @property
    def mutable(self) -> tuple[str, ...]:
        return tuple(self.plan.images[0].tags.mutable)

    def moved(self) -> list[str]:
        """Mutable tags that name an image in the registry (only promote moves them)."""
        return [t for (_repo, t) in self.registry.tags if t in self.mutable]

    def run(self, progress: runner.Progress | None = None) -> RunResult:
        return runner.run(self.plan, self.svc, env={}, jobs=2, dry_run=False, progress=progress)

    def report(self, result: RunResult) -> RunReport:
        return run_report.compose(self.plan, result, dry_run=False)


def make_world(
    tmp_path: Path,
    plan: Plan,
    *,
    findings: Sequence[Any] = (),
    scan_pages: Sequence[Any] | None = None,
    fail_build: bool = False,
) -> World:
    registry = _Registry()
    engine = _Engine(registry, plan.registry.host)
    builder = _Builder(engine, fail="app" if fail_build else None)
    creds = _Credentials()
    clock = FakeTime()
    done = page("COMPLETE", findings, completed_at=T0 + dt.timedelta(seconds=5))
    scans = _ScanApi(list(scan_pages) if scan_pages is not None else [done])
    gitops = _Gitops(tmp_path / "gitops", plan.images[0].image)
    svc = services(builder, registry, creds)
    world = World(plan, registry, engine, builder, creds, scans, clock, gitops, svc)
    svc.now = clock.now
    cancel = svc.on_interrupt

    def on_interrupt() -> None:
        world.interrupts.append("on_interrupt")
        cancel()

    svc.on_interrupt = on_interrupt
    svc.repositories = lambda: None

    def scan(published: Published, pushed_at: dt.datetime) -> Any:
        world.calls.append("scan")
        return scan_stage.run(
            published,
            scans,
            WaitPolicy(timeout=60, grace=10),
            pushed_at=pushed_at,
            workers=2,
            clock=clock.clock,
            sleep=clock.sleep,
            now=clock.now,
            jitter=lambda low, high: low,
        )

    def gate(published: Published, scanned: Any) -> GateResult:
        world.calls.append("gate")
        policy = GatePolicy(thresholds={"CRITICAL": 0})
        return gate_stage.run(published, scanned, policy, T0.date(), off="scanning is off")

    def promote(published: Published, gated: GateResult | None, pusher: Any) -> Any:
        world.calls.append("promote")
        tags = promote_stage.PusherTags(pusher)
        return promote_stage.run(published, gated, tags, dry_run=False)

    ports = deploy_stage.DeployPorts(
        ecs=_no_ecs, kube=gitops, repositories=gitops, labels=gitops, ancestry=gitops
    )

    def deploy(
        published: Published, gated: GateResult | None, _registry: Any, halted: str | None
    ) -> Deployed | None:
        # as app.deploy_step: without the deploy stage the step only writes files
        world.calls.append("deploy")
        if "deploy" not in plan.stages:
            return None
        return deploy_stage.run(
            plan,
            published,
            gated,
            ports,
            force=False,
            dry_run=False,
            clock=clock.clock,
            sleep=clock.sleep,
            halted=halted,
        )

    svc.scan, svc.gate, svc.promote, svc.deploy = scan, gate, promote, deploy
    return world


def _no_ecs(region: str | None) -> Any:
    raise AssertionError("no ECS target in these plans")


def stages_run(result: RunResult) -> list[str]:
    return [stage for stage, _ in result.timings]


def fields_set(result: RunResult) -> tuple[str, ...]:
    """The stages' values the run holds, in stage order (None: that stage returned nothing)."""
    values = ("built", "published", "scanned", "gated", "promoted", "deployed")
    return tuple(f for f in values if getattr(result, f) is not None)


@pytest.fixture
def threads() -> Iterator[None]:
    """No test leaves a thread running: every pool has ended (joined) by its end."""
    before = set(threading.enumerate())
    yield
    extra = [t for t in threading.enumerate() if t not in before]
    for thread in extra:
        thread.join(timeout=5)
    assert [t.name for t in extra if t.is_alive()] == []
    assert threading.active_count() == len(before)


# ------------------------------------------------------------ 1. --only / --skip combinations


@dataclass(frozen=True)
class Selection:
    id: str
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    scanning: bool = True
    deploy: bool = True
    #: the stages timed, in order (prepare included); () when refused
    runs: tuple[str, ...] = ()
    #: the RunResult fields set (built is set whenever the run got past prepare)
    fields: tuple[str, ...] = ()
    #: the refusal's message (it names the fix)
    refused: str = ""
    moved: bool = False


def refused(id: str, message: str, **selected: Any) -> Selection:
    """A selection `pipeline run` refuses before any stage runs, naming the fix."""
    return Selection(id, refused=message, **selected)


SELECTIONS = [
    Selection(
        "every stage",
        runs=EVERY,
        fields=("built", "published", "scanned", "gated", "promoted", "deployed"),
        moved=True,
    ),
    Selection("only build", only=("build",), runs=("prepare", "build"), fields=("built",)),
    Selection(
        "only build,push",
        only=("build", "push"),
        runs=("prepare", "build", "push", "outputs"),
        fields=("built", "published"),
    ),
    Selection(
        "skip scan,gate,promote",
        skip=("scan", "gate", "promote"),
        runs=("prepare", "build", "push", "deploy"),
        fields=("built", "published", "deployed"),
    ),
    Selection(
        "skip deploy",
        skip=("deploy",),
        runs=("prepare", "build", "push", "scan", "gate", "promote", "outputs"),
        fields=("built", "published", "scanned", "gated", "promoted"),
        moved=True,
    ),
    Selection(
        "only push,deploy (images built before)",
        only=("push", "deploy"),
        runs=("prepare", "build", "push", "deploy"),
        fields=("built", "published", "deployed"),
    ),
    Selection(
        "only push,scan,gate",
        only=("push", "scan", "gate"),
        runs=("prepare", "build", "push", "scan", "gate", "outputs"),
        fields=("built", "published", "scanned", "gated"),
    ),
    Selection(
        "only push,scan,gate,promote",
        only=("push", "scan", "gate", "promote"),
        runs=("prepare", "build", "push", "scan", "gate", "promote", "outputs"),
        fields=("built", "published", "scanned", "gated", "promoted"),
        moved=True,
    ),
    Selection(
        "skip build (images built before)",
        skip=("build",),
        runs=("prepare", "build", "push", "scan", "gate", "promote", "deploy"),
        fields=("built", "published", "scanned", "gated", "promoted", "deployed"),
        moved=True,
    ),
    Selection(
        "scanning off: every stage, the gate records skipped",
        scanning=False,
        runs=("prepare", "build", "push", "gate", "promote", "deploy"),
        fields=("built", "published", "gated", "promoted", "deployed"),
        moved=True,
    ),
    Selection(
        "scanning off: skip gate leaves promote ungated",
        skip=("gate",),
        scanning=False,
        runs=("prepare", "build", "push", "gate", "promote", "deploy"),
        fields=("built", "published", "gated", "promoted", "deployed"),
        moved=True,
    ),
    Selection(
        "no deploy targets: the deploy step only writes outputs",
        deploy=False,
        runs=("prepare", "build", "push", "scan", "gate", "promote", "outputs"),
        fields=("built", "published", "scanned", "gated", "promoted"),
        moved=True,
    ),
    refused(
        "no deploy targets: only deploy is dropped, leaving nothing",
        "leave no stage to run with this config (deploy needs a deploy target",
        only=("deploy",),
        deploy=False,
    ),
    refused(
        "scanning off: only scan,gate leaves nothing",
        "scan and gate need scanning (scan.enabled on an ECR registry)",
        only=("scan", "gate"),
        scanning=False,
    ),
    refused(
        "only gate",
        "the gate judges the scan results of the same run; run it with scan",
        only=("gate",),
    ),
    refused("only scan (without push)", "run it with push (--only push,scan,gate)", only=("scan",)),
    refused(
        "only build,scan,gate",
        "run it with push (--only push,scan,gate)",
        only=("build", "scan", "gate"),
    ),
    refused(
        "skip gate while scanning",
        "run it with scan and gate (--only push,scan,gate,promote)",
        skip=("gate",),
    ),
    refused(
        "only push,promote while scanning",
        "run it with scan and gate (--only push,scan,gate,promote)",
        only=("push", "promote"),
    ),
    refused(
        "only build,promote with scanning off",
        "run it with push (--only push,scan,gate,promote)",
        only=("build", "promote"),
        scanning=False,
    ),
    refused("skip push", "run it with push (--only push,scan,gate)", skip=("push",)),
    refused("only build,deploy", "run it with push (--only push,deploy)", only=("build", "deploy")),
    refused("skip every stage", "--only/--skip leave no stage to run", skip=planning.STAGES),
    refused("an unknown stage", "unknown stage 'tests'; stages are", only=("tests",)),
    refused("a misspelt stage", "did you mean 'promote'", skip=("promot",)),
]


@pytest.mark.parametrize("case", SELECTIONS, ids=[c.id for c in SELECTIONS])
def test_only_and_skip_run_exactly_the_selected_stages_or_are_refused_naming_the_fix(
    tmp_path: Path, case: Selection, threads: None
) -> None:
    if case.refused:
        with pytest.raises(UsageError) as err:
            make_plan(tmp_path, case.only, case.skip, scanning=case.scanning, deploy=case.deploy)
        assert case.refused in str(err.value)
        assert err.value.exit_code == 2
        return
    plan = make_plan(tmp_path, case.only, case.skip, scanning=case.scanning, deploy=case.deploy)
    world = make_world(tmp_path, plan)
    if "build" not in plan.stages:
        for ref in plan.images[0].refs:  # built on this machine by an earlier run
            world.engine.local[ref] = "sha256:cfg-app"
    result = world.run()
    assert tuple(stages_run(result)) == case.runs
    assert fields_set(result) == case.fields
    assert result.finished and result.error is None and not result.interrupted
    assert world.builder.started == (["app"] if "build" in plan.stages else [])
    assert bool(world.moved()) is case.moved
    assert world.gitops.pushed == (["gitops:main"] if "deploy" in plan.stages else [])
    report = world.report(result)
    assert report.status == "ok"
    assert list(report.timings) == list(case.runs)
    if not case.scanning and result.gated is not None:
        assert result.gated.decision == "skipped"


# ------------------------------------------------------------------------ each stage's inputs


def _inputs(world: World, value: str, result: RunResult) -> object:
    """What a stage must be handed: an earlier stage's value from this run, or a port."""
    pusher = world.svc.pusher()  # the one pusher of the run (signed in during prepare)
    ports = {"pusher": pusher, "registry": pusher.registry, "pushed at": T0, "none": None}
    return ports[value] if value in ports else getattr(result, value)


INPUTS = [
    ("scan", True, ("published", "pushed at")),
    ("gate", True, ("published", "scanned")),
    ("gate", False, ("published", "none")),
    ("promote", True, ("published", "gated", "pusher")),
    ("promote", False, ("published", "gated", "pusher")),
    ("deploy", True, ("published", "gated", "registry", "none")),
    ("deploy", False, ("published", "gated", "registry", "none")),
]


@pytest.mark.parametrize(
    ("stage", "scanning", "inputs"),
    INPUTS,
    ids=[f"{s} {'scanning' if on else 'scanning off'}: {', '.join(i)}" for s, on, i in INPUTS],
)
def test_each_stage_is_handed_the_values_the_stages_before_it_returned_in_this_run(
    tmp_path: Path, stage: str, scanning: bool, inputs: tuple[str, ...], threads: None
) -> None:
    world = make_world(tmp_path, make_plan(tmp_path, scanning=scanning))
    step = getattr(world.svc, stage)
    seen: list[tuple[object, ...]] = []

    def recorded(*args: object) -> object:
        seen.append(args)
        return step(*args)

    setattr(world.svc, stage, recorded)
    result = world.run()
    assert result.finished
    assert len(seen) == 1
    expected = tuple(_inputs(world, value, result) for value in inputs)
    assert len(seen[0]) == len(expected)
    for got, want in zip(seen[0], expected, strict=True):
        assert got is want or (isinstance(want, dt.datetime) and got == want)


# -------------------------------------------------------------------- 2. each stage failing


@dataclass(frozen=True)
class Failure:
    id: str
    #: make the world fail at that point
    arrange: Callable[[World], None]
    status: str
    #: the stages timed, in order
    runs: tuple[str, ...]
    #: the RunResult fields set
    fields: tuple[str, ...]
    #: raised by the run (None: the run returns its result)
    raises: type[BaseException] | None = None
    #: the gate's decision recorded (None: no gate ran)
    decision: str | None = None
    #: the error the report names for the image or the deployment
    error: str = ""
    scan_pages: tuple[Any, ...] | None = None
    findings: tuple[Any, ...] = ()
    fail_build: bool = False
    #: every stage ran (only a failed deploy, the last stage, gets there)
    finished: bool = False
    #: why every deploy target was skipped (the run halted before deploy)
    skipped: str = ""
    #: an error line the run prints on stderr
    logs: str = ""


def _nothing(world: World) -> None:
    pass


def _refuse_credentials(world: World) -> None:
    world.creds.raises = AuthError("ECR GetAuthorizationToken failed: AccessDenied")


def _missing_repositories(world: World) -> None:
    def missing() -> None:
        raise StageError("ECR repositories missing: team/app")

    world.svc.repositories = missing  # type: ignore[assignment]


def _deny_push(world: World) -> None:
    world.engine.failures = [RegistryFailure("denied: not allowed", Kind.FATAL)]


def _deny_tag(world: World) -> None:
    world.registry.on_tag = {
        t: RegistryFailure("denied: tag not allowed", Kind.FATAL) for t in world.mutable
    }


def _deploy_fails(world: World) -> None:
    world.gitops.fail = DeployError("gitops: clone failed: repository not found")


def _deploy_rolls_back(world: World) -> None:
    step = world.svc.deploy
    assert step is not None

    def rolled_back(
        published: Published, gated: GateResult | None, reg: Any, halted: str | None
    ) -> Deployed:
        deployed = step(published, gated, reg, halted)
        assert deployed is not None and deployed.ok  # the target was deployed, then...
        image = published.images[0].ref
        why = "circuit breaker: tasks failed to start; rolled back"
        return Deployed((Deployment("ecs", "c/s", image, None, "rolled_back", why),))

    world.svc.deploy = rolled_back


RELEASED = ("built", "published", "scanned", "gated")


def halted_at_the_gate(
    id: str,
    status: str,
    skipped: str,
    *,
    error: str = "",
    scan_page: Any = None,
    findings: tuple[Any, ...] = (),
) -> Failure:
    """The scan fails or finds too much: the gate blocks, deploy only skips every target."""
    return Failure(
        id,
        _nothing,
        status,
        runs=("prepare", "build", "push", "scan", "gate", "deploy"),
        fields=(*RELEASED, "deployed"),
        decision="block",
        error=error,
        scan_pages=None if scan_page is None else (scan_page,),
        findings=findings,
        skipped=skipped,
    )


def failed_after_the_gate(
    id: str, arrange: Callable[[World], None], error: str, **more: Any
) -> Failure:
    """The gate passed and every stage ran up to the one that failed (promote or deploy)."""
    fields = (*RELEASED, "promoted", "deployed")
    return Failure(id, arrange, "failed", EVERY, fields, decision="pass", error=error, **more)


FAILURES = [
    Failure(
        "credentials refused",
        _refuse_credentials,
        "failed",
        runs=("prepare",),
        fields=(),
        raises=AuthError,
    ),
    Failure(
        "repositories missing",
        _missing_repositories,
        "failed",
        runs=("prepare",),
        fields=(),
        raises=StageError,
    ),
    Failure(
        "builder fails",
        _nothing,
        "failed",
        runs=("prepare", "build"),
        fields=("built",),
        error="app: RUN false: exit code 1",
        fail_build=True,
    ),
    Failure(
        "push denied",
        _deny_push,
        "failed",
        runs=("prepare", "build", "push", "deploy"),
        fields=("built", "published", "deployed"),
        error="denied: not allowed",
        skipped="not deployed: the push of app did not succeed",
    ),
    halted_at_the_gate(
        "scan FAILED",
        "failed",
        "not deployed: the scan of app failed",
        error="UnsupportedImageError",
        scan_page=page("FAILED", description="UnsupportedImageError: not supported"),
    ),
    halted_at_the_gate(
        "scan times out",
        "failed",
        "not deployed: the scan of app failed",
        error="scan.timeout",
        scan_page=page("IN_PROGRESS"),
    ),
    halted_at_the_gate(
        "gate blocks a CRITICAL finding",
        "blocked",
        "not deployed: the gate blocked this release",
        findings=(finding("CVE-2026-0042", "CRITICAL"),),
    ),
    failed_after_the_gate(
        "promote cannot move a tag",
        _deny_tag,
        "denied: tag not allowed",
        skipped="not deployed: promote failed: app: ",
        logs="promote failed: app: ",
    ),
    failed_after_the_gate("deploy fails", _deploy_fails, "repository not found", finished=True),
    failed_after_the_gate("deploy rolls back", _deploy_rolls_back, "rolled back", finished=True),
]


@pytest.mark.parametrize("case", FAILURES, ids=[c.id for c in FAILURES])
def test_a_failing_stage_stops_the_run_says_so_and_moves_nothing_it_must_not(
    tmp_path: Path, case: Failure, threads: None, logged: pytest.LogCaptureFixture
) -> None:
    plan = make_plan(tmp_path)
    world = make_world(
        tmp_path,
        plan,
        findings=case.findings,
        scan_pages=case.scan_pages,
        fail_build=case.fail_build,
    )
    case.arrange(world)
    progress = runner.Progress()
    if case.raises is not None:
        with pytest.raises(case.raises):
            world.run(progress)
    else:
        world.run(progress)
    result = progress.result
    assert result.finished is case.finished
    assert tuple(stages_run(result)) == case.runs
    assert fields_set(result) == case.fields
    assert (result.gated.decision if result.gated else None) == case.decision
    report = world.report(result)
    assert report.status == case.status
    if case.error:
        errors = [i.error or "" for i in report.images]
        errors += [d.message for d in report.deployments if not d.ok]
        assert any(case.error in e for e in errors), errors
    gate_passed = result.gated is not None and not result.gated.blocked
    if not gate_passed:  # failed at or before the gate
        assert "promote" not in world.calls
        assert world.moved() == []
        assert world.gitops.opened == []  # no deploy call
        assert all(d.status == "skipped" for d in report.deployments)
    if result.promoted is not None and not result.promoted.ok:
        assert world.moved() == []  # a failed promote put back what it moved
        assert world.gitops.opened == []  # deploy told why, and called nothing
    if case.logs:
        errors = [r.getMessage() for r in logged.records if r.levelno == logging.ERROR]
        assert any(case.logs in e and "nothing deployed" in e for e in errors), errors
    if case.skipped:  # every target is listed, skipped with the true reason
        assert report.deployments
        assert all(d.status == "skipped" for d in report.deployments)
        assert all(d.message.startswith(case.skipped) for d in report.deployments), [
            d.message for d in report.deployments
        ]


# ------------------------------------------------------------------------ 3. Ctrl-C at each point


@dataclass(frozen=True)
class Interrupt:
    id: str
    #: make a fake port raise KeyboardInterrupt at that point
    arrange: Callable[[World], None]
    #: the stages timed, in order (the last one was interrupted)
    runs: tuple[str, ...]
    #: promote may have moved tags before the interrupt
    before_promote: bool = True
    only: tuple[str, ...] = ()


def _ctrl_c() -> KeyboardInterrupt:
    return KeyboardInterrupt()


def _at_credentials(world: World) -> None:
    world.creds.raises = _ctrl_c()


def _at_repositories(world: World) -> None:
    def interrupted() -> None:
        raise _ctrl_c()

    world.svc.repositories = interrupted  # type: ignore[assignment]


def _at_build(world: World) -> None:
    world.builder.raises = _ctrl_c()


def _at_push(world: World) -> None:
    world.engine.raises = _ctrl_c()


def _at_scan_wait(world: World) -> None:
    world.scans.raises = _ctrl_c()


def _at_lookup(world: World) -> None:
    world.registry.on_read = _ctrl_c()  # is this image published already?


def _at_gate(world: World) -> None:
    def interrupted(published: Published, scanned: Any) -> GateResult:
        raise _ctrl_c()

    world.svc.gate = interrupted


def _at_promote(world: World) -> None:
    world.registry.on_tag = {world.mutable[0]: _ctrl_c()}


def _at_deploy(world: World) -> None:
    world.gitops.fail = _ctrl_c()


INTERRUPTS = [
    Interrupt("credentials", _at_credentials, runs=("prepare",)),
    Interrupt("repositories", _at_repositories, runs=("prepare",)),
    Interrupt("registry lookup", _at_lookup, runs=("prepare",)),
    Interrupt("early build", _at_build, runs=("prepare", "build")),
    # no push stage: no early build, the build stage's own pool
    Interrupt("build (only build)", _at_build, runs=("prepare", "build"), only=("build",)),
    Interrupt("push", _at_push, runs=("prepare", "build", "push")),
    Interrupt("scan wait", _at_scan_wait, runs=("prepare", "build", "push", "scan")),
    Interrupt("gate", _at_gate, runs=("prepare", "build", "push", "scan", "gate")),
    Interrupt("promote", _at_promote, runs=EVERY[:-1], before_promote=False),
    Interrupt("deploy", _at_deploy, runs=EVERY, before_promote=False),
]


class _Observed:
    def __init__(self) -> None:
        self.ended: list[tuple[str, bool]] = []

    def stage_started(self, stage: str) -> None:
        pass

    def stage_finished(self, stage: str, seconds: float, ok: bool) -> None:
        self.ended.append((stage, ok))


@pytest.mark.parametrize("case", INTERRUPTS, ids=[c.id for c in INTERRUPTS])
def test_ctrl_c_at_each_point_stops_every_worker_and_the_report_says_interrupted(
    tmp_path: Path, case: Interrupt, threads: None
) -> None:
    plan = make_plan(tmp_path, case.only)
    world = make_world(tmp_path, plan)
    case.arrange(world)
    observed = _Observed()
    progress = runner.Progress(observed)
    with pytest.raises(KeyboardInterrupt):
        try:
            world.run(progress)
        except KeyboardInterrupt:
            progress.record(interrupted=True, finished=False)  # as app.run records it
            raise
    result = progress.result
    # called at least once (a worker pool calls it too, before the runner does: it is idempotent)
    assert world.interrupts and set(world.interrupts) == {"on_interrupt"}
    assert tuple(stages_run(result)) == case.runs
    # the interrupted stage ended, and was told as failed; every one before it as ok
    assert observed.ended == [(s, s != case.runs[-1]) for s in case.runs]
    assert not result.finished
    report = world.report(result)
    assert (report.status, report.interrupted) == ("failed", True)
    assert report.to_json()["interrupted"] is True
    if case.before_promote:
        assert world.moved() == []
    assert world.gitops.pushed == []  # nothing deployed after Ctrl-C
    if case.runs[-1] != "deploy":
        assert "deploy" not in world.calls  # the deploy step was never called
