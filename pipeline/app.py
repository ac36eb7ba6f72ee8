"""Composition root: the only place real adapters and clients are built.

Loads and plans (`make_plan`, shared by validate/tags/plan/run), then, for
`pipeline run`, builds every adapter from small settings objects (adapters
never see the config schema) and hands the runner its ports. Clock,
sleep, jitter and the environment are chosen here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import log, preflight, providers, retry, runner
from pipeline import plan as planning
from pipeline.adapters import builders, credentials, ecr
from pipeline.adapters.docker_engine import Engine
from pipeline.adapters.ports import (
    Builder,
    CredentialSource,
    Registry,
    RepositoryAdmin,
    Retagger,
)
from pipeline.adapters.registry_http import RegistryClient
from pipeline.compose import release
from pipeline.config import load as config_load
from pipeline.config.schema import Config
from pipeline.context import Context
from pipeline.errors import Interrupted, PipelineError, StageError
from pipeline.plan import Plan
from pipeline.report import run_report
from pipeline.report.run_report import RunReport
from pipeline.settings import RunSettings
from pipeline.stages import build as build_stage
from pipeline.stages import order, reuse
from pipeline.stages.push import Pusher
from pipeline.stages.results import Deployed, Published

if TYPE_CHECKING:
    from pipeline.scan.gate import GateResult
    from pipeline.stages.from_report import Reported


@dataclass(frozen=True)
class Source:
    """Where the command was pointed: the config file and the flags that override CI."""

    file: Path
    ref: str | None = None
    sha: str | None = None

    @property
    def root(self) -> Path:
        return self.file.resolve().parent


def load_config(source: Source, env: Mapping[str, str] | None = None) -> Config:
    return config_load.load(source.file, env)


def resolve_context(
    source: Source, config: Config, env: Mapping[str, str] | None = None
) -> Context:
    return providers.resolve(
        os.environ if env is None else env,
        source.root,
        ref=source.ref,
        sha=source.sha,
        default_branch=config.default_branch,
        release_tags=config.latest == "auto",
    )


def make_plan(
    source: Source,
    *,
    images: Sequence[str] = (),
    stages: Sequence[str] = planning.STAGES,
    require_tags: bool = True,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    from_reports: Sequence[str] = (),
    selection: order.Selection | None = None,
) -> planning.Plan:
    """The plan of a run; with `check`, refused (UsageError) as `run` would refuse it.

    `plan` and `run` share this, so they refuse the same configurations with the
    same message; `tags` only computes tags and passes check=False. `selection`
    (`--only`/`--skip` as typed) chooses the stages in place of `stages`, and a
    refusal then names the stages it asked for.
    """
    env = os.environ if env is None else env
    if selection is not None:
        stages = selection.stages
    config = load_config(source, env)
    ctx = resolve_context(source, config, env)
    plan = planning.make(
        config, ctx, env, root=source.root, images=images, stages=stages, require_tags=require_tags
    )
    if from_reports:
        plan = replace(plan, from_reports=tuple(from_reports))
    if not check:
        return plan
    preflight.check(plan, env, selection)
    later = preflight.not_yet_implemented(config)
    return replace(plan, warnings=(*plan.warnings, *later)) if later else plan


def preload() -> None:
    """Import the AWS SDK while the config and git are read (git runs in its own
    process, so the interpreter is free meanwhile); a run needs it soon after."""

    def load() -> None:
        with contextlib.suppress(ImportError):
            import boto3  # noqa: F401

    threading.Thread(target=load, name="preload", daemon=True).start()


def _credentials(plan: Plan, env: Mapping[str, str], aws: ecr.Connect) -> CredentialSource:
    """ECR tokens are fetched when first needed; static credentials are read now, so a
    missing variable or a broken docker config is refused before anything runs."""
    reg, cfg = plan.registry, plan.config.registry
    if reg.type == "ecr":
        assert reg.region
        return ecr.TokenCredentials(ecr.private_token(reg.region, reg.host, connect=aws))
    if reg.type == "ecr-public":
        return ecr.TokenCredentials(ecr.public_token(reg.host, connect=aws))
    if cfg.username_env and cfg.password_env:
        return credentials.Static(
            credentials.from_env(reg.host, cfg.username_env, cfg.password_env, env)
        )
    return credentials.Static(credentials.from_docker_config(reg.host, env))


def repository_rules(plan: Plan) -> ecr.RepositoryRules:
    """The adapter's settings, from the config schema (which adapters never see)."""
    repo = plan.config.registry.repository
    return ecr.RepositoryRules(
        scan_on_push=repo.scan_on_push,
        tag_mutability=repo.tag_mutability,
        mutable_tags=tuple(repo.mutable_tags),
        encryption=repo.encryption.type,
        kms_key=repo.encryption.kms_key,
    )


