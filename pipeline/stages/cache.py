"""Layer cache and registry logins for the build requests of a run.

`prepare` (no network) says where each build leaves its cache and which
registry hosts docker logs in to through `docker-credential-pipeline`: the
config's registry, the registries of the Dockerfile's `FROM` lines, and
`registry.pull_from`. `attach` looks the cache candidates up in the registry
(the Registry port) and keeps those that exist: a missing one is skipped
silently, a registry that does not answer with a debug line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from pipeline import cache, dockerfile, log
from pipeline.adapters.ports import BuildRequest, Registry
from pipeline.config.schema import Image
from pipeline.credhelper.hosts import is_served
from pipeline.errors import PipelineError
from pipeline.plan import ImagePlan, Plan
from pipeline.retry import RegistryFailure

#: the tag a registry cache (buildx, `to: registry`) is exported to and read from
REGISTRY_CACHE_TAG = "buildcache"


def _config_image(plan: Plan, name: str) -> Image:
    return next(i for i in plan.config.images if i.name == name)


def settings(plan: Plan, image: ImagePlan) -> cache.CacheSettings:
    return cache.settings(plan.config.cache, _config_image(plan, image.name).cache)


def registry_hosts(plan: Plan, image: ImagePlan, env: Mapping[str, str]) -> tuple[str, ...]:
    """The hosts of this build that our helper serves (others keep the user's logins)."""
    wanted = [plan.registry.host, *plan.config.registry.pull_from]
    try:
        text = Path(image.dockerfile).read_text(errors="replace")
    except OSError:
        text = ""  # the build itself says that the Dockerfile is missing
    wanted += [
        dockerfile.registry_host(ref) for ref in dockerfile.base_images(text, image.build_args)
    ]
    return tuple(dict.fromkeys(h.lower() for h in wanted if is_served(h, env)))


def prepare(
    plan: Plan,
    requests: Mapping[str, BuildRequest],
    env: Mapping[str, str],
    builder: str,
    warnings: list[str] | None = None,
) -> dict[str, BuildRequest]:
    """Requests with their cache export and registry logins (`builder`: its kind).

    A `to: registry` that this builder cannot honour becomes inline cache, with a
    warning appended to `warnings` (printed by the run once credentials are masked).
    """
    out: dict[str, BuildRequest] = {}
    for image in plan.images:
        request = requests[image.name]
        cfg = settings(plan, image)
        to = cfg.to if cfg.enabled else "none"
        if to == "registry" and builder != "buildx":
            note = (
                f"image {image.name}: cache.to registry needs docker buildx ({builder} builds"
                " here); leaving inline cache, which describes only the final stage"
            )
            if warnings is not None and note not in warnings:
                warnings.append(note)
            to = "inline"
        ref = f"{image.image}:{REGISTRY_CACHE_TAG}" if to == "registry" else None
        out[image.name] = dataclasses.replace(
            request, cache_to=to, cache_ref=ref, registry_hosts=registry_hosts(plan, image, env)
        )
    return out


def wants_lookup(plan: Plan) -> bool:
    return any(settings(plan, i).enabled for i in plan.images)


def taken_without_lookup(plan: Plan) -> bool:
    """Whether some build takes a cache candidate whatever the registry says: `from`
    naming another registry's image, which `attach` hands on without asking."""
    for image in plan.images:
        cfg = settings(plan, image)
        refs = cfg.from_refs if cfg.enabled and cfg.from_refs is not None else ()
        if any(_split(ref, plan.registry.host) is None for ref in refs):
            return True
    return False


def _split(ref: str, host: str) -> tuple[str, str] | None:
    """`host/path:tag` -> (path, tag) when the reference is in our registry."""
    prefix = host + "/"
    if not ref.startswith(prefix):
        return None
    rest = ref[len(prefix) :]
    if "@" in rest:
        path, _, digest = rest.partition("@")
        return path, digest
    path, sep, tag = rest.rpartition(":")
    if not sep or "/" in tag:
        return rest, "latest"
    return path, tag


def attach(
    plan: Plan,
    requests: Mapping[str, BuildRequest],
    registry: Registry | None,
    parent: str | None,
) -> dict[str, BuildRequest]:
    """Requests with the cache candidates that exist in the registry, best first."""
    out = dict(requests)
    reachable = registry is not None
    for image in plan.images:
        cfg = settings(plan, image)
        config_image = _config_image(plan, image.name)
        rules = config_image.tags if config_image.tags is not None else plan.config.tags
        wanted = cache.candidates(cfg, image.image, plan.context, parent, rules or ())
        if cfg.enabled and requests[image.name].cache_ref:
            wanted.insert(0, str(requests[image.name].cache_ref))
        kept: list[str] = []
        for ref in dict.fromkeys(wanted):
            split = _split(ref, plan.registry.host)
            if split is None:
                kept.append(ref)  # another registry: the builder skips what it cannot import
                continue
            if not reachable or registry is None:
                continue
            try:
                if registry.manifest(*split) is not None:
                    kept.append(ref)
            except (RegistryFailure, PipelineError, OSError) as err:
                log.LOG.debug("cache lookup of %s: %s; building without it", ref, err)
                reachable = False
        if kept:
            log.LOG.info("%s: layer cache from %s", image.name, ", ".join(kept))
        out[image.name] = dataclasses.replace(requests[image.name], cache_from=tuple(kept))
    return out
