"""Pure tag and label computation: (rules, context) -> tags.

Rules are applied in the order written and the output is deduplicated in that
order; `latest` is a separate policy decided after the rules and always comes
last. Where docker/metadata-action lets the first rule decide `latest`, moves
it backwards on backports, or tags release candidates `latest`, we do not
(see docs/tags.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline import sanitize, semver, squatting, templating
from pipeline.config.schema import (
    BranchRule,
    EdgeRule,
    PrRule,
    RawRule,
    ScheduleRule,
    SemverRule,
    ShaRule,
    TagRule,
)
from pipeline.context import Context
from pipeline.errors import ContextError

LATEST = "latest"

DEFAULT_RULES: tuple[TagRule, ...] = (
    SemverRule(type="semver"),
    BranchRule(type="branch"),
    PrRule(type="pr"),
    ShaRule(type="sha"),
)

_IMMUTABLE_VARIABLES = {"sha", "sha_long", "version", "tag"}


@dataclass(frozen=True)
class Tag:
    name: str
    #: moves from commit to commit (latest, 1.2, main, pr-7); promoted only after the gate
    mutable: bool
    rule: str


@dataclass(frozen=True)
class TagSet:
    tags: tuple[Tag, ...]
    version: str | None
    semver_tag: str | None  # the git tag the semver rules read, if any
    #: tags left out and why (squatting), and rules that made nothing they could have
    warnings: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tags]

    @property
    def immutable(self) -> list[str]:
        return [t.name for t in self.tags if not t.mutable]

    @property
    def mutable(self) -> list[str]:
        return [t.name for t in self.tags if t.mutable]


# --------------------------------------------------------------------------- mutability


def _semver_pattern_mutable(pattern: str) -> bool:
    used = set(templating.names(pattern))
    if used & {"version", "raw"}:
        return False
    return not {"major", "minor", "patch"} <= used


def rule_shape(rule: TagRule) -> str | None:
    """A wildcard shape of the tags a mutable rule produces; None when immutable.

    Used to check IMMUTABLE repositories: `mutable_tags` must cover the shape.
    """
    prefix = rule.prefix or ""
    suffix = templating.shape(rule.suffix)
    prefix = templating.shape(prefix)
    body: str | None
    if isinstance(rule, SemverRule):
        if not _semver_pattern_mutable(rule.pattern):
            return None
        body = templating.shape(rule.pattern)
    elif isinstance(rule, BranchRule):
        body = "*"
    elif isinstance(rule, PrRule):
        prefix = "pr-" if rule.prefix is None else prefix
        body = "*"
    elif isinstance(rule, EdgeRule | ScheduleRule):
        body = templating.shape(rule.value)
    elif isinstance(rule, RawRule):
        if set(templating.names(rule.value)) & _IMMUTABLE_VARIABLES:
            return None
        body = templating.shape(rule.value)
    else:  # sha
        return None
    return f"{prefix}{body}{suffix}"


# --------------------------------------------------------------------------- computation


@dataclass(frozen=True)
class _Run:
    """Facts derived once from the context for one image."""

    ctx: Context
    version: semver.Version | None
    version_tag: str | None
    default_branch: str | None
    image: str
    tag_prefix: str

    @property
    def on_default_branch(self) -> bool | None:
        if self.ctx.branch is None:
            return False
        if self.default_branch is None:
            return None
        return self.ctx.branch == self.default_branch

    @property
    def git_tag(self) -> str | None:
        """The git tag this image is built for: a PR build has none, and in a
        monorepo a tag without this image's prefix belongs to another image."""
        if self.ctx.is_pr:
            return None
        if self.version_tag:
            return self.version_tag
        tag = self.ctx.tag
        if tag is None or semver.strip_prefix(tag, self.tag_prefix) is None:
            return None
        return tag

    def variables(self) -> dict[str, str | None]:
        return {
            "branch": self.ctx.branch,
            "tag": self.git_tag,
            "sha": self.ctx.short_sha,
            "sha_long": self.ctx.sha,
            "version": self.version.core if self.version else None,
            "pr": str(self.ctx.pr) if self.ctx.pr is not None else None,
            "date": self.ctx.now.astimezone(dt.timezone.utc).strftime("%Y%m%d"),
            "base_ref": self.ctx.base_ref,
            "image": self.image,
        }


