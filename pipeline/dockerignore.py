"""Which build-context files a Docker build can see, decided the way the engine decides.

The reference is what this project builds with: the Docker 20.10 client and daemon
with BuildKit (Debian's docker.io). There the Dockerfile frontend reads the ignore
file and the client filters the context with moby 20.10's ``pkg/fileutils``
``PatternMatcher`` inside fsutil's walker. Its quirks are reproduced on purpose,
because a digest built on a different file set than the engine's would miss
changes (a file the engine sends but we skip) or churn needlessly:

- A pattern becomes a regular expression, not a ``filepath.Match`` glob: only
  ``*``, ``**``, ``?``, ``\\``, ``.`` and ``$`` are translated, every other
  character is regexp syntax (``a+b`` matches ``aab``, ``x|y`` is an alternation).
- A path also matches when its ancestor with as many components as the pattern
  matches (``a/*`` excludes ``a/b/c``); deeper ancestors are not tried, so with
  ``**/foo`` plus an exception inside ``a/b/foo``, ``a/b/foo/x`` is sent.
- An excluded directory is entered only when an exception pattern, as a plain
  string, starts with ``<dir>/``: ``docs`` + ``!**/keep.md`` drops ``docs/keep.md``.

Newer engines (moby/patternmatcher, BuildKit 0.10+) escape more characters, check
every ancestor and enter directories for wildcard exceptions; the integration
tests pin the behaviour of the engine installed here.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import readfile

IGNORE_FILE = ".dockerignore"
#: An ignore file is a few lines; a bigger one is a mistake (or a symlink to one).
MAX_IGNORE_FILE = 4 << 20

# Go's strings.TrimSpace trims unicode.IsSpace; Python's str.strip() would also
# trim U+001C..U+001F, which Go keeps as part of a pattern.
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_UTF8_BOM = "\ufeff"


class IgnoreFileError(ValueError):
    """An ignore file that would make the engine fail the build."""


def go_clean(path: str) -> str:
    """Go's path/filepath.Clean for "/"-separated paths.

    posixpath.normpath differs: it keeps a leading "//" and an empty input stays empty.
    """
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def read_patterns(text: str) -> list[str]:
    """The pattern lines of an ignore file, as BuildKit's dockerignore.ReadAll returns them.

    Only a line whose very first character is ``#`` is a comment (``  # x`` is a
    pattern); the rest is trimmed, cleaned, and loses one leading ``/``.
    """
    patterns = []
    for number, line in enumerate(text.split("\n")):
        if number == 0:
            line = line.removeprefix(_UTF8_BOM)
        if line.startswith("#"):
            continue
        line = line.strip(_GO_SPACE)
        if not line:
            continue
        invert = line.startswith("!")
        if invert:
            line = line[1:].strip(_GO_SPACE)
        if line:
            line = go_clean(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append("!" + line if invert else line)
    return patterns


def _check_go_glob(pattern: str) -> None:
    """Raise like filepath.Match(pattern, ".") does: the engine validates patterns with it."""

    def range_end(i: int) -> int:
        # Go's getEsc: one (possibly escaped) class character that must be followed by more.
        if i >= len(pattern) or pattern[i] in "-]":
            raise IgnoreFileError(f"syntax error in pattern {pattern!r}")
        if pattern[i] == "\\":
            i += 1
        if i + 1 >= len(pattern):
            raise IgnoreFileError(f"syntax error in pattern {pattern!r}")
        return i + 1

    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern):
                raise IgnoreFileError(f"syntax error in pattern {pattern!r}")
            i += 2
        elif char == "[":
            i += 1
            if i < len(pattern) and pattern[i] == "^":
                i += 1
            ranges = 0
            while not (ranges and i < len(pattern) and pattern[i] == "]"):
                i = range_end(i)
                if pattern[i] == "-":
                    i = range_end(i + 1)
                ranges += 1
            i += 1
        else:
            i += 1


def _to_regex(pattern: str) -> str:
    """moby 20.10 Pattern.compile: ``*`` and ``?`` stay within one component, ``**`` spans."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "*":
            if i < len(pattern) and pattern[i] == "*":
                i += 1
                if i < len(pattern) and pattern[i] == "/":
                    i += 1
                out.append(".*" if i == len(pattern) else "(.*/)?")
            else:
                out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char in ".$":
            out.append("\\" + char)
        elif char == "\\" and i < len(pattern):
            out.append("\\" + pattern[i])
            i += 1
        else:
            out.append(char)
    # Go's "$" only matches at the very end; Python's also matches before a final "\n".
    out.append(r"\Z")
    return "".join(out)


