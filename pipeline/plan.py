"""Config + Context -> Plan: everything a run will do, resolved, with no I/O.

`pipeline plan --json` prints this value; the stages receive it. Images come
in build order (dependencies first, otherwise as written).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline import registry as registries
from pipeline import tags as tagging
from pipeline.config.schema import Config, Image, Secret
from pipeline.config.suggest import did_you_mean
from pipeline.config.types import format_duration
from pipeline.context import Context
from pipeline.errors import UsageError
from pipeline.scan import config_check
from pipeline.stages import order

STAGES = ("build", "push", "scan", "gate", "promote", "deploy")


@dataclass(frozen=True)
class ImagePlan:
    name: str
    repository: str
    image: str
    context_dir: Path
    dockerfile: Path
    target: str | None
    build_args: Mapping[str, str]
    secrets: tuple[Secret, ...]
    platforms: tuple[str, ...]
    labels: Mapping[str, str]
    tags: tagging.TagSet
    depends_on: tuple[str, ...]

    @property
    def refs(self) -> list[str]:
        return [f"{self.image}:{t}" for t in self.tags.names]

    def to_json(self, root: Path) -> dict[str, Any]:
        return {
            "name": self.name,
            "repository": self.repository,
            "image": self.image,
            "tags": self.tags.names,
            "version": self.tags.version,
            "labels": dict(self.labels),
            "immutable_tags": self.tags.immutable,
            "mutable_tags": self.tags.mutable,
            "context": _rel(self.context_dir, root),
            "dockerfile": _rel(self.dockerfile, root),
            "target": self.target,
            "build_args": dict(self.build_args),
            "secrets": [s.id for s in self.secrets],
            "platforms": list(self.platforms),
            "depends_on": list(self.depends_on),
        }


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root)) or "."
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Plan:
    config: Config
    root: Path
    context: Context
    registry: registries.RegistryTarget
    images: tuple[ImagePlan, ...]
    stages: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())
    #: files the run writes (report, SARIF, CodePipeline files): never build inputs
    written: tuple[Path, ...] = field(default=())
    #: `run --from-report`: the runners' reports this final job promotes and deploys
    from_reports: tuple[str, ...] = field(default=())

    def image(self, name: str) -> ImagePlan:
        return next(i for i in self.images if i.name == name)

    def writing(self, files: Sequence[Path]) -> Plan:
        """The same plan, also writing `files` (say, a `--report` named on the command line)."""
        return replace(self, written=(*self.written, *(f for f in files if f not in self.written)))

    def tags_json(self) -> dict[str, Any]:
        """`pipeline tags --json`: the context and each image's tags and labels."""
        keys = {"name", "repository", "image", "tags", "version", "labels"}
        keys |= {"immutable_tags", "mutable_tags"}
        images = [{k: v for k, v in i.to_json(self.root).items() if k in keys} for i in self.images]
        return {"context": self.context.to_json(), "images": images}

    def to_json(self) -> dict[str, Any]:
        scan = self.config.scan
        return {
            "context": self.context.to_json(),
            "registry": self.registry.to_json(),
            "stages": list(self.stages),
            "images": [i.to_json(self.root) for i in self.images],
            "scan": {
                "enabled": scan.enabled,
                "timeout": format_duration(scan.timeout),
                "thresholds": dict(scan.thresholds),
                "undefined_as": scan.undefined_as,
                "on_unsupported": scan.on_unsupported,
                "ignore_unfixed": scan.ignore_unfixed,
                "ignore": [i.model_dump(mode="json") for i in scan.ignore],
            },
            "deploy": [t.model_dump(mode="json") for t in self.config.deploy],
            "outputs": self.config.outputs.model_dump(mode="json"),
            "warnings": list(self.warnings),
        }


def select_stages(only: Sequence[str] = (), skip: Sequence[str] = ()) -> tuple[str, ...]:
    """The stages `--only`/`--skip` ask for (empty: the option was not given)."""
    return order.select(list(only) or None, list(skip) or None).stages


def build_order(images: Sequence[Image]) -> list[Image]:
    """Dependencies first; otherwise the order written. Cycles are refused at load."""
    by_name = {i.name: i for i in images}
    done: dict[str, Image] = {}

    def visit(image: Image) -> None:
        if image.name in done:
            return
        for dep in image.depends_on:
            if dep in by_name:
                visit(by_name[dep])
        done[image.name] = image

    for image in images:
        visit(image)
    return list(done.values())


def compute_tags(config: Config, image: Image, ctx: Context) -> tagging.TagSet:
    return tagging.compute(
        image.tags if image.tags is not None else config.tags,
        ctx,
        latest=config.latest,
        tag_prefix=config.tag_prefix if image.tag_prefix is None else image.tag_prefix,
        allow_dirty=config.allow_dirty,
        default_branch=config.default_branch,
        image=image.name,
    )


def select_images(config: Config, names: Sequence[str]) -> list[Image]:
    known = [i.name for i in config.images]
    for name in names:
        if name not in known:
            raise UsageError(f"no image named {name!r} in the config" + did_you_mean(name, known))
    return [i for i in config.images if not names or i.name in names]


def make(
    config: Config,
    ctx: Context,
    env: Mapping[str, str],
    *,
    root: Path,
    images: Sequence[str] = (),
    stages: Sequence[str] = STAGES,
    require_tags: bool = True,
) -> Plan:
    target = registries.resolve(config.registry, env)
    scans = config_check.applies(config)  # scan.enabled, on a registry with a scan API
    active = [s for s in stages if s not in ("scan", "gate") or scans]
    if not config.deploy and "deploy" in active:
        active.remove("deploy")
    warnings: list[str] = []
    if ctx.dirty and not config.allow_dirty:
        warnings.append(
            "the work tree has uncommitted changes: only the -dirty sha tag is used"
            " (commit them, or set allow_dirty: true)"
        )
    planned: list[ImagePlan] = []
    for image in build_order(select_images(config, images)):
        tagset = compute_tags(config, image, ctx)
        warnings.extend(w for w in tagset.warnings if w not in warnings)
        if require_tags and not tagset.tags:
            raise UsageError(
                f"image {image.name}: no tag rule applies to this run"
                f" ({ctx.event} of {ctx.ref or ctx.sha[:7]}); add a `sha` rule so every run"
                " has a tag"
            )
        repository = image.repository or image.name
        context_dir = (root / image.context).resolve()
        labels = tagging.labels(ctx, title=image.name, version=tagset.version, user=image.labels)
        planned.append(
            ImagePlan(
                name=image.name,
                repository=repository,
                image=target.image(repository),
                context_dir=context_dir,
                dockerfile=(context_dir / image.dockerfile).resolve(),
                target=image.target,
                build_args=dict(image.build_args),
                secrets=image.secrets,
                platforms=image.platforms,
                labels=labels,
                tags=tagset,
                depends_on=image.depends_on,
            )
        )
    outputs = config.outputs
    named = (outputs.report, outputs.imagedefinitions, outputs.image_detail, config.scan.sarif)
    written = tuple((root / name).resolve() for name in named if name)
    return Plan(config, root, ctx, target, tuple(planned), tuple(active), tuple(warnings), written)