def _lifecycle(plan: Plan) -> str | None:
    if plan.registry.type != "ecr" or "push" not in plan.stages:
        return None
    return ecr.lifecycle_text(plan.config.registry.repository.lifecycle_policy, plan.root)


def services(
    plan: Plan,
    env: Mapping[str, str],
    settings: RunSettings,
    *,
    dry_run: bool,
    creds: CredentialSource | None = None,
    lifecycle: str | None = None,
    aws: ecr.Clients | None = None,
) -> tuple[runner.Services, Engine]:
    aws = aws if aws is not None else ecr.Clients()
    engine = Engine()
    made: list[Builder] = []
    pause = retry.Pause()  # Ctrl-C: retry pauses end at once, and nothing is retried
    waits = pause.waits()
    policy = retry.Policy(timeout=settings.push_timeout, max_tries=settings.push_attempts)

    def retrying(what: str, operation: Callable[[], Any]) -> Any:
        return retry.call(
            operation, what=what, policy=policy, waits=waits, log=lambda m: log.LOG.warning("%s", m)
        )

    chosen: list[builders.Found] = []

    def make_builder() -> Builder:
        # probed once: a second builder (an early build built again) is the same kind
        if not chosen:
            chosen.append(builders.choose(env, settings.builder, settings.docker))
        made.append(builders.make(chosen[0], engine, env))
        return made[-1]

    def make_pusher() -> Pusher:
        source = creds if creds is not None else _credentials(plan, env, aws)
        registry = RegistryClient(plan.registry.host, source, scheme=settings.registry_scheme)
        retagger: Retagger = registry
        if plan.registry.type == "ecr":
            assert plan.registry.region
            retagger = ecr.PutImageRetagger(
                plan.registry.region, plan.registry.account, connect=aws
            )
        return Pusher(engine, registry, retagger, source, policy, waits, dry_run=dry_run)

    def make_repositories() -> RepositoryAdmin | None:
        reg = plan.registry
        if reg.type != "ecr":
            return None
        assert reg.region
        return ecr.Repositories(
            reg.region,
            reg.account,
            repository_rules(plan),
            lifecycle,
            dry_run=dry_run,
            retrying=retrying,
            connect=aws,
        )

    def interrupt() -> None:
        # The worker threads must end now: the interpreter waits for them before
        # it exits. Pushes in flight are hung up (dockerd then cancels them), the
        # docker build clients are stopped, and retry pauses end.
        pause.stop()
        engine.cancel()
        for builder in made:
            builder.cancel()

    def warm_up_push() -> None:
        # Importing the Docker SDK and connecting cost a few tenths of a second;
        # a build runs in another process, so this thread has the interpreter
        # to itself meanwhile. Errors surface again when the push connects.
        def connect() -> None:
            with contextlib.suppress(Exception):
                _ = engine.client

        threading.Thread(target=connect, name="warm-up", daemon=True).start()

    def parent_commit() -> str | None:
        from pipeline.adapters import git

        return git.parent_of(plan.root, plan.context.sha) or git.parent_of(plan.root)

    made_services = runner.Services(
        make_builder, make_pusher, make_repositories, interrupt, warm_up_push, parent_commit
    )
    return made_services, engine


def deploy_step(
    plan: Plan, env: Mapping[str, str], *, force: bool, dry_run: bool
) -> Callable[[Published, GateResult | None, Registry, str | None], Deployed | None]:
    """After the push: the deploy stage (when selected), then the CodePipeline files.

    The registry is the push's own client: its credentials are already in, and
    the running images' labels are read through it. `halted`: why the run
    stopped before deploy (a failed scan, a blocked gate, a failed promote);
    every target is then skipped with that reason and no file is written.
    """

    def step(
        published: Published, gated: GateResult | None, registry: Registry, halted: str | None
    ) -> Deployed | None:
        # The deploy stage's modules (ECS, Kubernetes, GitOps) are imported only when
        # there is something to deploy or a CodePipeline file to write: a build-and-push
        # run would pay a tenth of a second for them after its push.
        deployed = None
        if "deploy" in plan.stages and plan.config.deploy:
            import time

            from pipeline.compose.deploy import deploy_ports
            from pipeline.stages import deploy as deploy_stage

            ports = deploy_ports(plan, env, registry, dry_run=dry_run)
            deployed = deploy_stage.run(
                plan,
                published,
                gated,
                ports,
                force=force,
                dry_run=dry_run,
                halted=halted,
                clock=time.monotonic,
                sleep=time.sleep,
            )
            for d in deployed.deployments:
                level = log.LOG.info if d.ok else log.LOG.error
                level("deploy %s %s: %s: %s", d.type, d.target, d.status, d.message)
        blocked = gated is not None and gated.blocked  # or a scan failed (fail closed)
        outputs = plan.config.outputs
        if (
            (outputs.imagedefinitions is not None or outputs.image_detail is not None)
            and not dry_run
            and not published.failed
            and not blocked
            and halted is None
            and (deployed is None or deployed.ok)
        ):
            from pipeline.stages import deploy as deploy_stage

            deploy_stage.codepipeline_files(plan, published, deployed)
        return deployed

    return step


