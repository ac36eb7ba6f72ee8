"""Composition root for `pipeline run`: the only place real clients are built."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pipeline import log, retry, runner
from pipeline.adapters import builders, credentials, ecr
from pipeline.adapters.docker_engine import Engine
from pipeline.adapters.ports import Builder, CredentialSource, RepositoryAdmin, Retagger
from pipeline.adapters.registry_http import RegistryClient
from pipeline.errors import Interrupted, PipelineError, StageError
from pipeline.plan import Plan
from pipeline.report import run_report
from pipeline.report.run_report import RunReport
from pipeline.settings import RunSettings
from pipeline.stages import build as build_stage
from pipeline.stages import reuse
from pipeline.stages.push import Pusher
from pipeline.stages.results import ImagePublished, Published

VERSION_LABEL = "org.opencontainers.image.version"


def preload() -> None:
    """Import the AWS SDK while the config and git are read (git runs in its own
    process, so the interpreter is free meanwhile); a run needs it soon after."""

    def load() -> None:
        with contextlib.suppress(ImportError):
            import boto3  # noqa: F401

    threading.Thread(target=load, name="preload", daemon=True).start()


def _credentials(plan: Plan, env: Mapping[str, str]) -> CredentialSource:
    """ECR tokens are fetched when first needed; static credentials are read now, so a
    missing variable or a broken docker config is refused before anything runs."""
    reg, cfg = plan.registry, plan.config.registry
    if reg.type == "ecr":
        assert reg.region
        return ecr.TokenCredentials(ecr.private_token(reg.region, reg.host))
    if reg.type == "ecr-public":
        return ecr.TokenCredentials(ecr.public_token(reg.host))
    if cfg.username_env and cfg.password_env:
        return credentials.Static(
            credentials.from_env(reg.host, cfg.username_env, cfg.password_env, env)
        )
    return credentials.Static(credentials.from_docker_config(reg.host, env))


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
) -> tuple[runner.Services, Engine]:
    engine = Engine()
    made: list[Builder] = []
    pause = retry.Pause()  # Ctrl-C: retry pauses end at once, and nothing is retried
    waits = pause.waits()
    policy = retry.Policy(timeout=settings.push_timeout, max_tries=settings.push_attempts)

    def retrying(what: str, operation: Callable[[], Any]) -> Any:
        return retry.call(
            operation, what=what, policy=policy, waits=waits, log=lambda m: log.LOG.warning("%s", m)
        )

    def make_builder() -> Builder:
        found = builders.choose(env, settings.builder, settings.docker)
        made.append(builders.make(found, engine, env))
        return made[-1]

    def make_pusher() -> Pusher:
        source = creds if creds is not None else _credentials(plan, env)
        registry = RegistryClient(plan.registry.host, source, scheme=settings.registry_scheme)
        retagger: Retagger = registry
        if plan.registry.type == "ecr":
            assert plan.registry.region
            retagger = ecr.PutImageRetagger(plan.registry.region, plan.registry.account)
        return Pusher(engine, registry, retagger, source, policy, waits, dry_run=dry_run)

    def make_repositories() -> RepositoryAdmin | None:
        reg = plan.registry
        if reg.type != "ecr":
            return None
        assert reg.region
        settings_ = plan.config.registry.repository
        return ecr.Repositories(
            reg.region, reg.account, settings_, lifecycle, dry_run=dry_run, retrying=retrying
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

    made_services = runner.Services(
        make_builder, make_pusher, make_repositories, interrupt, warm_up_push
    )
    return made_services, engine


# ------------------------------------------------- deploy (until the stage seam lands)


def published_of(plan: Plan, report: RunReport) -> Published:
    """What the push stage published, read from the report it filled in."""
    return Published(
        tuple(
            ImagePublished(
                name=entry.name,
                image=entry.image,
                repository=plan.image(entry.name).repository,
                digest=entry.digest,
                tags=tuple(entry.tags),
                pending_tags=tuple(entry.pending_tags),
                pushed=entry.pushed,
                reused=entry.reused,
                revision=plan.context.sha,
                version=plan.image(entry.name).labels.get(VERSION_LABEL),
                error=entry.error,
            )
            for entry in report.images
        )
    )


def after_push(
    plan: Plan,
    env: Mapping[str, str],
    creds: CredentialSource | None,
    settings: RunSettings,
    *,
    force: bool,
    dry_run: bool,
) -> Callable[[RunReport], None]:
    """The deploy stage (when selected and every image was pushed), then the CodePipeline files."""

    def deploy(report: RunReport) -> None:
        import time

        from pipeline.compose.deploy import deploy_ports
        from pipeline.stages import deploy as deploy_stage

        published = published_of(plan, report)
        deployed = None
        # After a failed push the stage calls nothing: each target says why it was skipped.
        if "deploy" in plan.stages and plan.config.deploy:
            source = creds if creds is not None else _credentials(plan, env)
            registry = RegistryClient(plan.registry.host, source, scheme=settings.registry_scheme)
            ports = deploy_ports(plan, env, registry, dry_run=dry_run)
            deployed = deploy_stage.run(
                plan,
                published,
                None,
                ports,
                force=force,
                dry_run=dry_run,
                clock=time.monotonic,
                sleep=time.sleep,
            )
            report.deployments.extend(deployed.deployments)
            for d in deployed.deployments:
                level = log.LOG.info if d.ok else log.LOG.error
                level("deploy %s %s: %s: %s", d.type, d.target, d.status, d.message)
        if not dry_run and (deployed is None or deployed.ok):
            deploy_stage.codepipeline_files(plan, published, deployed)

    return deploy


def run(
    plan: Plan,
    *,
    settings: RunSettings,
    dry_run: bool,
    report_paths: list[Path],
    env: Mapping[str, str] | None = None,
    force: bool = False,
) -> RunReport:
    """The run, and its report: written whatever happens once the run has started.

    What can be refused is refused first (exit 2), before any build, push or
    report: stages this version lacks, secrets, static registry credentials,
    the lifecycle policy.
    """
    env = dict(os.environ if env is None else env)
    runner.check_supported(plan)
    for image in plan.images:
        build_stage.secrets_for(image, plan.root, env)  # masks their values, too
    creds = _credentials(plan, env) if "push" in plan.stages else None
    lifecycle = _lifecycle(plan)
    warnings = [
        *build_stage.secret_build_args(plan.images, env),
        *reuse.report_warnings(plan, report_paths),
    ]
    report = RunReport(stages=list(plan.stages), dry_run=dry_run)
    try:
        svc, engine = services(
            plan, env, settings, dry_run=dry_run, creds=creds, lifecycle=lifecycle
        )
        svc.after_push = after_push(plan, env, creds, settings, force=force, dry_run=dry_run)
        try:
            runner.run(
                plan,
                svc,
                env=env,
                jobs=settings.jobs,
                dry_run=dry_run,
                report=report,
                warnings=warnings,
            )
            report.finished = True
        finally:
            engine.close()
    except (KeyboardInterrupt, Interrupted):
        report.interrupted = True
        raise
    except PipelineError as err:
        report.error = log.redact(str(err))
        raise
    except Exception as err:
        report.error = log.redact(f"internal error: {type(err).__name__}: {err}")
        raise
    finally:
        _write_reports(report, report_paths)
    return report


def _write_reports(report: RunReport, paths: list[Path]) -> None:
    """Every report that can be written is; a report that cannot is an error of its own,
    unless the run is already failing for another reason (that one is reported)."""
    failed = []
    for path in paths:
        try:
            run_report.write(path, report)
        except OSError as err:
            failed.append(f"cannot write the report {path}: {err.strerror or err}")
    for problem in failed:
        log.LOG.error("%s", problem)
    if failed and sys.exc_info()[0] is None:
        raise StageError("; ".join(failed))
