"""No tag squatting: names chosen by others never take a tag another rule owns.

Whoever pushes a branch or opens a pull request chooses its name. A tag made
from that name (the `branch`, `pr` and `edge` rules, and `raw` or `schedule`
values that render `{{branch}}` or `{{base_ref}}`) must never be `latest`
(the `latest:` policy owns it), a full SemVer version (the semver rule, that
is, a release tag in git, owns those) or a commit's tag (the sha rule's
namespace). Such a tag is dropped with a warning saying why. A literal `raw`
value is the config author's own choice and is never judged here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from pipeline import semver, templating
from pipeline.config.schema import (
    BranchRule,
    EdgeRule,
    PrRule,
    RawRule,
    ScheduleRule,
    ShaRule,
    TagRule,
)

LATEST = "latest"

#: Placeholders whose value someone other than the config's author chose.
_FOREIGN_VARIABLES = {"branch", "base_ref"}


def named_by_others(rule: TagRule) -> bool:
    """Whether the rule's tags carry a name chosen by whoever pushed a branch or opened a PR."""
    if isinstance(rule, BranchRule | PrRule | EdgeRule):
        return True
    if isinstance(rule, RawRule | ScheduleRule):
        return bool(set(templating.names(rule.value)) & _FOREIGN_VARIABLES)
    return False


def sha_namespaces(
    rules: Sequence[TagRule], variables: Mapping[str, str | None], now: dt.datetime
) -> list[tuple[str, str]]:
    """(prefix, suffix) of the sha tags: `sha-` always, and each sha rule's own."""
    out = [("sha-", "")]
    for rule in rules:
        if isinstance(rule, ShaRule) and rule.enable:
            prefix = "sha-" if rule.prefix is None else rule.prefix
            rendered = templating.render(prefix, variables, now=now)
            suffix = templating.render(rule.suffix, variables, now=now)
            if rendered is not None and suffix is not None:
                out.append((rendered, suffix))
    return out


def why(name: str, namespaces: list[tuple[str, str]]) -> str | None:
    """Why a tag named by others may not be used, or None when it may."""
    if name == LATEST:
        return "`latest` is set by the `latest:` policy alone, never by a branch or PR name"
    if semver.parse(name) is not None:
        return (
            "it reads as a release version, which only the semver rule (a release tag in git)"
            " may set"
        )
    for prefix, suffix in namespaces:
        if prefix and name.startswith(prefix):
            return f"the {prefix}... tags name commits, and only the sha rule sets them"
        if not prefix and re.fullmatch(r"[0-9a-f]{7,64}" + re.escape(suffix), name):
            return "it reads as a commit id, which only the sha rule sets"
    return None