@dataclass(frozen=True)
class Pattern:
    """One cleaned ignore line: ``text`` without its ``!``, ``exception`` when it had one."""

    text: str
    exception: bool
    regex: re.Pattern[str] = field(repr=False, compare=False)
    depth: int = field(repr=False, compare=False)

    @classmethod
    def parse(cls, line: str) -> Pattern:
        line = go_clean(line.strip(_GO_SPACE))
        exception = line.startswith("!")
        if exception:
            line = line[1:]
            if not line:
                raise IgnoreFileError('illegal exclusion pattern: "!"')
        _check_go_glob(line)
        try:
            with warnings.catch_warnings():
                # Python warns about set syntax ("[[", "--") that Go reads literally.
                warnings.simplefilter("ignore", FutureWarning)
                regex = re.compile(_to_regex(line), re.ASCII)
        except re.error as err:
            raise IgnoreFileError(f"syntax error in pattern {line!r}: {err}") from err
        return cls(line, exception, regex, len(line.split("/")))

    def matches(self, path: str) -> bool:
        """moby 20.10 semantics: the path itself, or its ancestor at the pattern's depth."""
        # search, not fullmatch: Go's MatchString is unanchored, which matters for "a|b".
        if self.regex.search(path):
            return True
        parent = path.rpartition("/")[0]
        if not parent:
            return False
        parents = parent.split("/")
        if self.depth > len(parents):
            return False
        return self.regex.search("/".join(parents[: self.depth])) is not None


@dataclass(frozen=True)
class Matcher:
    """The ignore rules in force for one build; ``source`` is the file they came from."""

    patterns: tuple[Pattern, ...] = ()
    source: Path | None = None

    @classmethod
    def from_lines(cls, lines: Iterable[str], source: Path | None = None) -> Matcher:
        stripped = (line.strip(_GO_SPACE) for line in lines)
        return cls(tuple(Pattern.parse(line) for line in stripped if line), source)

    def excluded(self, path: str) -> bool:
        """Whether the context-relative posix ``path`` is ignored: the last matching line wins."""
        excluded = False
        for pattern in self.patterns:
            # A line can only flip the verdict: exclusions matter while included, and back.
            if pattern.exception == excluded and pattern.matches(path):
                excluded = not pattern.exception
        return excluded

    def may_reinclude_below(self, directory: str) -> bool:
        """Whether an excluded ``directory`` must still be walked, by the engine's prefix test."""
        prefix = directory + "/"
        return any(p.exception and (p.text + "/").startswith(prefix) for p in self.patterns)


def ignore_file_for(context_dir: Path, dockerfile: Path) -> Path | None:
    """The ignore file BuildKit uses: ``<Dockerfile>.dockerignore`` beside it, even empty, first."""
    for candidate in (
        dockerfile.with_name(dockerfile.name + IGNORE_FILE),
        context_dir / IGNORE_FILE,
    ):
        if candidate.is_file():
            return candidate
    return None


def load(context_dir: Path, dockerfile: Path) -> Matcher:
    """The rules for building ``dockerfile`` with ``context_dir`` as the context."""
    source = ignore_file_for(context_dir, dockerfile)
    if source is None:
        return Matcher()
    # Patterns are byte strings to Go; surrogateescape keeps undecodable bytes round-trippable.
    # A regular file of bounded size (readfile.UnreadableFile, a ValueError, otherwise).
    text = readfile.read_regular(source, MAX_IGNORE_FILE).decode("utf-8", "surrogateescape")
    return Matcher.from_lines(read_patterns(text), source)


def walk(context_dir: Path, matcher: Matcher, *, prune: Container[str] = ()) -> Iterator[str]:
    """Context-relative posix paths of the non-directories a ``COPY . /dst`` would receive.

    Yields regular files, symlinks (never followed) and other special files, sorted
    as full path strings. The Dockerfile and ignore file follow the rules like any
    other file, as the engine's COPY does; see ``sent`` for what the builder reads.
    Directories named in ``prune`` are left out, at any depth (the engine would
    send them: this is for callers that know they do not matter).
    """
    yield from _walk(os.fspath(context_dir), "", matcher, prune)


def _walk(root: str, prefix: str, matcher: Matcher, prune: Container[str]) -> Iterator[str]:
    with os.scandir(os.path.join(root, prefix) if prefix else root) as entries:
        names = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
    # Sorting a directory as "name/" yields its subtree exactly where a sort of
    # full paths would put it ("a.txt" < "a/b"), so the whole stream is sorted.
    names.sort(key=lambda item: item[0] + "/" if item[1] else item[0])
    for name, is_dir in names:
        path = prefix + name
        if not is_dir:
            if not matcher.excluded(path):
                yield path
        elif name in prune:
            continue
        elif not matcher.excluded(path) or matcher.may_reinclude_below(path):
            yield from _walk(root, path + "/", matcher, prune)


def sent(context_dir: Path, dockerfile: Path, matcher: Matcher) -> list[str]:
    """Everything the builder reads from ``context_dir``: ``walk`` plus the Dockerfile and
    the ignore file when they live there, which BuildKit reads even if they are ignored."""
    paths = set(walk(context_dir, matcher))
    root = Path(os.path.abspath(context_dir))
    for extra in (dockerfile, matcher.source):
        # Compared lexically, not through symlinks: the client names them by the given paths.
        absolute = Path(os.path.abspath(extra)) if extra is not None else None
        if absolute is not None and absolute.is_relative_to(root):
            paths.add(absolute.relative_to(root).as_posix())
    return sorted(paths)