def _need_default_branch(run: _Run, what: str) -> bool:
    on_default = run.on_default_branch
    if on_default is None:
        raise ContextError(
            f"{what} needs the default branch, which is not known here;"
            " set `default_branch:` in the config"
        )
    return on_default


def _affixed(rule: TagRule, value: str, default_prefix: str, run: _Run) -> str | None:
    """`value` between the rendered prefix and suffix, sanitised; None when either is empty.

    `value` is never rendered: a branch named `x-{{sha}}` is a name, not a template.
    """
    prefix = default_prefix if rule.prefix is None else rule.prefix
    variables = run.variables()
    before = templating.render(prefix, variables, now=run.ctx.now)
    after = templating.render(rule.suffix, variables, now=run.ctx.now)
    if before is None or after is None or not value:
        return None
    return sanitize.tag(f"{before}{value}{after}")


def _rendered(template: str, run: _Run) -> list[tuple[str, str]]:
    text = templating.render(template, run.variables(), now=run.ctx.now)
    return [(text, "")] if text else []


def _semver_values(rule: SemverRule, run: _Run) -> list[str]:
    version = run.version
    if version is None:
        return []
    pattern = rule.pattern
    if version.is_prerelease and templating.names(pattern) != ["raw"]:
        pattern = "{{version}}"  # never 1 or 1.2 for a release candidate
    raw = version.raw  # the tag without the monorepo prefix
    values = {
        "version": version.core,
        "major": str(version.major),
        "minor": str(version.minor),
        "patch": str(version.patch),
        "raw": raw,
    }
    rendered = templating.render(pattern, values)
    return [rendered] if rendered else []


def _rule_values(rule: TagRule, run: _Run) -> list[tuple[str, str]]:
    """(value, default prefix) pairs a rule yields on this run."""
    ctx = run.ctx
    if isinstance(rule, SemverRule):
        return [(v, "") for v in _semver_values(rule, run)]
    if isinstance(rule, EdgeRule | ScheduleRule | RawRule):
        return _rendered(rule.value, run) if _applies(rule, run) else []
    if isinstance(rule, BranchRule):
        return [(ctx.branch, "")] if ctx.branch else []
    if isinstance(rule, PrRule):
        return [(str(ctx.pr), "pr-")] if ctx.pr is not None else []
    if isinstance(rule, ShaRule):
        sha = ctx.sha if rule.format == "long" else ctx.sha[: rule.length]
        return [(sha, "sha-")]
    raise AssertionError(f"unknown rule type {rule.type}")


def _applies(rule: EdgeRule | ScheduleRule | RawRule, run: _Run) -> bool:
    ctx = run.ctx
    if isinstance(rule, EdgeRule):
        if ctx.branch is None:
            return False
        if rule.branch is not None:
            return ctx.branch == rule.branch
        return _need_default_branch(run, "the edge rule")
    if isinstance(rule, ScheduleRule):
        return ctx.event == "schedule"
    if rule.when == "branch":
        return ctx.branch is not None
    if rule.when == "default_branch":
        return _need_default_branch(run, "raw rule `when: default_branch`")
    if rule.when == "tag":
        return run.git_tag is not None
    if rule.when == "pr":
        return ctx.is_pr
    return True


def _is_mutable(rule: TagRule, run: _Run) -> bool:
    if isinstance(rule, SemverRule) and run.version is not None and run.version.is_prerelease:
        return False  # every pattern renders the full version for a prerelease
    return rule_shape(rule) is not None


def _latest(policy: str, run: _Run) -> bool:
    ctx = run.ctx
    if run.version is not None and run.version.is_prerelease:
        return False
    if policy == "never":
        return False
    if policy == "always":
        return True
    if policy == "default_branch":
        # a manual run builds the branch tip as a push does; a nightly does not move latest
        return ctx.event != "schedule" and _need_default_branch(run, "`latest: default_branch`")
    # auto: a stable release at least as high as every stable release already tagged
    if run.version is None:
        return False
    if ctx.repo_tags is None:
        why = ctx.repo_tags_note or "the repository's tags are not known here"
        raise ContextError(
            f"`latest: auto` must compare {run.version_tag} with every release tag, but {why}"
        )
    stable = [v for v, _ in semver.versions(ctx.repo_tags, run.tag_prefix) if not v.is_prerelease]
    return all(run.version >= v for v in stable)


