"""Composition root for `pipeline run`: the only place real clients are built."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping
from pathlib import Path

from pipeline import log, retry, runner
from pipeline.adapters import builders, credentials, ecr
from pipeline.adapters.docker_engine import Engine
from pipeline.adapters.ports import Builder, CredentialSource, RepositoryAdmin, Retagger
from pipeline.adapters.registry_http import RegistryClient
from pipeline.errors import PipelineError
from pipeline.plan import Plan
from pipeline.report.run_report import RunReport
from pipeline.stages import reuse
from pipeline.stages.push import Pusher


def preload() -> None:
    """Import the AWS SDK while the config and git are read (git runs in its own
    process, so the interpreter is free meanwhile); a run needs it soon after."""

    def load() -> None:
        with contextlib.suppress(ImportError):
            import boto3  # noqa: F401

    threading.Thread(target=load, name="preload", daemon=True).start()


def _credentials(plan: Plan, env: Mapping[str, str]) -> CredentialSource:
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


def services(
    plan: Plan, env: Mapping[str, str], *, dry_run: bool
) -> tuple[runner.Services, Engine]:
    engine = Engine()
    made: list[Builder] = []
    stop = threading.Event()  # set on Ctrl-C: retry pauses end at once

    def pause(seconds: float) -> None:
        stop.wait(seconds)

    def make_builder() -> Builder:
        found = builders.choose(env)
        made.append(builders.make(found, engine, env))
        return made[-1]

    def make_pusher() -> Pusher:
        creds = _credentials(plan, env)
        registry = RegistryClient(plan.registry.host, creds)
        retagger: Retagger = registry
        if plan.registry.type == "ecr":
            assert plan.registry.region
            retagger = ecr.PutImageRetagger(plan.registry.region, plan.registry.account)
        return Pusher(
            engine, registry, retagger, creds, retry.Policy.from_env(), pause, dry_run=dry_run
        )

    def make_repositories() -> RepositoryAdmin | None:
        reg = plan.registry
        if reg.type != "ecr":
            return None
        assert reg.region
        settings = plan.config.registry.repository
        text = ecr.lifecycle_text(settings.lifecycle_policy, plan.root)
        return ecr.Repositories(reg.region, reg.account, settings, text, dry_run=dry_run)

    def interrupt() -> None:
        # The worker threads must end now: the interpreter waits for them before
        # it exits. Pushes in flight are hung up (dockerd then cancels them), the
        # docker build clients are stopped, and retry pauses end.
        stop.set()
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


def run(
    plan: Plan,
    *,
    dry_run: bool,
    jobs: int | None,
    report_paths: list[Path],
    env: Mapping[str, str] | None = None,
) -> RunReport:
    env = dict(os.environ if env is None else env)
    report = RunReport(stages=list(plan.stages), dry_run=dry_run)
    svc, engine = services(plan, env, dry_run=dry_run)
    workers = jobs or int(env.get("PIPELINE_JOBS", "4"))
    warnings = reuse.report_warnings(plan, report_paths)
    try:
        runner.run(
            plan, svc, env=env, jobs=workers, dry_run=dry_run, report=report, warnings=warnings
        )
    except KeyboardInterrupt:
        report.interrupted = True
        raise
    except PipelineError as err:
        report.error = log.redact(str(err))
        raise
    finally:
        engine.close()
        if report.images or report.interrupted:
            runner.write_reports(report, report_paths)
    return report
