"""Composition root: load, resolve and plan; later, the only place real clients are built."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline import plan as planning
from pipeline import preflight, providers
from pipeline.config import load as config_load
from pipeline.config.schema import Config
from pipeline.context import Context


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
) -> planning.Plan:
    """The plan of a run; with `check`, refused (UsageError) as `run` would refuse it.

    `plan` and `run` share this, so they refuse the same configurations with the
    same message; `tags` only computes tags and passes check=False.
    """
    env = os.environ if env is None else env
    config = load_config(source, env)
    ctx = resolve_context(source, config, env)
    plan = planning.make(
        config, ctx, env, root=source.root, images=images, stages=stages, require_tags=require_tags
    )
    if not check:
        return plan
    preflight.check(plan, env)
    later = preflight.not_yet_implemented(config)
    return replace(plan, warnings=(*plan.warnings, *later)) if later else plan