def run(
    plan: Plan,
    *,
    settings: RunSettings,
    dry_run: bool,
    report_paths: list[Path],
    env: Mapping[str, str] | None = None,
    force: bool = False,
    progress: runner.Progress | None = None,
) -> RunReport:
    """The run, and its report: written whatever happens once the run has started.

    `progress` carries the terminal's stage observer (pipeline/console), and keeps
    the result for the caller's summary when the run raises.

    What can be refused is refused first (exit 2), before any build, push or
    report: stages this version lacks, secrets, static registry credentials,
    the lifecycle policy.
    """
    env = dict(os.environ if env is None else env)
    runner.check_supported(plan)
    for image in () if plan.from_reports else plan.images:  # a final job builds nothing
        build_stage.secrets_for(image, plan.root, env)  # masks their values, too
    aws = ecr.Clients()  # one boto3 client per service and region for this run
    reported = _reported(plan)  # a report that cannot be used is refused up front (exit 2)
    creds = _credentials(plan, env, aws) if "push" in plan.stages or reported else None
    lifecycle = _lifecycle(plan)
    warnings = [
        *build_stage.secret_build_args(plan.images, env),
        *reuse.report_warnings(plan, report_paths),
    ]
    progress = progress if progress is not None else runner.Progress()
    try:
        svc, engine = services(
            plan, env, settings, dry_run=dry_run, creds=creds, lifecycle=lifecycle, aws=aws
        )
        svc.deploy = deploy_step(plan, env, force=force, dry_run=dry_run)
        svc.scan = release.scan_step(plan, dry_run=dry_run, workers=settings.jobs)
        svc.gate = release.gate_step(plan, today=lambda: dt.datetime.now(dt.timezone.utc).date())
        svc.promote = release.promote_step(dry_run=dry_run)
        try:
            runner.run(
                plan,
                svc,
                env=env,
                jobs=settings.jobs,
                dry_run=dry_run,
                warnings=warnings,
                progress=progress,
                reported=reported,
            )
        finally:
            engine.close()
    except (KeyboardInterrupt, Interrupted):
        progress.record(interrupted=True, finished=False)
        raise
    except PipelineError as err:
        progress.record(error=log.redact(str(err)), finished=False)
        raise
    except Exception as err:
        progress.record(
            error=log.redact(f"internal error: {type(err).__name__}: {err}"), finished=False
        )
        raise
    finally:
        report = run_report.compose(plan, progress.result, dry_run=dry_run)
        # SARIF and the findings summary also when the gate blocked or a scan failed
        problems = release.write_outputs(plan, progress.result)
        _write_reports(report, report_paths, problems)
    return report


def _write_reports(report: RunReport, paths: list[Path], problems: list[str]) -> None:
    """Every report that can be written is; a report that cannot is an error of its own,
    unless the run is already failing for another reason (that one is reported)."""
    failed = list(problems)
    for path in paths:
        try:
            run_report.write(path, report)
        except OSError as err:
            failed.append(f"cannot write the report {path}: {err.strerror or err}")
    for problem in failed:
        log.LOG.error("%s", problem)
    if failed and sys.exc_info()[0] is None:
        raise StageError("; ".join(failed))


def _reported(plan: Plan) -> Reported | None:
    """`--from-report`: the runners' reports, checked against this plan."""
    if not plan.from_reports:
        return None
    from pipeline.scan.config_check import applies
    from pipeline.stages import from_report

    expected = [from_report.Expected(i.name, i.image, i.repository) for i in plan.images]
    return from_report.read(
        plan.from_reports, expected, plan.context.sha, gated=applies(plan.config)
    )
