"""What a run refuses before any network call, decided once for `plan` and `run`.

`pipeline plan` promises everything `run` would do; a configuration that `run`
would refuse up front must therefore make `plan` exit 2 with the same message.
Refusals that need AWS (a missing repository, say) stay with the run.

Config keys that this version accepts and validates but does not act on yet are
warnings naming the version that will, never silence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pipeline.config.schema import Config
from pipeline.errors import UsageError
from pipeline.plan import Plan
from pipeline.stages import order

#: The release that brings the keys not available yet.
NEXT_VERSION = "0.2.0"


#: (key, whether the config sets it, the version that implements it): a key the
#: schema accepts before its behaviour lands is named here, so it warns, never
#: silently does nothing. Every key of this version is implemented.
PLANNED: tuple[tuple[str, Callable[[Config], bool], str], ...] = ()


def not_yet_implemented(config: Config) -> list[str]:
    """A warning for each key the config sets that this version does not act on."""
    from pipeline import __version__

    return [
        f"{key} is set, but pipeline {__version__} does not implement it yet and ignores it;"
        f" it takes effect with pipeline {version}"
        for key, is_set, version in PLANNED
        if is_set(config)
    ]


#: Why a config plans no such stage: (the stages, what they need, whether the config has it).
_DROPPED: tuple[tuple[tuple[str, ...], str, Callable[[bool, bool], bool]], ...] = (
    (("deploy",), "a deploy target (deploy:)", lambda scanning, deploys: deploys),
    (
        ("scan", "gate"),
        "scanning (scan.enabled on an ECR registry)",
        lambda scanning, deploys: scanning,
    ),
)


def nothing_left(asked: Sequence[str], *, scanning: bool, deploys: bool) -> str:
    """Why a selection leaves no stage to run with this config, naming only the stages
    `asked` (the selection as typed), never those the user did not ask for."""
    reasons = []
    for stages, need, has in _DROPPED:
        named = [stage for stage in stages if stage in asked]
        if named and not has(scanning, deploys):
            verb = "needs" if len(named) == 1 else "need"
            reasons.append(f"{' and '.join(named)} {verb} {need}")
    why = f" ({'; '.join(reasons)})" if reasons else ""
    return f"--only/--skip leave no stage to run with this config{why}; select other stages"


def refuse(plan: Plan, selection: order.Selection = order.EVERY_STAGE) -> None:
    """Refusals that need only the plan: a stage without its inputs, tags that cannot be pushed.

    `selection`: `--only`/`--skip` as typed, so that a selection the config leaves
    empty is refused naming the stages asked for (a plan made in code asked for all)."""
    if not plan.stages:
        # `--only deploy` without deploy targets, `--only scan,gate` without scanning:
        # a run of nothing would report ok.
        raise UsageError(
            nothing_left(selection.stages, scanning=_scans(plan), deploys=bool(plan.config.deploy))
        )
    # One table says what each stage takes; the reports of a fan-out give what
    # push and gate would have (stages/order.py).
    order.refuse(
        plan.stages,
        scanning=_scans(plan),
        given=order.REPORTS_GIVE if plan.from_reports else (),
    )
    if "push" in plan.stages:
        for image in plan.images:
            if not image.tags.immutable:
                raise UsageError(
                    f"image {image.name}: every tag of this run moves"
                    f" ({', '.join(image.tags.names)});"
                    " the push stage uploads images under immutable tags and mutable ones are"
                    " promoted later, so add a `sha` tag rule"
                )


def _scans(plan: Plan) -> bool:
    from pipeline.scan.config_check import applies

    return applies(plan.config)


def check(plan: Plan, env: Mapping[str, str], selection: order.Selection | None = None) -> None:
    """Every refusal a run makes before any network call (UsageError, exit 2);
    `selection` as in `refuse`."""
    refuse(plan, order.EVERY_STAGE if selection is None else selection)
    if "build" in plan.stages:
        from pipeline.stages import build as build_stage

        for image in plan.images:  # a missing secret variable or an unusable secret file
            build_stage.secrets_for(image, plan.root, env)
    registry = plan.config.registry
    named = registry.username_env and registry.password_env
    if "push" in plan.stages and registry.type == "generic" and named:
        from pipeline.adapters import credentials

        assert registry.username_env and registry.password_env
        credentials.from_env(plan.registry.host, registry.username_env, registry.password_env, env)
