"""The run's order of work against fakes: early builds, their gates, reuse, failures."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import registry as registries
from pipeline import retry, runner
from pipeline.adapters.ports import BuildRequest, BuildResult, LineSink, Manifest, TagMutability
from pipeline.config.schema import Config
from pipeline.context import Context
from pipeline.errors import AuthError, PipelineError, RegistryError, StageError, UsageError
from pipeline.plan import ImagePlan, Plan
from pipeline.report import run_report
from pipeline.report.run_report import RunReport
from pipeline.retry import RegistryFailure
from pipeline.scan.ports import ImageRef
from pipeline.scan.wait import ScanOutcome
from pipeline.stages import build as build_stage
from pipeline.stages import reuse
from pipeline.stages.push import Pusher
from pipeline.stages.results import Deployed, Published, Scanned
from pipeline.tags import Tag, TagSet
from tests.unit.fakes import (
    FakeBuilder,
    FakeCredentials,
    FakeEngine,
    FakeRegistry,
    FakeRepositories,
    manifest_for,
)
from tests.unit.scan.fakes import finding

HOST = "reg.example"


def make_plan(tmp_path: Path, *names: str, cache: bool = False) -> Plan:
    """`cache`: the layer cache (its candidates are looked up while the early build runs)."""
    config = Config.model_validate(
        {
            "version": 1,
            "registry": {"type": "generic", "url": HOST},
            "cache": cache,
            "images": [{"name": n, "repository": f"team/{n}"} for n in names],
        }
    )
    images = []
    for name in names:
        context = tmp_path / name
        context.mkdir()
        (context / "Dockerfile").write_text(f"FROM scratch\nLABEL n={name}\n")
        tags = TagSet((Tag("sha-abc1234", False, "sha"), Tag("latest", True, "latest")), None, None)
        images.append(
            ImagePlan(
                name=name,
                repository=f"team/{name}",
                image=f"{HOST}/team/{name}",
                context_dir=context,
                dockerfile=context / "Dockerfile",
                target=None,
                build_args={},
                secrets=(),
                platforms=(),
                labels={},
                tags=tags,
                depends_on=(),
            )
        )
    ctx = Context(provider="local", event="push", sha="a" * 40, origins=(("sha", "git"),))
    target = registries.resolve(config.registry, {})
    return Plan(config, tmp_path, ctx, target, tuple(images), ("build", "push"))


def services(builder: FakeBuilder, registry: FakeRegistry, creds: object = None) -> runner.Services:
    pusher = Pusher(
        builder.engine,
        registry,
        registry,
        creds or FakeCredentials(),  # type: ignore[arg-type]
        retry.Policy(timeout=5),
        retry.Waits(sleep=lambda _s: None),
    )
    return runner.Services(lambda: builder, lambda: pusher, lambda: None, builder.cancel)


def go(plan: Plan, svc: runner.Services) -> RunReport:
    result = runner.run(plan, svc, env={}, jobs=2, dry_run=False)
    return run_report.compose(plan, result, dry_run=False)


@pytest.fixture
def logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> pytest.LogCaptureFixture:
    monkeypatch.setattr(logging.getLogger("pipeline"), "propagate", True)
    # debug: the builder's own output is a debug line (shown with -v)
    caplog.set_level(logging.DEBUG, logger="pipeline")
    return caplog


def test_nothing_published_builds_and_pushes_with_output(
    tmp_path: Path, logged: pytest.LogCaptureFixture
) -> None:
    registry = FakeRegistry()
    builder = FakeBuilder(FakeEngine(registry))
    report = go(make_plan(tmp_path, "app"), services(builder, registry))
    entry = report.image("app")
    assert (entry.built, entry.pushed, entry.reused, entry.error) == (True, True, False, None)
    assert builder.stopped == []
    assert "[app] #1 building app" in logged.text
    assert ("team/app", "latest") not in registry.tags  # mutable: not this stage's business


def test_published_image_stops_its_early_build_and_is_reused(
    tmp_path: Path, logged: pytest.LogCaptureFixture
) -> None:
    plan = make_plan(tmp_path, "app", "web")
    digest = reuse.input_digests(plan)["app"]
    registry = FakeRegistry()
    registry.store(
        "team/app",
        "sha-abc1234",
        manifest_for("sha256:old"),
        labels={build_stage.INPUT_LABEL: str(digest)},
    )
    builder = FakeBuilder(FakeEngine(registry))
    builder.hold.clear()  # the early builds are still running when the registry answers
    report = go(plan, services(builder, registry))
    assert builder.stopped == ["app"]
    app, web = report.image("app"), report.image("web")
    assert (app.built, app.reused, app.error) == (False, True, None)
    assert (web.built, web.pushed) == (True, True)
    assert "[app] #1 building app" not in logged.text  # its held output was dropped
    assert "[web] #1 building web" in logged.text


def test_credentials_failing_stop_every_early_build(tmp_path: Path) -> None:
    class Refused(FakeCredentials):
        def get(self):  # type: ignore[no-untyped-def]
            raise AuthError("ECR GetAuthorizationToken failed: AccessDenied")

    registry = FakeRegistry()
    builder = FakeBuilder(FakeEngine(registry))
    builder.hold.clear()
    with pytest.raises(AuthError):
        go(make_plan(tmp_path, "app"), services(builder, registry, Refused()))
    assert builder.stopped == ["app"]
    assert registry.tags == {}


def test_a_failed_reuse_lookup_on_the_main_thread_is_a_named_pipeline_error(
    tmp_path: Path,
) -> None:
    class Forbidden(FakeRegistry):
        def manifest(self, repository: str, reference: str) -> Manifest | None:
            raise RegistryFailure(f"reading {repository}:{reference}: HTTP 403 Forbidden")

    registry = Forbidden()
    builder = FakeBuilder(FakeEngine(registry))
    with pytest.raises(RegistryError, match=r"look up reg.example/team/app: .*403") as err:
        go(make_plan(tmp_path, "app"), services(builder, registry))
    assert isinstance(err.value, PipelineError)
    assert builder.stopped == ["app"]  # its early build stopped: the run failed first


def test_a_finished_early_build_leaves_nothing_when_the_run_fails(tmp_path: Path) -> None:
    registry = FakeRegistry()
    builder = FakeBuilder(FakeEngine(registry))

    def missing_repository() -> None:
        builder.finished.wait(5)  # the early build is done before the answer comes
        raise StageError("ECR repositories missing: team/app")

    svc = services(builder, registry)
    svc.repositories = missing_repository  # type: ignore[assignment]
    with pytest.raises(StageError):
        go(make_plan(tmp_path, "app"), svc)
    assert builder.discarded == ["app"]
    assert builder.engine.local == {}
    assert registry.tags == {}


class _Recording(FakeBuilder):
    """A FakeBuilder that keeps the requests it was given and says when a build began."""

    def __init__(self, engine: FakeEngine) -> None:
        super().__init__(engine)
        self.requests: list[BuildRequest] = []
        self.began = threading.Event()

    def build(self, request: BuildRequest, on_line: LineSink) -> BuildResult:
        self.requests.append(request)
        self.began.set()
        return super().build(request, on_line)


def test_a_first_run_with_the_layer_cache_builds_while_the_registry_is_asked(
    tmp_path: Path,
) -> None:
    builder: _Recording | None = None
    building_when_asked: list[bool] = []

    class Watching(FakeRegistry):
        def manifest(self, repository: str, reference: str) -> Manifest | None:
            assert builder is not None
            building_when_asked.append(builder.began.wait(5))
            return super().manifest(repository, reference)

    registry = Watching()
    builder = _Recording(FakeEngine(registry))
    report = go(make_plan(tmp_path, "app", cache=True), services(builder, registry))
    entry = report.image("app")
    assert (entry.built, entry.pushed, entry.error) == (True, True, None)
    assert building_when_asked and all(building_when_asked)  # no candidate: the build went on
    assert builder.stopped == [] and len(builder.requests) == 1
    assert builder.requests[0].cache_from == ()


def test_an_early_build_the_layer_cache_would_change_is_built_again_with_it(
    tmp_path: Path, logged: pytest.LogCaptureFixture
) -> None:
    made: list[_Recording] = []

    class Slow(FakeRegistry):
        def manifest(self, repository: str, reference: str) -> Manifest | None:
            made[0].began.wait(5)  # the registry answers once the early build runs
            return super().manifest(repository, reference)

    registry = Slow()
    registry.store("team/app", "latest", manifest_for("sha256:earlier"))  # a cache candidate
    engine = FakeEngine(registry)
    made += [_Recording(engine), _Recording(engine)]
    given = iter(made)  # the run's first builder, then the one that builds again
    svc = services(made[0], registry)
    svc.builder = lambda: next(given)
    report = go(make_plan(tmp_path, "app", cache=True), svc)
    entry = report.image("app")
    assert (entry.built, entry.pushed, entry.error) == (True, True, None)
    early, again = made
    assert early.stopped == ["app"]  # called off once the registry named a candidate
    assert [r.cache_from for r in early.requests] == [()]
    assert [r.cache_from for r in again.requests] == [(f"{HOST}/team/app:latest",)]
    assert logged.text.count("[app] #1 building app") == 1  # the early build's output dropped
    assert registry.tags[("team/app", "sha-abc1234")].digest == entry.digest


def test_a_failed_build_pushes_nothing(tmp_path: Path, logged: pytest.LogCaptureFixture) -> None:
    registry = FakeRegistry()
    builder = FakeBuilder(FakeEngine(registry), fail="web")
    report = go(make_plan(tmp_path, "app", "web"), services(builder, registry))
    assert "RUN false" in (report.image("web").error or "")
    assert report.status == "failed"
    assert registry.tags == {}
    assert "nothing was pushed" in logged.text


# ---------------------------------------------------------------- the run order, as tables


def _local(builder: FakeBuilder, plan: Plan) -> None:
    """Images already built on this machine (what `--only push` pushes)."""
    for image in plan.images:
        for ref in image.refs:
            builder.engine.local[ref] = f"sha256:cfg-{image.name}"


@pytest.mark.parametrize(
    ("stages", "built", "pushed"),
    [
        (("build", "push"), True, True),
        (("build",), True, False),
        (("push",), False, True),
    ],
    ids=["build+push", "only build", "only push (images built before)"],
)
def test_each_selected_stage_runs_on_what_the_earlier_ones_produced(
    tmp_path: Path, stages: tuple[str, ...], built: bool, pushed: bool
) -> None:
    plan = replace(make_plan(tmp_path, "app"), stages=stages)
    registry = FakeRegistry()
    builder = FakeBuilder(FakeEngine(registry))
    if not built:
        _local(builder, plan)
    result = runner.run(plan, services(builder, registry), env={}, jobs=2, dry_run=False)
    assert result.finished and result.error is None
    assert result.built is not None  # input digests are known either way
    assert result.built.image("app").built is built
    assert builder.started == (["app"] if built else [])
    assert (result.published is not None) is pushed
    assert (("team/app", "sha-abc1234") in registry.tags) is pushed
    if pushed:
        assert result.published is not None
        image = result.published.image("app")
        assert image.digest == registry.tags[("team/app", "sha-abc1234")].digest
        assert (image.tags, image.pending_tags) == (("sha-abc1234",), ("latest",))
    report = run_report.compose(plan, result, dry_run=False)
    assert report.status == "ok"


class _Refused(FakeCredentials):
    def get(self):  # type: ignore[no-untyped-def]
        raise AuthError("ECR GetAuthorizationToken failed: AccessDenied")


@pytest.mark.parametrize(
    ("failing", "raises", "built", "published"),
    [
        ("credentials", AuthError, None, None),
        ("repositories", StageError, None, None),
        ("build", None, "failed", None),
        ("push", None, "ok", "failed"),
    ],
)
def test_a_failing_stage_stops_the_run_and_the_result_says_where(
    tmp_path: Path,
    failing: str,
    raises: type[Exception] | None,
    built: str | None,
    published: str | None,
) -> None:
    plan = make_plan(tmp_path, "app")
    registry = FakeRegistry()
    builder = FakeBuilder(FakeEngine(registry), fail="app" if failing == "build" else None)
    svc = services(builder, registry, _Refused() if failing == "credentials" else None)
    if failing == "repositories":

        def missing() -> None:
            raise StageError("ECR repositories missing: team/app")

        svc.repositories = missing  # type: ignore[assignment]
    if failing == "push":
        builder.engine.failures = [RegistryFailure("denied: not allowed", retry.Kind.FATAL)]
    progress = runner.Progress()
    if raises is not None:
        with pytest.raises(raises):
            runner.run(plan, svc, env={}, jobs=2, dry_run=False, progress=progress)
    else:
        runner.run(plan, svc, env={}, jobs=2, dry_run=False, progress=progress)
    result = progress.result
    assert not result.finished
    state = {True: "ok", False: "failed"}
    assert (state[result.built.ok] if result.built else None) == built
    assert (state[not result.published.failed] if result.published else None) == published
    if failing != "push":
        assert registry.tags == {}  # nothing half-done in the registry
    assert run_report.compose(plan, result, dry_run=False).status == "failed"


class _Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def stage_started(self, stage: str) -> None:
        self.events.append(("start", stage))

    def stage_finished(self, stage: str, seconds: float, ok: bool) -> None:
        self.events.append(("end", stage, f"{seconds:g}", str(ok)))


def test_progress_stage_times_each_stage_with_the_injected_clock_and_tells_the_observer() -> None:
    ticks = iter([10.0, 12.5, 20.0, 20.25])
    recorder = _Recorder()
    progress = runner.Progress(recorder, clock=lambda: next(ticks))
    with progress.stage("build"):
        pass
    with pytest.raises(RuntimeError), progress.stage("push"):
        raise RuntimeError("boom")
    assert progress.result.timings == (("build", 2.5), ("push", 0.25))
    assert recorder.events == [
        ("start", "build"),
        ("end", "build", "2.5", "True"),
        ("start", "push"),
        ("end", "push", "0.25", "False"),
    ]


def test_progress_stage_reports_a_failed_value_as_not_ok() -> None:
    recorder = _Recorder()
    progress = runner.Progress(recorder, clock=lambda: 0.0)
    with progress.stage("build") as outcome:
        outcome.ok = False
    assert recorder.events[-1] == ("end", "build", "0", "False")


def test_a_run_records_time_for_prepare_build_and_push(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, "app")
    registry = FakeRegistry()
    svc = services(FakeBuilder(FakeEngine(registry)), registry, None)
    recorder = _Recorder()
    progress = runner.Progress(recorder)
    runner.run(plan, svc, env={}, jobs=2, dry_run=False, progress=progress)
    assert [stage for stage, _ in progress.result.timings] == ["prepare", "build", "push"]
    assert [e[1] for e in recorder.events if e[0] == "end"] == ["prepare", "build", "push"]
    report = run_report.compose(plan, progress.result, dry_run=False).to_json()
    assert list(report["seconds"]) == ["prepare", "build", "push"]


# --------------------------------------------------------------------------- scan, gate, promote

RELEASE = ("build", "push", "scan", "gate", "promote", "deploy")


class _Release:
    """Scan, gate and promote steps over fakes, and a deploy step that records its gate."""

    def __init__(self, svc: runner.Services, findings: tuple[object, ...] = (), **scan: object):
        from pipeline.scan.gate import GatePolicy
        from pipeline.stages import gate, promote
        from tests.unit.scan.fakes import T0

        self.deployed_with: list[object] = []
        self.scanned_at: list[object] = []
        policy = GatePolicy(thresholds={"CRITICAL": 0})

        def scan_step(published: Published, pushed_at: object) -> Scanned:
            self.scanned_at.append(pushed_at)
            return Scanned(
                tuple(
                    ScanOutcome(
                        i.name,
                        ImageRef(i.repository, i.digest or ""),
                        str(scan.get("status", "COMPLETE")),
                        findings,  # type: ignore[arg-type]
                        error=scan.get("error"),  # type: ignore[arg-type]
                    )
                    for i in published.images
                )
            )

        def deploy_step(
            published: Published, gated: object, registry: object, halted: str | None
        ) -> Deployed:
            self.deployed_with.append((gated, halted))
            return Deployed()

        svc.scan = scan_step
        svc.gate = lambda published, scanned: gate.run(
            published, scanned, policy, T0.date(), off="scanning is off"
        )
        svc.promote = lambda published, gated, pusher: promote.run(
            published, gated, promote.PusherTags(pusher), dry_run=False
        )
        svc.deploy = deploy_step


def _release_run(
    tmp_path: Path, stages: tuple[str, ...] = RELEASE, **scan: object
) -> tuple[runner.RunResult, RunReport, FakeRegistry, _Release]:
    plan = replace(make_plan(tmp_path, "app"), stages=stages)
    registry = FakeRegistry()
    svc = services(FakeBuilder(FakeEngine(registry)), registry)
    release = _Release(svc, **scan)  # type: ignore[arg-type]
    result = runner.run(plan, svc, env={}, jobs=2, dry_run=False)
    return result, run_report.compose(plan, result, dry_run=False), registry, release


def test_a_passed_gate_promotes_then_deploys_in_stage_order(tmp_path: Path) -> None:
    result, report, registry, release = _release_run(tmp_path)
    assert [s for s, _ in result.timings] == [
        "prepare", "build", "push", "scan", "gate", "promote", "deploy"
    ]  # fmt: skip
    pushed = registry.tags[("team/app", "sha-abc1234")]
    assert registry.tags[("team/app", "latest")] == pushed  # moved by manifest, same digest
    assert result.gated is not None and result.gated.decision == "pass"
    assert release.deployed_with == [(result.gated, None)]
    assert report.status == "ok"
    image = report.image("app")
    assert (image.tags, image.pending_tags, image.gate) == (["sha-abc1234", "latest"], [], "pass")
    assert image.scan is not None and image.scan["status"] == "COMPLETE"


def test_the_report_lists_an_images_tags_in_rule_order_once_promoted(tmp_path: Path) -> None:
    # `pipeline tags` keeps rule order (1.2.3, 1.2, sha-..., latest); the report names
    # the same tags in the same order, though the mutable ones land after the push
    plan = replace(make_plan(tmp_path, "app"), stages=RELEASE)
    rules = TagSet(
        (
            Tag("1.2.3", False, "semver"),
            Tag("1.2", True, "semver"),
            Tag("sha-abc1234", False, "sha"),
            Tag("latest", True, "latest"),
        ),
        "1.2.3",
        "v1.2.3",
    )
    plan = replace(plan, images=(replace(plan.images[0], tags=rules),))
    registry = FakeRegistry()
    svc = services(FakeBuilder(FakeEngine(registry)), registry)
    _Release(svc)
    result = runner.run(plan, svc, env={}, jobs=2, dry_run=False)
    report = run_report.compose(plan, result, dry_run=False)
    assert report.status == "ok"
    assert report.image("app").tags == ["1.2.3", "1.2", "sha-abc1234", "latest"]


def test_a_blocked_gate_moves_no_tag_and_deploy_skips_with_the_blocked_gate(
    tmp_path: Path,
) -> None:
    critical = finding("CVE-2026-0042", "CRITICAL")
    result, report, registry, release = _release_run(tmp_path, findings=(critical,))
    assert ("team/app", "latest") not in registry.tags
    assert result.promoted is None
    assert [s for s, _ in result.timings][-3:] == ["scan", "gate", "deploy"]
    assert result.gated is not None and result.gated.blocked
    assert release.deployed_with == [(result.gated, "the gate blocked this release")]
    assert report.status == "blocked"
    assert report.image("app").scan["blocking"] == ["CVE-2026-0042"]  # type: ignore[index]
    assert report.image("app").pending_tags == ["latest"]
    assert "CVE-2026-0042" in report.blocking and "CRITICAL" in report.blocking


def test_a_scan_error_fails_the_run_and_moves_no_tag(tmp_path: Path) -> None:
    result, report, registry, release = _release_run(
        tmp_path, status="TIMEOUT", error="no scan result after 3s (scan.timeout 3s)"
    )
    assert ("team/app", "latest") not in registry.tags
    assert result.promoted is None and not result.finished
    assert report.status == "failed"
    assert report.image("app").error == "no scan result after 3s (scan.timeout 3s)"
    # every target skipped, saying why
    assert release.deployed_with == [(result.gated, "the scan of app failed")]


def test_with_scanning_off_the_gate_skips_and_promote_goes_on(tmp_path: Path) -> None:
    stages = ("build", "push", "promote", "deploy")
    result, report, registry, release = _release_run(tmp_path, stages)
    assert release.scanned_at == []  # no scan stage
    assert result.gated is not None and result.gated.decision == "skipped"
    assert ("team/app", "latest") in registry.tags
    assert report.status == "ok"
    assert report.image("app").gate == "skipped"


def test_the_scan_is_told_when_the_push_began(tmp_path: Path) -> None:
    plan = replace(make_plan(tmp_path, "app"), stages=RELEASE)
    registry = FakeRegistry()
    svc = services(FakeBuilder(FakeEngine(registry)), registry)
    release = _Release(svc)
    began = dt.datetime(2026, 11, 27, 12, tzinfo=dt.timezone.utc)
    svc.now = lambda: began
    runner.run(plan, svc, env={}, jobs=2, dry_run=False)
    assert release.scanned_at == [began]


def _immutable_services(builder: FakeBuilder, registry: FakeRegistry) -> runner.Services:
    svc = services(builder, registry)
    admin = FakeRepositories(modes={"team/app": TagMutability("IMMUTABLE")})
    return replace(svc, repositories=lambda: admin)


def test_an_immutable_repository_whose_mutable_tag_would_move_stops_the_run_before_any_push(
    tmp_path: Path,
) -> None:
    plan = replace(make_plan(tmp_path, "app"), stages=("build", "push", "promote"))
    registry = FakeRegistry()
    registry.store("team/app", "latest", manifest_for("sha256:previous-commit"))
    builder = FakeBuilder(FakeEngine(registry))
    builder.hold.clear()  # the early build is still running when the registry answers
    with pytest.raises(UsageError) as refused:
        go(plan, _immutable_services(builder, registry))
    assert str(refused.value) == (
        "ECR repository team/app is IMMUTABLE: tags 'latest' move between commits, but already"
        " name another image and the repository will not move them; add an exclusion filter"
        " matching them to the repository, make it MUTABLE, or drop the rule"
    )
    assert refused.value.exit_code == 2
    assert builder.stopped == ["app"]
    assert list(registry.tags) == [("team/app", "latest")]  # nothing pushed


def test_an_immutable_repository_takes_a_first_run(tmp_path: Path) -> None:
    plan = replace(make_plan(tmp_path, "app"), stages=("build", "push", "promote"))
    registry = FakeRegistry()  # latest does not exist yet: promote creates it
    report = go(plan, _immutable_services(FakeBuilder(FakeEngine(registry)), registry))
    assert (report.image("app").pushed, report.image("app").error) == (True, None)


def test_an_immutable_repository_takes_a_rerun_of_the_same_commit(tmp_path: Path) -> None:
    plan = replace(make_plan(tmp_path, "app"), stages=("build", "push", "promote"))
    registry = FakeRegistry()
    # what the first run left: its sha tag (with its inputs) and latest on the same image
    published = manifest_for("sha256:first-run")
    labels = {build_stage.INPUT_LABEL: str(reuse.input_digests(plan)["app"])}
    registry.store("team/app", "sha-abc1234", published, labels=labels)
    registry.store("team/app", "latest", published)
    report = go(plan, _immutable_services(FakeBuilder(FakeEngine(registry)), registry))
    entry = report.image("app")
    assert (entry.reused, entry.digest, entry.error) == (True, published.digest, None)


def test_a_mutable_repository_never_reads_its_tags_before_the_push(tmp_path: Path) -> None:
    plan = replace(make_plan(tmp_path, "app"), stages=("build", "push", "promote"))
    registry = FakeRegistry()
    registry.store("team/app", "latest", manifest_for("sha256:previous-commit"))
    svc = services(FakeBuilder(FakeEngine(registry)), registry)
    admin = FakeRepositories(existing=("team/app",))
    report = go(plan, replace(svc, repositories=lambda: admin))
    assert report.image("app").pushed
