"""Tag rules and OCI labels: pure cases on a hand-built Context.

The end-to-end cases (real repositories, `pipeline tags --json`) live in
test_tags_cli.py.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from pydantic import TypeAdapter

from pipeline import tags
from pipeline.config.schema import TagRule
from pipeline.context import Context
from pipeline.errors import ContextError

pytestmark = pytest.mark.usefixtures("clean_environment")

SHA = "860c190aa1f3e4b5c6d7e8f90a1b2c3d4e5f6a7b"
PR_SHA = "feedface00112233445566778899aabbccddeeff"
NOW = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
COMMITTED = dt.datetime(2023, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
LONG_BRANCH = "feature/" + "x" * 192  # 200 characters

_RULES: TypeAdapter[TagRule] = TypeAdapter(TagRule)

SEMVER_3 = [
    {"type": "semver", "pattern": "{{version}}"},
    {"type": "semver", "pattern": "{{major}}.{{minor}}"},
    {"type": "semver", "pattern": "{{major}}"},
    {"type": "sha"},
]


def ctx(**kw: Any) -> Context:
    """A push to main of SHA unless told otherwise."""
    base: dict[str, Any] = {
        "provider": "github",
        "event": "push",
        "sha": SHA,
        "ref": "refs/heads/main",
        "branch": "main",
        "default_branch": "main",
        "repo_tags": (),
        "now": NOW,
    }
    base.update(kw)
    return Context(**base)


def tag_push(tag: str, *, repo_tags: tuple[str, ...] | None = None, **kw: Any) -> Context:
    return ctx(
        ref=f"refs/tags/{tag}",
        branch=None,
        tag=tag,
        tag_event=True,
        head_tags=(tag,),
        repo_tags=(tag,) if repo_tags is None else repo_tags,
        **kw,
    )


def pr_build(number: int = 7, **kw: Any) -> Context:
    return ctx(
        event="pull_request",
        sha=PR_SHA,
        ref=f"refs/pull/{number}/head",
        branch=None,
        pr=number,
        base_ref="main",
        **kw,
    )


MAIN = ctx()
FEATURE = ctx(ref="refs/heads/feature/Foo_bar#12", branch="feature/Foo_bar#12")
SCHEDULE = ctx(event="schedule")
DISPATCH = ctx(event="workflow_dispatch", branch="release", ref="refs/heads/release")
PR = pr_build()
NO_DEFAULT = ctx(default_branch=None)


@dataclass(frozen=True)
class Case:
    id: str
    context: Context
    rules: list[dict[str, Any]] | None
    tags: list[str] | None = None  # expected, in order
    version: str | None = None
    latest: str = "auto"
    tag_prefix: str = ""
    allow_dirty: bool = False
    default_branch: str | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


S7 = "sha-860c190"
CASES = [
    # ----------------------------------------------------------------- semver
    Case(
        "stable release: version, minor, major, sha, latest last",
        tag_push("v1.2.3", repo_tags=("v1.0.0", "v1.2.3")),
        SEMVER_3,
        ["1.2.3", "1.2", "1", S7, "latest"],
        "1.2.3",
    ),
    Case(
        "prerelease: only the full version, never major/minor or latest",
        tag_push("v2.0.0-rc.1", repo_tags=("v1.0.0", "v2.0.0-rc.1")),
        SEMVER_3,
        ["2.0.0-rc.1", S7],
        "2.0.0-rc.1",
    ),
    Case(
        "prerelease: {{raw}} is kept as written",
        tag_push("v2.0.0-beta.1"),
        [{"type": "semver", "pattern": "{{raw}}"}, {"type": "semver", "pattern": "{{ raw }}"}],
        ["v2.0.0-beta.1"],
        "2.0.0-beta.1",
    ),
    Case(
        "prerelease: a mixed pattern renders the version",
        tag_push("v2.0.0-beta.1"),
        [{"type": "semver", "pattern": "v{{major}}"}],
        ["2.0.0-beta.1"],
        "2.0.0-beta.1",
    ),
    Case(
        "build metadata: dropped from {{version}}, kept (sanitised) in {{raw}}",
        tag_push("v1.2.3+build.7"),
        [{"type": "semver"}, {"type": "semver", "pattern": "{{raw}}"}],
        ["1.2.3", "v1.2.3-build.7", "latest"],
        "1.2.3",
    ),
    Case(
        "prerelease with build metadata in {{raw}}",
        tag_push("v1.2.3-rc.1+build.5"),
        [{"type": "semver", "pattern": "{{raw}}"}],
        ["v1.2.3-rc.1-build.5"],
        "1.2.3-rc.1",
    ),
    Case(
        "a tag without the v",
        tag_push("3.4.5"),
        [{"type": "semver", "pattern": "{{major}}.{{minor}}.{{patch}}"}],
        ["3.4.5", "latest"],
        "3.4.5",
    ),
    Case(
        "major zero still yields {{major}} (as metadata-action does)",
        tag_push("v0.4.1"),
        [{"type": "semver", "pattern": "{{major}}"}],
        ["0", "latest"],
        "0.4.1",
    ),
    Case(
        "a tag that is not strict SemVer yields no semver tag and no latest",
        tag_push("v1.2"),
        SEMVER_3,
        [S7],
        S7,
    ),
    Case(
        "semver prefix and suffix",
        tag_push("v1.2.3"),
        [{"type": "semver", "prefix": "v", "suffix": "-alpine"}],
        ["v1.2.3-alpine", "latest"],
        "1.2.3",
    ),
    Case(
        "several tags on HEAD: the stable release beats its rc",
        ctx(head_tags=("v1.2.0-rc.1", "v1.2.0"), tag="v1.2.0-rc.1", repo_tags=("v1.2.0",)),
        SEMVER_3,
        ["1.2.0", "1.2", "1", S7, "latest"],
        "1.2.0",
    ),
    Case(
        "several tags on HEAD: precedence, not text order",
        ctx(head_tags=("v1.10.0", "v1.9.0", "v1.10.0-rc.1"), repo_tags=("v1.10.0", "v1.9.0")),
        [{"type": "semver"}],
        ["1.10.0", "latest"],
        "1.10.0",
    ),
    Case(
        "a branch run whose commit is tagged gets the release tags too",
        ctx(head_tags=("v1.2.3",), tag="v1.2.3", repo_tags=("v1.2.3",)),
        [{"type": "semver"}, {"type": "branch"}],
        ["1.2.3", "main", "latest"],
        "1.2.3",
    ),
    Case(
        "a tag event's ref is the version: the rc pushed onto a released commit",
        replace(
            tag_push("v2.0.0-rc.1", repo_tags=("v2.0.0", "v2.0.0-rc.1")),
            head_tags=("v2.0.0", "v2.0.0-rc.1"),
        ),
        SEMVER_3,
        ["2.0.0-rc.1", S7],
        "2.0.0-rc.1",
    ),
    Case(
        "a tag event's ref is the version: the release pushed onto its rc's commit",
        replace(tag_push("v2.0.0"), head_tags=("v2.0.0", "v2.0.0-rc.1"), repo_tags=("v2.0.0",)),
        SEMVER_3,
        ["2.0.0", "2.0", "2", S7, "latest"],
        "2.0.0",
    ),
    Case(
        "a tag event for a non-SemVer tag: no release tags, even with a release on the commit",
        replace(tag_push("release-2024"), head_tags=("release-2024", "v1.0.0")),
        SEMVER_3,
        [S7],
        S7,
    ),
    Case(
        "no tag event: the highest release on the commit",
        ctx(head_tags=("v2.0.0", "v2.0.0-rc.1"), tag="v2.0.0", repo_tags=("v2.0.0",)),
        [{"type": "semver"}],
        ["2.0.0", "latest"],
        "2.0.0",
    ),
    Case(
        "a PR build never gets release tags, even from a tagged head",
        pr_build(head_tags=("v9.0.0",), tag="v9.0.0", repo_tags=("v9.0.0",)),
        [{"type": "semver"}, {"type": "pr"}, {"type": "raw", "value": "rel", "when": "tag"}],
        ["pr-7"],
        "pr-7",
    ),
    # ----------------------------------------------------------------- latest policy
    Case(
        "latest auto: a backport does not move latest",
        tag_push("v1.1.9", repo_tags=("v1.1.8", "v1.1.9", "v2.0.0")),
        SEMVER_3,
        ["1.1.9", "1.1", "1", S7],
        "1.1.9",
    ),
    Case(
        "latest auto: a newer release candidate does not hold latest back",
        tag_push("v1.5.0", repo_tags=("v1.5.0", "v2.0.0-rc.1")),
        [{"type": "semver"}],
        ["1.5.0", "latest"],
        "1.5.0",
    ),
    Case(
        "latest auto: build metadata does not change precedence",
        tag_push("v1.2.3+b", repo_tags=("v1.2.3+a", "v1.2.3+b")),
        [{"type": "semver"}],
        ["1.2.3", "latest"],
        "1.2.3",
    ),
    Case(
        "latest auto: nothing on a branch push",
        MAIN,
        [{"type": "branch"}],
        ["main"],
        "main",
    ),
    Case(
        "latest auto without the release tags: an error that says why and how to fetch",
        replace(
            tag_push("v1.2.3", shallow=True),
            repo_tags=None,
            repo_tags_note="this clone is shallow and lacks v1.0.0; fetch-depth: 0",
        ),
        [{"type": "semver"}],
        error="compare v1.2.3 with every release tag, but this clone is shallow and lacks v1.0.0",
    ),
    Case(
        "latest auto on a shallow clone without a release: no history needed",
        ctx(shallow=True, repo_tags=None),
        [{"type": "branch"}],
        ["main"],
        "main",
    ),
    Case(
        "latest never",
        tag_push("v1.2.3"),
        [{"type": "semver"}],
        ["1.2.3"],
        "1.2.3",
        latest="never",
    ),
    Case(
        "latest always: any run",
        FEATURE,
        [{"type": "sha"}],
        [S7, "latest"],
        S7,
        latest="always",
    ),
    Case(
        "latest always: still never a prerelease",
        tag_push("v2.0.0-rc.1"),
        [{"type": "semver"}],
        ["2.0.0-rc.1"],
        "2.0.0-rc.1",
        latest="always",
    ),
    Case(
        "latest default_branch: a push to the default branch",
        MAIN,
        [{"type": "sha"}],
        [S7, "latest"],
        S7,
        latest="default_branch",
    ),
    Case(
        "latest default_branch: a manual run on the default branch",
        ctx(event="workflow_dispatch"),
        [{"type": "sha"}],
        [S7, "latest"],
        S7,
        latest="default_branch",
    ),
    Case(
        "latest default_branch: not another branch",
        FEATURE,
        [{"type": "sha"}],
        [S7],
        S7,
        latest="default_branch",
    ),
    Case(
        "latest default_branch: not a nightly",
        SCHEDULE,
        [{"type": "sha"}],
        [S7],
        S7,
        latest="default_branch",
    ),
    Case(
        "latest default_branch: not a PR",
        PR,
        [{"type": "pr"}],
        ["pr-7"],
        "pr-7",
        latest="default_branch",
    ),
    Case(
        "latest default_branch with the default branch unknown: an error naming the key",
        NO_DEFAULT,
        [{"type": "sha"}],
        error="default_branch:",
        latest="default_branch",
    ),
    Case(
        "latest default_branch: the config's default branch wins",
        NO_DEFAULT,
        [{"type": "sha"}],
        [S7, "latest"],
        S7,
        latest="default_branch",
        default_branch="main",
    ),
    Case(
        "a raw latest goes last, and latest never does not remove what the user asked for",
        MAIN,
        [{"type": "raw", "value": "latest"}, {"type": "branch"}],
        ["main", "latest"],
        "main",
        latest="never",
    ),
    Case(
        "a raw latest never lands on a prerelease",
        tag_push("v2.0.0-rc.1"),
        [{"type": "semver"}, {"type": "raw", "value": "latest"}],
        ["2.0.0-rc.1"],
        "2.0.0-rc.1",
    ),
    # ----------------------------------------------------------------- tag_prefix (monorepo)
    Case(
        "tag_prefix: the prefixed tag applies; latest compares with that prefix only",
        tag_push("backend/v1.2.3", repo_tags=("backend/v1.2.3", "frontend/v9.0.0", "v5.0.0")),
        [*SEMVER_3, {"type": "raw", "value": "{{tag}}"}],
        ["1.2.3", "1.2", "1", S7, "backend-v1.2.3", "latest"],
        "1.2.3",
        tag_prefix="backend/",
    ),
    Case(
        "tag_prefix: a tag without the prefix does not apply",
        tag_push("v1.2.3"),
        [{"type": "semver"}, {"type": "sha"}, {"type": "raw", "value": "rel", "when": "tag"}],
        [S7],
        S7,
        tag_prefix="backend/",
    ),
    Case(
        "tag_prefix: another image's tag does not apply",
        tag_push("frontend/v2.0.0"),
        [{"type": "semver"}, {"type": "sha"}],
        [S7],
        S7,
        tag_prefix="backend/",
    ),
    Case(
        "tag_prefix: a backport within the prefix does not move latest",
        tag_push("backend/v1.0.1", repo_tags=("backend/v1.0.1", "backend/v2.0.0")),
        [{"type": "semver"}],
        ["1.0.1"],
        "1.0.1",
        tag_prefix="backend/",
    ),
    Case(
        "tag_prefix: several images' tags on one commit",
        ctx(
            head_tags=("backend/v1.2.0", "frontend/v3.0.0", "v9.9.9"),
            repo_tags=("backend/v1.2.0", "frontend/v3.0.0", "v9.9.9"),
        ),
        [{"type": "semver"}],
        ["1.2.0", "latest"],
        "1.2.0",
        tag_prefix="backend/",
    ),
    # ----------------------------------------------------------------- branch
    Case("branch: sanitised", FEATURE, [{"type": "branch"}], ["feature-Foo_bar-12"]),
    Case("branch: not on a PR build", PR, [{"type": "branch"}], []),
    Case("branch: not on a tag push", tag_push("v1.2.3"), [{"type": "branch"}], ["latest"]),
    Case("branch: on a nightly", SCHEDULE, [{"type": "branch"}], ["main"]),
    Case("branch: on a manual run", DISPATCH, [{"type": "branch"}], ["release"]),
    Case(
        "branch: prefix and suffix may use variables",
        MAIN,
        [{"type": "branch", "prefix": "br-", "suffix": "-{{sha}}"}],
        ["br-main-860c190"],
    ),
    Case(
        "branch: a name is never rendered as a template",
        ctx(branch="x-{{sha}}", ref="refs/heads/x-{{sha}}"),
        [{"type": "branch"}],
        ["x--sha-"],
    ),
    Case(
        "branch: a suffix using a variable with no value here drops the tag",
        MAIN,
        [{"type": "branch", "suffix": "-pr{{pr}}"}, {"type": "sha"}],
        [S7],
        S7,
    ),
    Case(
        "branch: 200 characters are cut to 128 ending in - and a hash",
        ctx(branch=LONG_BRANCH, ref=f"refs/heads/{LONG_BRANCH}"),
        [{"type": "branch"}],
        extra={"pattern": r"^feature-x{113}-[0-9a-f]{6}$"},
    ),
    # ----------------------------------------------------------------- pr
    Case("pr: pr-N", PR, [{"type": "pr"}, {"type": "sha"}], ["pr-7", "sha-feedfac"], "pr-7"),
    Case("pr: empty prefix", PR, [{"type": "pr", "prefix": ""}], ["7"]),
    Case("pr: suffix", PR, [{"type": "pr", "suffix": "-{{base_ref}}"}], ["pr-7-main"]),
    Case("pr: not on a push", MAIN, [{"type": "pr"}], []),
    # ----------------------------------------------------------------- sha
    Case("sha: default", MAIN, [{"type": "sha"}], [S7]),
    Case("sha: length", MAIN, [{"type": "sha", "length": 12}], ["sha-860c190aa1f3"]),
    Case("sha: long format", MAIN, [{"type": "sha", "format": "long"}], [f"sha-{SHA}"]),
    Case("sha: no prefix", MAIN, [{"type": "sha", "prefix": ""}], ["860c190"]),
    Case("sha: own prefix", MAIN, [{"type": "sha", "prefix": "git-"}], ["git-860c190"]),
    Case("sha: PR head commit", PR, [{"type": "sha"}], ["sha-feedfac"]),
    # ----------------------------------------------------------------- edge
    Case("edge: on the default branch", MAIN, [{"type": "edge"}], ["edge"]),
    Case("edge: not on another branch", FEATURE, [{"type": "edge"}], []),
    Case("edge: not on a tag push", tag_push("v1.2.3"), [{"type": "edge"}], ["latest"]),
    Case("edge: not on a PR", PR, [{"type": "edge"}], []),
    Case(
        "edge: a named branch and value",
        DISPATCH,
        [{"type": "edge", "branch": "release", "value": "next"}],
        ["next"],
    ),
    Case(
        "edge: default branch unknown is an error",
        NO_DEFAULT,
        [{"type": "edge"}],
        error="set `default_branch:`",
    ),
    # ----------------------------------------------------------------- schedule
    Case("schedule: nightly", SCHEDULE, [{"type": "schedule"}], ["nightly"]),
    Case(
        "schedule: value with {{date}}",
        SCHEDULE,
        [{"type": "schedule", "value": "nightly-{{date}}"}],
        ["nightly-20240102"],
    ),
    Case(
        "schedule: metadata-action's {{date 'FORMAT'}}, in UTC",
        SCHEDULE,
        [{"type": "schedule", "value": "nightly-{{date 'YYYYMMDD'}}"}],
        ["nightly-20240102"],
    ),
    Case(
        "{{date 'FORMAT'}} with every token and separators",
        ctx(now=NOW.astimezone(dt.timezone(dt.timedelta(hours=-8)))),
        [{"type": "raw", "value": '{{ date "YYYY.MM.DD-HH_mm_ss" }}'}],
        ["2024.01.02-03_04_05"],
    ),
    Case(
        "{{date 'FORMAT'}} in a prefix",
        MAIN,
        [{"type": "branch", "prefix": "{{date 'YYYYMM'}}-"}],
        ["202401-main"],
    ),
    Case("schedule: not on a push", MAIN, [{"type": "schedule"}], []),
    # ----------------------------------------------------------------- raw
    Case("raw: always", PR, [{"type": "raw", "value": "ci"}], ["ci"]),
    Case(
        "raw: when branch",
        tag_push("v1.2.3"),
        [{"type": "raw", "value": "b", "when": "branch"}],
        ["latest"],
    ),
    Case(
        "raw: when tag",
        tag_push("v1.2.3"),
        [{"type": "raw", "value": "stable", "when": "tag"}],
        ["stable", "latest"],
        "1.2.3",
    ),
    Case(
        "raw: when tag, on a non-semver tag",
        tag_push("nightly-build"),
        [{"type": "raw", "value": "{{tag}}", "when": "tag"}],
        ["nightly-build"],
    ),
    Case("raw: when tag, on a branch", MAIN, [{"type": "raw", "value": "t", "when": "tag"}], []),
    Case("raw: when pr", PR, [{"type": "raw", "value": "review", "when": "pr"}], ["review"]),
    Case(
        "raw: when default_branch",
        FEATURE,
        [{"type": "raw", "value": "stable", "when": "default_branch"}],
        [],
    ),
    Case(
        "raw: templated value",
        MAIN,
        [{"type": "raw", "value": "{{branch}}-{{sha}}-{{date}}"}],
        ["main-860c190-20240102"],
    ),
    Case(
        "raw: a variable with no value here drops the tag",
        MAIN,
        [{"type": "raw", "value": "pr-{{pr}}"}, {"type": "raw", "value": "x"}],
        ["x"],
    ),
    Case("raw: sanitised", MAIN, [{"type": "raw", "value": "a b/c"}], ["a-b-c"]),
    Case(
        "raw: an invalid first character", MAIN, [{"type": "raw", "value": ".hidden"}], ["_hidden"]
    ),
    # ----------------------------------------------------------------- order, dedupe, enable
    Case(
        "rule order is kept and duplicates dropped",
        MAIN,
        [{"type": "sha"}, {"type": "branch"}, {"type": "raw", "value": "main"}, {"type": "sha"}],
        [S7, "main"],
        S7,
    ),
    Case(
        "a disabled rule yields nothing",
        MAIN,
        [{"type": "branch", "enable": False}, {"type": "sha"}],
        [S7],
    ),
    Case(
        "default rules (semver, branch, pr, sha) on a tag push",
        tag_push("v1.2.3"),
        None,
        ["1.2.3", S7, "latest"],
        "1.2.3",
    ),
    Case(
        "default rules on a branch push",
        FEATURE,
        None,
        ["feature-Foo_bar-12", S7],
        "feature-Foo_bar-12",
    ),
    Case("default rules on a PR", PR, None, ["pr-7", "sha-feedfac"], "pr-7"),
    # ----------------------------------------------------------------- dirty
    Case(
        "dirty: only the sha tag, marked",
        tag_push("v1.2.3", dirty=True),
        [*SEMVER_3, {"type": "branch"}],
        [f"{S7}-dirty"],
        f"{S7}-dirty",
    ),
    Case(
        "dirty: the configured sha rule's shape",
        ctx(dirty=True),
        [{"type": "branch"}, {"type": "sha", "length": 10, "prefix": "git-"}],
        ["git-860c190aa1-dirty"],
    ),
    Case(
        "dirty: latest always does not apply either",
        ctx(dirty=True),
        [{"type": "branch"}],
        [f"{S7}-dirty"],
        latest="always",
    ),
    Case(
        "dirty with allow_dirty: the usual tags",
        tag_push("v1.2.3", dirty=True),
        [{"type": "semver"}, {"type": "sha"}],
        ["1.2.3", S7, "latest"],
        "1.2.3",
        allow_dirty=True,
    ),
]


def _compute(case: Case) -> tags.TagSet:
    rules = None if case.rules is None else [_RULES.validate_python(r) for r in case.rules]
    return tags.compute(
        rules,
        case.context,
        latest=case.latest,
        tag_prefix=case.tag_prefix,
        allow_dirty=case.allow_dirty,
        default_branch=case.default_branch,
        image="backend",
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_tags(case: Case) -> None:
    if case.error is not None:
        with pytest.raises(ContextError, match=re.escape(case.error)):
            _compute(case)
        return
    got = _compute(case)
    if "pattern" in case.extra:
        (name,) = got.names
        assert re.fullmatch(case.extra["pattern"], name), name
        assert len(name) == 128
        return
    assert got.names == case.tags
    if case.version is not None:
        assert got.version == case.version
    for name in got.names:
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", name), name


@pytest.mark.parametrize(
    ("tag", "prefix", "warned"),
    [
        ("release-2024", "", True),
        ("V2.0.0", "", True),
        ("v1.2", "", True),
        ("backend/2024", "backend/", True),
        ("frontend/v1.0.0", "backend/", False),  # another image's release: not ours to judge
        ("v1.2.3", "", False),
    ],
)
def test_a_tag_event_that_is_not_semver_warns_with_the_fix(
    tag: str, prefix: str, warned: bool
) -> None:
    rules = [_RULES.validate_python(r) for r in SEMVER_3]
    got = tags.compute(rules, tag_push(tag), tag_prefix=prefix)
    if not warned:
        assert got.warnings == ()
        return
    (warning,) = got.warnings
    assert f"the tag {tag} of this run is not a SemVer version" in warning
    assert '`{type: raw, value: "{{tag}}", when: tag}`' in warning


def test_no_warning_for_a_non_semver_tag_without_semver_rules() -> None:
    rules = [_RULES.validate_python({"type": "sha"})]
    assert tags.compute(rules, tag_push("release-2024")).warnings == ()


# --------------------------------------------------------------------------- squatting

BRANCH = {"type": "branch"}
SQUAT_RULES = [*SEMVER_3[:1], BRANCH, {"type": "pr"}, {"type": "sha"}]


def on_branch(name: str) -> Context:
    return ctx(ref=f"refs/heads/{name}", branch=name)


@dataclass(frozen=True)
class Squat:
    id: str
    context: Context
    rules: list[dict[str, Any]]
    tags: list[str]
    dropped: list[str]  # tags left out, each with a warning
    latest: str = "never"


SQUATS = [
    Squat("a branch named latest", on_branch("latest"), SQUAT_RULES, [S7], ["latest"]),
    Squat(
        "a branch named latest with latest: auto on a branch push",
        on_branch("latest"),
        SQUAT_RULES,
        [S7],
        ["latest"],
        latest="auto",
    ),
    Squat("a branch named 1.2.3", on_branch("1.2.3"), SQUAT_RULES, [S7], ["1.2.3"]),
    Squat("a branch named v1.2.3", on_branch("v1.2.3"), SQUAT_RULES, [S7], ["v1.2.3"]),
    Squat(
        "a branch named v1.2.3-rc.1", on_branch("v1.2.3-rc.1"), SQUAT_RULES, [S7], ["v1.2.3-rc.1"]
    ),
    Squat(
        "a branch whose sanitised name is a version",
        on_branch("v1.2.3+build"),
        SQUAT_RULES,
        [S7],
        ["v1.2.3-build"],
    ),
    Squat(
        "a branch in the sha- namespace",
        on_branch("sha-860c190"),
        SQUAT_RULES,
        [S7],
        ["sha-860c190"],
    ),
    Squat("another commit's sha tag", on_branch("sha-deadbee"), SQUAT_RULES, [S7], ["sha-deadbee"]),
    Squat(
        "a custom sha prefix is a namespace too",
        on_branch("git-abc1234"),
        [BRANCH, {"type": "sha", "prefix": "git-"}],
        ["git-860c190"],
        ["git-abc1234"],
    ),
    Squat(
        "an empty sha prefix makes hex names commit ids",
        on_branch("abcdef12"),
        [BRANCH, {"type": "sha", "prefix": ""}],
        ["860c190"],
        ["abcdef12"],
    ),
    Squat(
        "an edge rule is named by whoever names the branch",
        replace(on_branch("1.2.3"), default_branch="1.2.3"),
        [{"type": "edge", "value": "{{branch}}"}, {"type": "sha"}],
        [S7],
        ["1.2.3"],
    ),
    Squat(
        "a raw rule rendering a branch name is checked",
        on_branch("1.0.0"),
        [{"type": "raw", "value": "{{branch}}"}, {"type": "sha"}],
        [S7],
        ["1.0.0"],
    ),
    Squat(
        "a pr rule with an empty prefix and a version-like suffix",
        pr_build(3),
        [{"type": "pr", "prefix": "", "suffix": ".0.0"}, {"type": "sha"}],
        ["sha-feedfac"],
        ["3.0.0"],
    ),
    # what stays allowed
    Squat("dates stay allowed", on_branch("20240101"), SQUAT_RULES, ["20240101", S7], []),
    Squat("build numbers stay allowed", on_branch("1234"), SQUAT_RULES, ["1234", S7], []),
    Squat("two-part versions stay allowed", on_branch("1.2"), SQUAT_RULES, ["1.2", S7], []),
    Squat(
        "a prefixed branch is not a version",
        on_branch("release/1.2.3"),
        SQUAT_RULES,
        ["release-1.2.3", S7],
        [],
    ),
    Squat(
        "a branch rule with a prefix is not squatting",
        on_branch("latest"),
        [{"type": "branch", "prefix": "br-"}, {"type": "sha"}],
        ["br-latest", S7],
        [],
    ),
    Squat(
        "an explicit raw latest is the user's own choice",
        MAIN,
        [{"type": "raw", "value": "latest"}, {"type": "sha"}],
        [S7, "latest"],
        [],
    ),
    Squat(
        "an explicit raw version is the user's own choice",
        MAIN,
        [{"type": "raw", "value": "1.0.0"}, {"type": "sha"}],
        ["1.0.0", S7],
        [],
    ),
    Squat(
        "the semver rule owns versions",
        tag_push("v1.2.3"),
        [{"type": "semver"}, {"type": "sha"}],
        ["1.2.3", S7],
        [],
    ),
]


@pytest.mark.parametrize("case", SQUATS, ids=lambda c: c.id)
def test_squatting(case: Squat) -> None:
    rules = [_RULES.validate_python(r) for r in case.rules]
    got = tags.compute(rules, case.context, latest=case.latest)
    assert got.names == case.tags
    assert len(got.warnings) == len(case.dropped)
    for name, warning in zip(case.dropped, got.warnings, strict=True):
        assert warning.startswith(f"tag {name!r} from the ")
        assert "is left out: " in warning


@pytest.mark.parametrize(
    ("branch", "reason"),
    [
        ("latest", "`latest` is set by the `latest:` policy alone"),
        ("1.2.3", "reads as a release version"),
        ("sha-abcdef0", "the sha-... tags name commits"),
    ],
)
def test_squatting_warnings_say_why(branch: str, reason: str) -> None:
    got = tags.compute([_RULES.validate_python(BRANCH)], on_branch(branch), latest="never")
    assert got.names == []
    assert reason in got.warnings[0]


@pytest.mark.parametrize(
    ("context", "immutable", "mutable"),
    [
        (tag_push("v1.2.3"), ["1.2.3", S7], ["1.2", "1", "latest"]),
        (tag_push("v2.0.0-rc.1"), ["2.0.0-rc.1", S7], []),
        (MAIN, [S7], ["main"]),
    ],
    ids=["release", "prerelease", "branch"],
)
def test_mutability(context: Context, immutable: list[str], mutable: list[str]) -> None:
    rules = [_RULES.validate_python(r) for r in [*SEMVER_3, {"type": "branch"}]]
    got = tags.compute(rules, context)
    assert (got.immutable, got.mutable) == (immutable, mutable)


def test_two_long_branches_that_differ_only_at_the_end_stay_apart() -> None:
    rules = [_RULES.validate_python({"type": "branch"})]
    names = [
        tags.compute(rules, ctx(branch=LONG_BRANCH + end, ref="refs/heads/x")).names[0]
        for end in ("-a", "-b")
    ]
    assert names[0] != names[1]
    assert names[0][:121] == names[1][:121]


# --------------------------------------------------------------------------- labels

OCI = "org.opencontainers.image."
FULL = ctx(
    commit_time=COMMITTED,
    source_url="https://github.com/acme/app",
    description="The app",
    licenses="Apache-2.0",
)


@pytest.mark.parametrize(
    ("context", "user", "expected"),
    [
        (
            FULL,
            {},
            {
                OCI + "created": "2023-12-31T23:59:59Z",
                OCI + "description": "The app",
                OCI + "licenses": "Apache-2.0",
                OCI + "revision": SHA,
                OCI + "source": "https://github.com/acme/app",
                OCI + "title": "backend",
                OCI + "url": "https://github.com/acme/app",
                OCI + "version": "1.2.3",
            },
        ),
        (
            replace(FULL, commit_time=None, source_url=None, description=None, licenses=None),
            {},
            {
                OCI + "created": "2024-01-02T03:04:05Z",
                OCI + "revision": SHA,
                OCI + "title": "backend",
                OCI + "version": "1.2.3",
            },
        ),
        (
            FULL,
            {OCI + "title": "Backend API", OCI + "licenses": "MIT", "team": "payments"},
            {
                OCI + "created": "2023-12-31T23:59:59Z",
                OCI + "description": "The app",
                OCI + "licenses": "MIT",
                OCI + "revision": SHA,
                OCI + "source": "https://github.com/acme/app",
                OCI + "title": "Backend API",
                OCI + "url": "https://github.com/acme/app",
                OCI + "version": "1.2.3",
                "team": "payments",
            },
        ),
    ],
    ids=["all eight", "only what is known", "user labels win"],
)
def test_labels(context: Context, user: dict[str, str], expected: dict[str, str]) -> None:
    got = tags.labels(context, title="backend", version="1.2.3", user=user)
    assert got == expected
    assert list(got) == sorted(got)


def test_created_is_utc_whatever_the_commit_timezone() -> None:
    east = dt.timezone(dt.timedelta(hours=9))
    got = tags.labels(
        replace(FULL, commit_time=COMMITTED.astimezone(east)), title="t", version=None, user={}
    )
    assert got[OCI + "created"] == "2023-12-31T23:59:59Z"
    assert OCI + "version" not in got
