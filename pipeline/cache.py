"""The layer cache a cold runner builds from: which images, and what a build leaves.

Pure. A cold CI runner has no local layers; the images most likely to share
them with this commit's are, in order, the parent commit's `sha-` image, the
branch's tag (for a pull request its `pr-<N>` tag, then its base branch's),
the default branch's tag, and `latest`. Each is only a candidate: the run asks
the registry which exist before it hands them to the builder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline import sanitize
from pipeline.config.schema import Cache, CacheSetting, ShaRule, TagRule
from pipeline.context import Context

#: where a build leaves its cache: in the image (inline), beside it (registry), nowhere
TO_KINDS = ("inline", "registry", "none")


@dataclass(frozen=True)
class CacheSettings:
    """The effective `cache` settings of one image (the image's replace the top level's)."""

    enabled: bool = True
    #: None: `from: auto`; else the configured references, in order
    from_refs: tuple[str, ...] | None = None
    to: str = "inline"


def settings(top: CacheSetting, image: CacheSetting) -> CacheSettings:
    """`cache: false` turns it off; a mapping replaces the level above; absent: auto, inline."""
    chosen = image if image is not None else top
    if chosen is None or chosen is True:
        return CacheSettings()
    if chosen is False:
        return CacheSettings(enabled=False, to="none")
    assert isinstance(chosen, Cache)
    refs = None if chosen.from_ == "auto" else tuple(chosen.from_)
    return CacheSettings(True, refs, chosen.to)


def sha_tag(sha: str, rules: Sequence[TagRule]) -> str:
    """The tag the image's `sha` rule gives a commit (`sha-` and 7 characters by default)."""
    rule = next((r for r in rules if isinstance(r, ShaRule) and r.enable), None)
    if rule is None or "{{" in (rule.prefix or "") + rule.suffix:  # templated: the default
        return f"sha-{sha[:7]}"
    value = sha if rule.format == "long" else sha[: rule.length]
    return f"{rule.prefix if rule.prefix is not None else 'sha-'}{value}{rule.suffix}"


def auto_tags(
    ctx: Context,
    parent: str | None,
    rules: Sequence[TagRule] = (),
) -> list[str]:
    """Candidate tags in the order most likely to share layers, without repeats."""
    out: list[str] = []
    if parent:
        out.append(sha_tag(parent, rules))
    if ctx.pr is not None:
        out.append(f"pr-{ctx.pr}")
        if ctx.base_ref:
            out.append(sanitize.tag(ctx.base_ref.removeprefix("refs/heads/")))
    elif ctx.branch:
        out.append(sanitize.tag(ctx.branch))
    if ctx.default_branch:
        out.append(sanitize.tag(ctx.default_branch))
    out.append("latest")
    return list(dict.fromkeys(t for t in out if sanitize.TAG_RE.match(t)))


def candidates(
    cfg: CacheSettings,
    image: str,
    ctx: Context,
    parent: str | None,
    rules: Sequence[TagRule] = (),
) -> list[str]:
    """Image references to look up, best first (`image` is host/repository)."""
    if not cfg.enabled:
        return []
    if cfg.from_refs is not None:
        return list(dict.fromkeys(cfg.from_refs))
    return [f"{image}:{tag}" for tag in auto_tags(ctx, parent, rules)]
