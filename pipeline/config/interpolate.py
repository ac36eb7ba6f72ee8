"""`${VAR}` and `${VAR:-default}` in config strings; `$$` is a literal `$`."""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(r"\$\$|\$\{([^}:]*)(?::-([^}]*))?\}|\$\{")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class InterpolationError(ValueError):
    pass


def interpolate(text: str, env: Mapping[str, str]) -> str:
    if "$" not in text:
        return text

    def sub(match: re.Match[str]) -> str:
        piece = match.group(0)
        if piece == "$$":
            return "$"
        if piece == "${":
            raise InterpolationError("unclosed ${ ... }: write ${VAR} or ${VAR:-default}")
        name, default = match.group(1), match.group(2)
        if not _NAME.match(name):
            raise InterpolationError(f"invalid variable name {name!r} in ${{{name}}}")
        value = env.get(name)
        if value:
            return value
        if default is not None:
            return default
        if value is None:
            raise InterpolationError(
                f"environment variable {name} is not set (give a default: ${{{name}:-value}})"
            )
        return value

    return _TOKEN.sub(sub, text)
