"""`{{name}}` placeholders used in tag values, prefixes, suffixes and messages.

Deliberately tiny: no expressions, no filters. The one form with an argument is
docker/metadata-action's `{{date 'FORMAT'}}` (YYYY MM DD HH mm ss, in UTC), so
that its users can bring their tag rules along. Anything else between `{{` and
`}}`, and an unclosed `{{`, is a configuration error (checked when the config
loads), with a hint for GitHub Actions expressions, which are never expanded in
this file. A known name with no value in this run (say `{{pr}}` on a branch
push) renders the whole string empty, and an empty tag is dropped rather than
pushed as a surprise.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from pipeline.config.suggest import closest

_OPEN, _CLOSE = "{{", "}}"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATE = re.compile(r"""date\s+(?:'([^']*)'|"([^"]*)")(.*)""", re.DOTALL)
_DATE_TOKENS = {"YYYY": "%Y", "MM": "%m", "DD": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
_DATE_PIECE = re.compile(r"YYYY|MM|DD|HH|mm|ss|[0-9_.-]+")

#: Names available in tag rule values, prefixes and suffixes.
TAG_VARIABLES = frozenset(
    {"branch", "tag", "sha", "sha_long", "version", "pr", "date", "base_ref", "image"}
)
#: Extra names available in a semver rule's pattern.
SEMVER_VARIABLES = frozenset({"version", "major", "minor", "patch", "raw"})
#: Names available in a GitOps commit message.
MESSAGE_VARIABLES = frozenset({"image", "tag", "digest", "version", "sha", "repository"})


class TemplateError(ValueError):
    """A placeholder that is not one: the message says which and what to write."""


@dataclass(frozen=True)
class Placeholder:
    start: int
    end: int
    name: str
    #: `{{date 'FORMAT'}}`: the strftime form of FORMAT
    date_format: str | None = None


def _date_format(inner: str, text: str) -> str:
    """metadata-action's moment.js format, limited to what a tag can hold, as strftime."""
    match = _DATE.fullmatch(inner)
    assert match is not None
    fmt = match.group(1) if match.group(1) is not None else match.group(2)
    rest = match.group(3).strip()
    if rest:
        hint = "; the date is always UTC" if rest.startswith("tz") else ""
        raise TemplateError(f"{{{{{inner}}}}}: unexpected {rest!r} after the format{hint}")
    out, position = [], 0
    for piece in _DATE_PIECE.finditer(fmt):
        if piece.start() != position:
            break
        out.append(_DATE_TOKENS.get(piece.group(0), piece.group(0)))
        position = piece.end()
    if position != len(fmt) or not fmt:
        bad = fmt[position : position + 1] or "an empty format"
        raise TemplateError(
            f"{{{{{inner}}}}}: {bad!r} is not supported in a date format;"
            " use YYYY, MM, DD, HH, mm and ss (UTC), with - _ . or digits between them"
        )
    return "".join(out)


def _placeholder(text: str, start: int, end: int) -> Placeholder:
    inner = text[start + 2 : end - 2].strip()
    if _NAME.fullmatch(inner):
        return Placeholder(start, end, inner)
    if _DATE.fullmatch(inner):
        return Placeholder(start, end, "date", _date_format(inner, text))
    written = text[start:end]
    if re.match(r"(github|env|secrets|vars|inputs|steps|needs|matrix|runner)\b", inner):
        raise TemplateError(
            f"{written} is a GitHub Actions expression, which is never expanded in this file:"
            " set a variable in the workflow step (env: {MY_VALUE: ${{ ... }}}) and write"
            " ${MY_VALUE} here"
        )
    raise TemplateError(
        f"{written} is not a placeholder: write {{{{name}}}} or {{{{date 'YYYYMMDD'}}}}"
    )


def parse(text: str) -> Iterator[Placeholder]:
    """Every placeholder in `text`, in order; TemplateError at the first bad one."""
    position = 0
    while (start := text.find(_OPEN, position)) >= 0:
        close = text.find(_CLOSE, start + 2)
        if close < 0:
            tail = text[start : start + 20]
            raise TemplateError(f"unclosed placeholder {tail!r}: a {{{{ needs its }}}}")
        reopened = text.find(_OPEN, start + 2, close)
        if reopened >= 0:
            raise TemplateError(
                f"unclosed placeholder {text[start:reopened]!r}: a {{{{ needs its }}}}"
            )
        yield _placeholder(text, start, close + 2)
        position = close + 2


def names(text: str) -> list[str]:
    """Every placeholder name used in `text`, in order (nothing when `text` is malformed)."""
    try:
        return [p.name for p in parse(text)]
    except TemplateError:
        return []


def check(text: str, allowed: Iterable[str]) -> str:
    """`text` if every placeholder in it is well formed and allowed; else TemplateError."""
    allowed_set = frozenset(allowed)
    for placeholder in parse(text):
        if placeholder.name in allowed_set:
            if placeholder.date_format is not None and placeholder.name != "date":
                raise TemplateError(f"{{{{{placeholder.name}}}}} takes no format")
            continue
        guess = closest(placeholder.name, allowed_set)
        hint = (
            f" (did you mean {{{{{guess}}}}}?)"
            if guess
            else "; known: " + ", ".join("{{" + n + "}}" for n in sorted(allowed_set))
        )
        raise TemplateError(f"unknown placeholder {{{{{placeholder.name}}}}}{hint}")
    return text


def shape(text: str) -> str:
    """`text` with every placeholder replaced by `*` (a wildcard of what it renders)."""
    out, position = [], 0
    for placeholder in parse(text):
        out.append(text[position : placeholder.start] + "*")
        position = placeholder.end
    return "".join(out) + text[position:]


def render(
    text: str, values: Mapping[str, str | None], *, now: dt.datetime | None = None
) -> str | None:
    """Substitute placeholders; None when any placeholder has no value here.

    `{{date 'FORMAT'}}` renders `now` in UTC.
    """
    out, position = [], 0
    for placeholder in parse(text):
        if placeholder.date_format is not None:
            if now is None:
                return None
            value: str | None = now.astimezone(dt.timezone.utc).strftime(placeholder.date_format)
        else:
            value = values.get(placeholder.name)
        if not value:
            return None
        out.append(text[position : placeholder.start] + value)
        position = placeholder.end
    return "".join(out) + text[position:]
