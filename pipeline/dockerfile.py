"""The base images a Dockerfile names: `FROM` lines, with build args substituted.

Pure. Only what the credential set-up needs: which registries a build pulls
from. `FROM scratch` and `FROM <earlier stage>` pull nothing; a reference
whose variables stay unresolved is left out (nothing to log in to).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_ARG_LINE = re.compile(r"^\s*ARG\s+(.+)$", re.IGNORECASE)
_FROM_LINE = re.compile(r"^\s*FROM\s+(.+)$", re.IGNORECASE)
_VAR = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


def logical_lines(text: str) -> list[str]:
    """Lines with `\\` continuations joined and comments dropped (the default escape)."""
    out: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and stripped.startswith("#"):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        out.append(current + raw)
        current = ""
    if current.strip():
        out.append(current)
    return out


def substitute(value: str, args: Mapping[str, str]) -> str | None:
    """`$X`, `${X}`, `${X:-d}`, `${X:+v}`; None when a variable has no value."""
    missing = False

    def one(match: re.Match[str]) -> str:
        nonlocal missing
        name = match[1] or match[4]
        op, word = match[2], match[3] or ""
        have = args.get(name)
        if op in (":-", "-"):
            return have if have or (op == "-" and have is not None) else word
        if op in (":+", "+"):
            return word if have or (op == "+" and have is not None) else ""
        if have is None:
            missing = True
            return ""
        return have

    result = _VAR.sub(one, value)
    return None if missing else result


def base_images(text: str, build_args: Mapping[str, str]) -> list[str]:
    """The images the `FROM` lines pull, in order, without stages and `scratch`."""
    args: dict[str, str] = {}  # global ARGs (before the first FROM), overridden by build args
    stages: set[str] = set()
    images: list[str] = []
    seen_from = False
    for line in logical_lines(text):
        arg = _ARG_LINE.match(line)
        if arg and not seen_from:
            for decl in arg[1].split():
                name, sep, default = decl.partition("=")
                value = build_args.get(name, default.strip("\"'") if sep else None)
                if value is not None:
                    args[name] = value
            continue
        match = _FROM_LINE.match(line)
        if not match:
            continue
        seen_from = True
        words = [w for w in match[1].split() if not w.startswith("--")]  # --platform=...
        if not words:
            continue
        ref = substitute(words[0], args)
        earlier = ref is not None and ref.lower() in stages  # FROM an earlier stage
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())
        if not ref or ref.lower() == "scratch" or earlier:
            continue
        images.append(ref)
    return images


def registry_host(ref: str) -> str:
    """The registry of an image reference: a first part with `.` or `:`, or localhost."""
    first, sep, _ = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return "docker.io"
