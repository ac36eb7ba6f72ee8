"""The .dockerignore cases, shared by the unit tests and the check against a real engine.

Each case is a build context: ``files`` are regular files (``"link -> target"``
makes a symlink), ``Dockerfile`` is always added at the top, and ``expected``
is every path a ``COPY . /dst`` receives from it, files and symlinks. The
integration tests build each context with BuildKit, so every expectation here,
quirks included, is what Docker 20.10 really does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DOCKERFILE = "Dockerfile"
IGNORE = ".dockerignore"
BOTH = (DOCKERFILE, IGNORE)


@dataclass(frozen=True)
class Case:
    id: str
    ignore: str | None
    files: tuple[str, ...]
    expected: frozenset[str]
    #: Content of Dockerfile.dockerignore beside the Dockerfile, when there is one.
    dockerfile_ignore: str | None = None


def case(
    id: str,
    ignore: str | None,
    files: tuple[str, ...],
    expected: tuple[str, ...],
    dockerfile_ignore: str | None = None,
) -> Case:
    return Case(id, ignore, files, frozenset(expected), dockerfile_ignore)


def make_context(root: Path, c: Case, dockerfile: str = "FROM scratch\n") -> None:
    """Lays out ``c`` under ``root``; every file holds its own path, so contents differ."""
    for entry in c.files:
        name, arrow, target = entry.partition(" -> ")
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if arrow:
            path.symlink_to(target)
        else:
            path.write_text(name)
    (root / DOCKERFILE).write_text(dockerfile)
    if c.ignore is not None:
        (root / IGNORE).write_text(c.ignore)
    if c.dockerfile_ignore is not None:
        (root / (DOCKERFILE + IGNORE)).write_text(c.dockerfile_ignore)


#: Lines that make the engine fail the build (filepath.Match or regexp syntax errors).
REJECTED = ["!", "[", "[]", "[]a]", "[]]]", "[a", "[a-]", "[-a]", "a\\", "[\\", "a(b", "x[z-a"]
#: Lines that look odd but are accepted.
ACCEPTED = ["[\\]]", "[a-c]", "[^a]", "[!a]", "\\*", "a{2}", "[[]", "!a", "x|y"]

CASES = [
    case("no ignore file", None, ("a", "sub/b"), (DOCKERFILE, "a", "sub/b")),
    case(
        "plain name matches that path only",
        "secret.txt\n",
        ("secret.txt", "secret.txt.bak", "sub/secret.txt"),
        (*BOTH, "secret.txt.bak", "sub/secret.txt"),
    ),
    case(
        "*.md is top level only",
        "*.md\n",
        ("a.md", "sub/b.md", "sub/deep/c.md", "x.txt"),
        (*BOTH, "sub/b.md", "sub/deep/c.md", "x.txt"),
    ),
    case(
        "**/*.md is any depth",
        "**/*.md\n",
        ("a.md", "sub/b.md", "sub/deep/c.md", "x.txt"),
        (*BOTH, "x.txt"),
    ),
    case(
        "* does not cross /",
        "*/*.md\n",
        ("a.md", "sub/b.md", "sub/deep/c.md"),
        (*BOTH, "a.md", "sub/deep/c.md"),
    ),
    case(
        "** in the middle spans zero or more directories",
        "a/**/b\n",
        ("a/b", "a/x/b", "a/x/y/b", "a/y/c", "ab"),
        (*BOTH, "a/y/c", "ab"),
    ),
    case(
        "trailing ** takes everything below",
        "build/**\n",
        ("build/a", "build/b/c", "buildx"),
        (*BOTH, "buildx"),
    ),
    case(
        "a directory takes everything below it",
        "docs\n",
        ("docs/a", "docs/sub/b", "docsx", "x/docs/c"),
        (*BOTH, "docsx", "x/docs/c"),
    ),
    case(
        "trailing slash is cleaned away",
        "docs/\n",
        ("docs/a", "docsx", "x/docs/c"),
        (*BOTH, "docsx", "x/docs/c"),
    ),
    case(
        "! re-includes inside an excluded directory",
        "docs\n!docs/keep.md\n",
        ("docs/keep.md", "docs/other.md", "docs/sub/keep.md", "keep.md"),
        (*BOTH, "docs/keep.md", "keep.md"),
    ),
    case(
        "a wildcard exception with the directory as prefix is honoured",
        "docs\n!docs/*.md\n",
        ("docs/keep.md", "docs/a.txt", "docs/sub/keep.md"),
        (*BOTH, "docs/keep.md"),
    ),
    case(
        "an exception not starting with the directory does not reopen it",
        "docs\n!**/keep.md\n",
        ("docs/keep.md", "docs/other.md", "x/keep.md"),
        (*BOTH, "x/keep.md"),
    ),
    case(
        "an ancestor is tried at the pattern's depth only",
        "a/*\n",
        ("a/b", "a/c/d", "a/c/e/f", "b/a/c"),
        (*BOTH, "b/a/c"),
    ),
    case(
        "**/dir inside a reopened directory only matches at its own depth",
        "**/foo\n!a/b/foo/keep\n",
        ("a/b/foo/keep", "a/b/foo/other", "foo/x", "foox"),
        (*BOTH, "a/b/foo/keep", "a/b/foo/other", "foox"),
    ),
    case(
        "exclude everything but one directory",
        "*\n!src\n",
        ("src/a.py", "src/b/c.py", "README"),
        ("src/a.py", "src/b/c.py"),
    ),
    case(
        "last matching line wins",
        "*.txt\n!important.txt\n",
        ("a.txt", "important.txt", "b.log"),
        (*BOTH, "important.txt", "b.log"),
    ),
    case(
        "an exception before the exclusion is overridden",
        "!important.txt\n*.txt\n",
        ("a.txt", "important.txt", "b.log"),
        (*BOTH, "b.log"),
    ),
    case(
        "excluded again after an exception",
        "*.txt\n!important.txt\nimportant.txt\n",
        ("a.txt", "important.txt", "b.log"),
        (*BOTH, "b.log"),
    ),
    case(
        "leading / and ./ and .. are cleaned",
        "/a\n./b\n/c/../d\n",
        ("a", "b", "d", "c/d", "x/a"),
        (*BOTH, "c/d", "x/a"),
    ),
    case(
        "comments, blank lines, surrounding space, CRLF",
        "# comment\n\n   \n#a\n  a  \r\nb\r\n",
        ("a", "#a", "b", "c"),
        (*BOTH, "#a", "c"),
    ),
    case(
        "only a # in the first column starts a comment",
        "  # x\n",
        ("# x", "y"),
        (*BOTH, "y"),
    ),
    case(
        "a UTF-8 byte order mark is dropped",
        "\ufeffa.txt\n",
        ("a.txt", "b.txt"),
        (*BOTH, "b.txt"),
    ),
    case(
        "space after ! is trimmed",
        "*.txt\n!  keep.txt\n",
        ("keep.txt", "drop.txt"),
        (*BOTH, "keep.txt"),
    ),
    case(
        "character classes and ?",
        "[a-c].txt\n?.log\n",
        ("a.txt", "b.txt", "d.txt", "x.log", "xy.log", "sub/a.txt"),
        (*BOTH, "d.txt", "xy.log", "sub/a.txt"),
    ),
    case(
        "negated class",
        "[^a].txt\n",
        ("a.txt", "b.txt", "ab.txt"),
        (*BOTH, "a.txt", "ab.txt"),
    ),
    case(
        "? is one character, not one byte",
        "caf?.txt\n",
        ("café.txt", "cafe.txt", "caff.md"),
        (*BOTH, "caff.md"),
    ),
    case(
        "backslash escapes a wildcard",
        "\\*\n\\?x\nfile\\[1\\]\n",
        ("*", "a", "?x", "bx", "file[1]", "file1"),
        (*BOTH, "a", "bx", "file1"),
    ),
    case(
        "a dot is literal",
        "a.b\n",
        ("a.b", "axb"),
        (*BOTH, "axb"),
    ),
    case(
        "other characters are regular expression syntax",
        "a+b.txt\nx|y\n",
        ("a+b.txt", "aab.txt", "xa", "ay", "b"),
        (*BOTH, "a+b.txt", "b"),
    ),
    case(
        "hidden files",
        ".*\n",
        (".hidden", ".git/config", "x/.y", "a"),
        (DOCKERFILE, "x/.y", "a"),
    ),
    case(
        "the Dockerfile and .dockerignore can be ignored from COPY",
        "Dockerfile\n.dockerignore\n",
        ("a",),
        ("a",),
    ),
    case(
        "Dockerfile.dockerignore takes precedence",
        "a\n",
        ("a", "b", "c"),
        (*BOTH, "Dockerfile.dockerignore", "a", "c"),
        dockerfile_ignore="b\n",
    ),
    case(
        "an empty Dockerfile.dockerignore still takes precedence",
        "a\n",
        ("a", "b"),
        (*BOTH, "Dockerfile.dockerignore", "a", "b"),
        dockerfile_ignore="",
    ),
    case(
        "symlinks are entries of their own, never followed",
        "sub\ngone\n",
        (
            "target.txt",
            "link -> target.txt",
            "dirlink -> sub",
            "dangling -> nowhere",
            "gone -> x",
            "sub/x",
        ),
        (*BOTH, "target.txt", "link", "dirlink", "dangling"),
    ),
]
