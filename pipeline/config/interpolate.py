"""`${VAR}` and `${VAR:-default}` in config strings; `$$` is a literal `$`.

As in the shell, `:-` also replaces a variable that is set but empty. No
nesting and no other operators: a config stays readable as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(r"\$\$|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FORMS = "write ${VAR} or ${VAR:-default}"


class InterpolationError(ValueError):
    pass


def interpolate(text: str, env: Mapping[str, str]) -> str:
    if "$" not in text:
        return text

    def sub(match: re.Match[str]) -> str:
        piece = match.group(0)
        if piece == "$$":
            return "$"
        body = match.group(1)
        if body is None:
            raise InterpolationError(f"unclosed ${{ ... }}: {_FORMS}")
        name, has_default, default = body.partition(":-")
        if name.startswith("{"):
            raise InterpolationError(
                "${{ ... }} is a GitHub Actions expression, which is never expanded in this"
                " file: set a variable in the workflow step (env: {MY_VALUE: ${{ ... }}}) and"
                " write ${MY_VALUE} here"
            )
        if not _NAME.match(name):
            raise InterpolationError(f"invalid variable name {name!r} in {piece}: {_FORMS}")
        if "${" in default:
            raise InterpolationError("a default cannot contain ${...}; nesting is not supported")
        value = env.get(name)
        if value:
            return value
        if has_default:
            return default
        if value is None:
            raise InterpolationError(
                f"environment variable {name} is not set (give a default: ${{{name}:-value}})"
            )
        return value

    return _TOKEN.sub(sub, text)


def variables(text: str) -> list[str]:
    """The names of the variables `text` refers to, in order."""
    out = []
    for match in _TOKEN.finditer(text):
        body = match.group(1)
        if body:
            name = body.partition(":-")[0]
            if _NAME.match(name) and name not in out:
                out.append(name)
    return out
