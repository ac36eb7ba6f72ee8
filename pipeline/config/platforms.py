"""Build platforms, `os/arch[/variant]` as BuildKit names them (linux/arm64)."""

from __future__ import annotations

from pipeline.config.suggest import closest

OS_NAMES = frozenset(
    {"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux"}
    | {"netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows"}
)
ARCH_NAMES = frozenset(
    {"386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle", "mips64", "mips64le"}
    | {"ppc64", "ppc64le", "riscv64", "s390x", "wasm"}
)
# Only these architectures have variants whose names are settled.
VARIANTS = {
    "arm": ("v5", "v6", "v7", "v8"),
    "arm64": ("v8", *(f"v8.{n}" for n in range(1, 10)), "v9", *(f"v9.{n}" for n in range(1, 6))),
    "amd64": ("v1", "v2", "v3", "v4"),
}
# Names from `uname -m`, Debian and Go's neighbours that users write instead.
ARCH_ALIASES = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "x64": "amd64",
    "aarch64": "arm64",
    "armv8": "arm64",
    "armhf": "arm/v7",
    "armv7": "arm/v7",
    "armv7l": "arm/v7",
    "armel": "arm/v6",
    "armv6": "arm/v6",
    "armv6l": "arm/v6",
    "i386": "386",
    "i686": "386",
    "x86": "386",
    "ppc64el": "ppc64le",
}
OS_ALIASES = {"macos": "darwin", "osx": "darwin", "win": "windows"}


def check_platform(value: str) -> str:
    problem = _problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _problem(value: str) -> str | None:
    if value != value.lower():
        also = _problem(value.lower())
        return "platforms are lower case" + (
            f"; {also}" if also else f" (did you mean {value.lower()!r}?)"
        )
    parts = value.split("/")
    if len(parts) == 1:
        return _lone_word(value)
    if len(parts) > 3 or "" in parts:
        return "expected os/arch[/variant], like linux/amd64 or linux/arm/v7"
    os_name, arch, variant = parts[0], parts[1], (parts[2] if len(parts) == 3 else None)
    if os_name not in OS_NAMES:
        fixed = closest(os_name, OS_NAMES, OS_ALIASES)
        rest = "/".join(parts[1:])
        hint = f" (did you mean {fixed + '/' + rest!r}?)" if fixed else ""
        return f"unknown OS {os_name!r}" + (hint or f"; known: {', '.join(sorted(OS_NAMES))}")
    if arch not in ARCH_NAMES:
        fixed = closest(arch, ARCH_NAMES, ARCH_ALIASES)
        if fixed and variant and "/" not in fixed:
            fixed += "/" + variant
        hint = f" (did you mean {os_name + '/' + fixed!r}?)" if fixed else ""
        return f"unknown architecture {arch!r}" + (
            hint or f"; known: {', '.join(sorted(ARCH_NAMES))}"
        )
    known = VARIANTS.get(arch)
    if variant is not None and known is not None and variant not in known:
        return f"unknown {arch} variant {variant!r}; known: {', '.join(known)}"
    return None


def _lone_word(word: str) -> str:
    if word in OS_NAMES or word in OS_ALIASES:
        os_name = OS_ALIASES.get(word, word)
        return f"missing the architecture: write os/arch, like {os_name + '/amd64'!r}"
    arch = closest(word, ARCH_NAMES, ARCH_ALIASES) if word not in ARCH_NAMES else word
    if arch:
        return f"missing the OS: write os/arch, like {'linux/' + arch!r}"
    return "expected os/arch[/variant], like linux/amd64"
