"""Rules that relate several parts of the config, checked on the raw data.

They run on the loaded YAML rather than on validated models so that a file
with a typo *and* a dangling `depends_on` reports both at once. Every check
tolerates malformed shapes (the schema reports those) and yields
(path, message) pairs.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from pipeline import lifecycle, readfile
from pipeline.config import paths
from pipeline.config.schema import SemverRule, TagRule
from pipeline.config.suggest import did_you_mean
from pipeline.config.types import ECR_COMPONENT_PATTERN, OCI_REPOSITORY_PATTERN, parse_duration
from pipeline.ecs.names import short_name
from pipeline.scan import config_check as scan_config

Path = tuple[str | int, ...]
Problem = tuple[Path, str]

_TYPE_ONLY_KEYS = {
    "account": ("ecr",),
    "region": ("ecr",),
    "endpoint": ("ecr",),
    "alias": ("ecr-public",),
    "url": ("generic",),
    "username_env": ("generic",),
    "password_env": ("generic",),
    "create_repositories": ("ecr",),
}
# Spelling out a default is harmless on any registry type.
_HARMLESS = {("endpoint", "standard"), ("create_repositories", False)}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def run_all(data: Any, folder: FsPath | None = None) -> list[Problem]:
    """Every cross-field problem; `folder` (the config's directory) resolves file references."""
    if not isinstance(data, dict):
        return []  # the schema reports the shape of the file
    root = data
    problems: list[Problem] = []
    checks = (_registry, _images, _dependencies, _deploy, _thresholds, _ignores, _mutability)
    for check in checks:
        problems.extend(check(root))
    problems.extend(scan_config.problems(root))  # scanning needs a registry with a scan API
    if folder is not None:
        problems.extend(paths.problems(root, folder))
    problems.extend(_lifecycle(root, folder))
    return problems


def _lifecycle(root: dict[str, Any], folder: FsPath | None) -> Iterator[Problem]:
    """ECR accepts a policy only at PutLifecyclePolicy time; check it before any run."""
    repo = _dict(_dict(root.get("registry")).get("repository"))
    policy = repo.get("lifecycle_policy")
    where: Path = ("registry", "repository", "lifecycle_policy")
    if isinstance(policy, dict):
        found = lifecycle.problems(policy)
    elif isinstance(policy, str) and folder is not None:
        path, problem = paths.located(paths.repository_root(folder), folder, policy)
        if path is None:
            yield where, str(problem)
            return
        try:
            text = lifecycle.read(path)
        except FileNotFoundError:
            yield (
                where,
                f"cannot read the lifecycle policy file {paths.plain(policy)}: no such file",
            )
            return
        except readfile.UnreadableFile as err:
            yield where, f"cannot read the lifecycle policy file {paths.plain(policy)}: {err}"
            return
        _, found = lifecycle.parse(text)
        found = [f"{paths.plain(policy)}: {p}" for p in found]
    else:
        return
    for problem in found:
        yield where, f"lifecycle policy: {problem}"


def _registry(root: dict[str, Any]) -> Iterator[Problem]:
    reg = root.get("registry", {})
    if not isinstance(reg, dict):
        return
    kind = str(reg.get("type", "ecr")).lower()
    if kind not in ("ecr", "ecr-public", "generic"):
        return
    for key, kinds in _TYPE_ONLY_KEYS.items():
        if key in reg and kind not in kinds and (key, reg[key]) not in _HARMLESS:
            yield ("registry", key), f"not used by registry type {kind} (only {', '.join(kinds)})"
    if kind == "ecr" and "account" not in reg:
        yield ("registry", "account"), 'required for type ecr: 12 digits, quoted ("123456789012")'
    if kind == "ecr-public" and not reg.get("alias"):
        yield ("registry", "alias"), "required for type ecr-public (public.ecr.aws/<alias>)"
    if kind == "generic":
        if not reg.get("url"):
            yield ("registry", "url"), "required for type generic: host[:port][/namespace]"
        pair = ("username_env", "password_env")
        for have, lack in (pair, pair[::-1]):
            if reg.get(have) and not reg.get(lack):
                yield ("registry", have), f"needs {lack} too (or drop it)"
    repo = _dict(reg.get("repository"))
    mutability = str(repo.get("tag_mutability", "MUTABLE")).upper()
    filters = repo.get("mutable_tags")
    if filters and mutability == "MUTABLE":
        yield (
            ("registry", "repository", "mutable_tags"),
            "applies only with tag_mutability: IMMUTABLE",
        )
    if isinstance(filters, list):
        if len(filters) > 5:
            yield ("registry", "repository", "mutable_tags"), "ECR allows at most 5 filters"
        for i, item in enumerate(filters):
            if not isinstance(item, str) or not re.fullmatch(r"[0-9a-zA-Z._*-]{1,128}", item):
                yield (
                    ("registry", "repository", "mutable_tags", i),
                    "a filter is 1-128 of letters, digits, . _ - and * wildcards",
                )
    enc = _dict(repo.get("encryption"))
    if enc.get("kms_key") and str(enc.get("type", "AES256")).upper() != "KMS":
        yield ("registry", "repository", "encryption", "kms_key"), "needs type: KMS"


def _images(root: dict[str, Any]) -> Iterator[Problem]:
    kind = str(_dict(root.get("registry")).get("type", "ecr")).lower()
    first: dict[str, int] = {}
    for i, image in enumerate(_list(root.get("images"))):
        image = _dict(image)
        name = image.get("name")
        if isinstance(name, str):
            if name in first:
                yield (
                    ("images", i, "name"),
                    f"duplicate image name {name!r} (also images[{first[name]}])",
                )
            else:
                first[name] = i
        repo = image.get("repository", name)
        problem = _repository_problem(repo, kind) if isinstance(repo, str) else None
        if problem:
            yield ("images", i, "repository" if "repository" in image else "name"), problem
        secret_ids: set[str] = set()
        for j, secret in enumerate(_list(image.get("secrets"))):
            if not isinstance(secret, dict):
                continue
            if ("src" in secret) == ("env" in secret):
                yield ("images", i, "secrets", j), "give exactly one of `src` (a file) or `env`"
            sid = secret.get("id")
            if isinstance(sid, str):
                if sid in secret_ids:
                    yield ("images", i, "secrets", j, "id"), f"duplicate secret id {sid!r}"
                secret_ids.add(sid)
        platforms = [p for p in _list(image.get("platforms")) if isinstance(p, str)]
        for j, platform in enumerate(platforms):
            if platforms.index(platform) != j:
                yield ("images", i, "platforms", j), f"{platform} is listed twice"


def _repository_problem(repo: str, kind: str) -> str | None:
    if kind == "generic":
        if len(repo) > 255 or not re.fullmatch(OCI_REPOSITORY_PATTERN, repo):
            return (
                f"invalid repository name {repo!r}: lower-case letters, digits and"
                " separators . _ - between them, components joined by /"
            )
        return None
    if not 2 <= len(repo) <= 256:
        return f"an ECR repository name is 2 to 256 characters, this one has {len(repo)}"
    if repo != repo.lower():
        fixed = repo.lower()
        hint = f" (did you mean {fixed!r}?)" if not _repository_problem(fixed, kind) else ""
        return "ECR repository names are lower case" + hint
    bad = sorted(set(re.sub(r"[a-z0-9._/-]", "", repo)))
    if bad:
        return f"{''.join(bad)!r} not allowed in an ECR repository name (only a-z 0-9 . _ - /)"
    for part in repo.split("/"):
        if not part:
            return "empty path component: no leading, trailing or double /"
        if not re.fullmatch(ECR_COMPONENT_PATTERN, part):
            return (
                f"{part!r}: each part between / starts and ends with a letter or digit,"
                " with single . _ - between them"
            )
    return None


def _image_names(root: dict[str, Any]) -> list[str]:
    return [
        n for n in (_dict(i).get("name") for i in _list(root.get("images"))) if isinstance(n, str)
    ]


def _dependencies(root: dict[str, Any]) -> Iterator[Problem]:
    names = _image_names(root)
    graph: dict[str, list[str]] = {}
    where: dict[str, int] = {}
    for i, image in enumerate(_list(root.get("images"))):
        image = _dict(image)
        name = image.get("name")
        deps = _list(image.get("depends_on"))
        for j, dep in enumerate(deps):
            if not isinstance(dep, str):
                continue
            if dep == name:
                yield ("images", i, "depends_on", j), "an image cannot depend on itself"
            elif dep not in names:
                yield (
                    ("images", i, "depends_on", j),
                    f"no image named {dep!r}" + did_you_mean(dep, names),
                )
        if isinstance(name, str) and name not in graph:
            graph[name] = [d for d in deps if isinstance(d, str) and d in names and d != name]
            where[name] = i
    cycle = _find_cycle(graph)
    if cycle:
        # point at the edge that closes the loop: the dependency to remove
        last, first = cycle[-2], cycle[-1]
        deps = _list(_dict(_list(root.get("images"))[where[last]]).get("depends_on"))
        yield (
            ("images", where[last], "depends_on", deps.index(first)),
            "dependency cycle: " + " -> ".join(cycle),
        )


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _deploy(root: dict[str, Any]) -> Iterator[Problem]:
    names = _image_names(root)
    seen: dict[tuple[str, ...], int] = {}
    services: dict[tuple[str, ...], list[int]] = {}
    for i, target in enumerate(_list(root.get("deploy"))):
        target = _dict(target)
        image = target.get("image")
        if isinstance(image, str) and image not in names:
            yield ("deploy", i, "image"), f"no image named {image!r}" + did_you_mean(image, names)
        kind = target.get("type")
        if kind == "eks" and ("cluster" in target) == ("context" in target):
            yield (
                ("deploy", i, "cluster" if "cluster" in target else "type"),
                "give exactly one of `cluster` (an EKS cluster) or `context` (a kubeconfig"
                " context)",
            )
        ident = {
            "ecs": ("cluster", "service"),
            "eks": ("cluster", "context", "namespace", "deployment"),
            # several images may be written into one file (a kustomization listing them)
            "manifest": ("image", "repo", "branch", "files"),
        }.get(str(kind), ())
        # ECS takes a cluster or service by name or by ARN: both name one service
        name = short_name if kind == "ecs" else str
        key = (str(kind), *(name(str(target.get(k))) for k in ident))
        if kind == "ecs":
            # several images of one service deploy together, each entry naming one
            key = (*key, str(image))
            yield from _shared_service(root, i, target, services.setdefault(key[:-1], []))
        if ident and key in seen:
            yield ("deploy", i), f"the same target as deploy[{seen[key]}]"
        seen.setdefault(key, i)


#: what the ECS entries of one service share: one rollout has one wait, one rollback, ...
_SHARED = ("wait", "rollback", "codedeploy", "region")
_DEFAULTS: dict[str, Any] = {"wait": 900.0, "rollback": True, "codedeploy": None, "region": None}


def _shared_service(
    root: dict[str, Any], i: int, target: dict[str, Any], before: list[int]
) -> Iterator[Problem]:
    """ECS entries naming one service must agree on what their one rollout shares."""
    entries = _list(root.get("deploy"))
    mine = _container_names(target)
    for j in before:
        other = _dict(entries[j])
        if other.get("image") == target.get("image"):
            continue  # the same target, reported as such
        for key in _SHARED:
            a, b = _setting(other, key), _setting(target, key)
            if a != b:
                yield (
                    ("deploy", i, key),
                    f"deploy[{j}] and deploy[{i}] deploy to one ECS service together, so their"
                    f" `{key}` must agree ({_show(other, key)} vs {_show(target, key)})",
                )
        both = sorted(mine & _container_names(other))
        if both:
            yield (
                ("deploy", i, "containers"),
                f"container {', '.join(both)} is named by deploy[{j}] too: one container runs"
                " one image",
            )
    before.append(i)


def _setting(target: dict[str, Any], key: str) -> Any:
    value = target.get(key, _DEFAULTS[key])
    if key == "wait" and isinstance(value, str | int | float):
        try:
            return parse_duration(value)
        except (TypeError, ValueError):
            return value
    return value


def _show(target: dict[str, Any], key: str) -> str:
    return repr(target[key]) if key in target else "the default"


def _container_names(target: dict[str, Any]) -> set[str]:
    return {
        n.strip() for c in _list(target.get("containers")) for n in str(c).split(",") if n.strip()
    }


def _thresholds(root: dict[str, Any]) -> Iterator[Problem]:
    # severities are read case-insensitively, so `high` and `HIGH` are one key
    seen: dict[str, str] = {}
    for key in _dict(_dict(root.get("scan")).get("thresholds")):
        first = seen.setdefault(str(key).upper(), key)
        if first != key:
            yield ("scan", "thresholds", key), f"the same severity as {first!r}"


def _ignores(root: dict[str, Any]) -> Iterator[Problem]:
    names = _image_names(root)
    for i, entry in enumerate(_list(_dict(root.get("scan")).get("ignore"))):
        for j, image in enumerate(_list(_dict(entry).get("images"))):
            if isinstance(image, str) and image not in names and not any(c in image for c in "*?["):
                yield (
                    ("scan", "ignore", i, "images", j),
                    f"no image named {image!r}" + did_you_mean(image, names),
                )


# --------------------------------------------------------------------------- immutability


def _covered(shape: str, filters: list[str]) -> bool:
    # A filter covers a shape when it matches the shape with the shape's `*`
    # taken literally: the filter's own `*` can absorb it, literal text cannot.
    return any(
        fnmatch.fnmatchcase(shape, f.replace("[", "[[]").replace("?", "[?]")) for f in filters
    )


def _parse_rule(raw: Any) -> TagRule | None:
    from pydantic import TypeAdapter

    try:
        rule: TagRule = TypeAdapter(TagRule).validate_python(raw)
    except ValidationError:
        return None
    return rule


def _mutability(root: dict[str, Any]) -> Iterator[Problem]:
    from pipeline.tags import DEFAULT_RULES, rule_shape

    repo = _dict(_dict(root.get("registry")).get("repository"))
    if str(repo.get("tag_mutability", "MUTABLE")).upper() != "IMMUTABLE":
        return
    filters = [f for f in _list(repo.get("mutable_tags")) if isinstance(f, str)]
    where = "registry.repository.mutable_tags"
    latest = root.get("latest", "auto")
    latest = latest.lower() if isinstance(latest, str) else latest
    if latest in ("auto", "always", "default_branch") and not _covered("latest", filters):
        path: Path = (
            ("latest",) if "latest" in root else ("registry", "repository", "tag_mutability")
        )
        yield (
            path,
            f"`latest: {latest}` moves the latest tag, but the repository is IMMUTABLE;"
            f" add latest to {where}, or set latest: never",
        )
    rule_sets: list[tuple[Path, Any]] = [(("tags",), root.get("tags"))]
    rule_sets += [
        (("images", i, "tags"), _dict(image).get("tags"))
        for i, image in enumerate(_list(root.get("images")))
    ]
    # the built-in rules apply only to images that set no `tags:` of their own
    images = _list(root.get("images"))
    defaults_used = not images or any(_dict(image).get("tags") is None for image in images)
    for path, rules in rule_sets:
        if rules is None:
            if path == ("tags",) and defaults_used:
                for rule in DEFAULT_RULES:
                    shape = rule_shape(rule)
                    if shape and not _covered(shape, filters):
                        yield (
                            ("registry", "repository", "tag_mutability"),
                            f"the default tag rules include `{rule.type}`, whose tags move"
                            " between commits; an IMMUTABLE repository needs explicit"
                            f" `tags:` rules (or mutable_tags covering {shape!r})",
                        )
                        break
            continue
        for i, raw in enumerate(_list(rules)):
            parsed = _parse_rule(raw)
            shape = rule_shape(parsed) if parsed else None
            if parsed is None or shape is None or _covered(shape, filters):
                continue
            what = f"pattern {parsed.pattern!r}" if isinstance(parsed, SemverRule) else parsed.type
            yield (
                (*path, i, "type"),
                f"{what} tags ({shape!r}) move between commits, but the repository is"
                f" IMMUTABLE; add a filter matching them to {where}, or drop the rule",
            )