def _dirty(rules: Sequence[TagRule], run: _Run) -> TagSet:
    """Only the sha tag, marked: uncommitted changes are not the commit's content."""
    sha_rule = next((r for r in rules if isinstance(r, ShaRule) and r.enable), ShaRule(type="sha"))
    ((value, default_prefix),) = _rule_values(sha_rule, run)
    name = _affixed(sha_rule, value, default_prefix, run) or f"sha-{run.ctx.short_sha}"
    dirty = sanitize.tag(f"{name}-dirty")  # cut after the suffix, so still <= 128
    return TagSet((Tag(dirty, mutable=False, rule="sha"),), dirty, None)


def compute(
    rules: Sequence[TagRule] | None,
    ctx: Context,
    *,
    latest: str = "auto",
    tag_prefix: str = "",
    allow_dirty: bool = False,
    default_branch: str | None = None,
    image: str = "",
) -> TagSet:
    """The tags of one image for this run."""
    rules = DEFAULT_RULES if rules is None else tuple(rules)
    found, warnings = _version(rules, ctx, tag_prefix)
    version, version_tag = (found[0], found[1]) if found else (None, None)
    run = _Run(ctx, version, version_tag, default_branch or ctx.default_branch, image, tag_prefix)

    if ctx.dirty and not allow_dirty:
        return _dirty(rules, run)

    out: dict[str, Tag] = {}
    namespaces = squatting.sha_namespaces(rules, run.variables(), ctx.now)
    for rule in rules:
        if not rule.enable:
            continue
        mutable = _is_mutable(rule, run)
        for value, default_prefix in _rule_values(rule, run):
            name = _affixed(rule, value, default_prefix, run)
            if not name or name in out:
                continue
            squat = squatting.why(name, namespaces) if squatting.named_by_others(rule) else None
            if squat:
                warnings.append(f"tag {name!r} from the {rule.type} rule is left out: {squat}")
                continue
            out[name] = Tag(name, mutable=mutable or name == LATEST, rule=rule.type)
    # `latest` always comes last, also when a raw rule asked for it; never on a prerelease.
    asked = out.pop(LATEST, None)
    if version is not None and version.is_prerelease:
        asked = None
    if _latest(latest, run) or asked:
        out[LATEST] = Tag(LATEST, mutable=True, rule=asked.rule if asked else "latest")
    tags = tuple(out.values())
    first = next((t.name for t in tags if t.name != LATEST), None)
    return TagSet(tags, version.core if version else first, version_tag, tuple(warnings))


def _version(
    rules: Sequence[TagRule], ctx: Context, tag_prefix: str
) -> tuple[tuple[semver.Version, str] | None, list[str]]:
    """The release this run builds, if any, and a warning when a tag event names none."""
    if ctx.is_pr:
        return None, []  # a PR build never gets release tags, even when its head carries one
    if not ctx.tag_event:
        return semver.highest(ctx.head_tags, tag_prefix), []
    # A tag event's ref is the version: `v2.0.0-rc.1` pushed onto a commit that also
    # carries `v2.0.0` builds the release candidate it was pushed for.
    tag = ctx.tag or ""
    found = semver.highest([tag], tag_prefix)
    wants_semver = any(isinstance(r, SemverRule) and r.enable for r in rules)
    if found or not wants_semver or semver.strip_prefix(tag, tag_prefix) is None:
        return found, []
    return None, [
        f"the tag {tag} of this run is not a SemVer version (like v1.2.3 or 1.2.3-rc.1"
        + (f" after the prefix {tag_prefix!r}" if tag_prefix else "")
        + "), so the semver rules made no tag; to tag images with it anyway, add the rule"
        ' `{type: raw, value: "{{tag}}", when: tag}`'
    ]


# --------------------------------------------------------------------------- labels

OCI = "org.opencontainers.image."


def labels(
    ctx: Context,
    *,
    title: str,
    version: str | None,
    user: Mapping[str, str],
) -> dict[str, str]:
    """The OCI annotations as image labels; the user's labels win."""
    created = (ctx.commit_time or ctx.now).astimezone(dt.timezone.utc)
    base: dict[str, str | None] = {
        OCI + "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        OCI + "revision": ctx.sha,
        OCI + "source": ctx.source_url,
        OCI + "url": ctx.source_url,
        OCI + "version": version,
        OCI + "title": title,
        OCI + "licenses": ctx.licenses,
        OCI + "description": ctx.description,
    }
    out = {k: v for k, v in base.items() if v}
    out.update(user)
    return dict(sorted(out.items()))
