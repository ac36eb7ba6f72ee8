"""Build-context selection: the shared case table plus the parser, matcher and walker rules."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import dockerignore
from pipeline.dockerignore import IgnoreFileError, Matcher
from tests.unit.dockerignore_cases import (
    ACCEPTED,
    CASES,
    DOCKERFILE,
    REJECTED,
    Case,
    case,
    make_context,
)


def walk(root: Path, dockerfile: Path | None = None) -> list[str]:
    dockerfile = dockerfile or root / DOCKERFILE
    return list(dockerignore.walk(root, dockerignore.load(root, dockerfile)))


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_walk_yields_what_copy_receives(tmp_path: Path, c: Case) -> None:
    make_context(tmp_path, c)
    assert set(walk(tmp_path)) == c.expected


def test_walk_is_sorted_as_full_paths(tmp_path: Path) -> None:
    names = ("a.txt", "a/b", "a-b", "a/c/d", "B", "b", "a0")
    make_context(tmp_path, case("order", None, names, ()))
    paths = walk(tmp_path)
    assert paths == sorted(paths)
    assert paths == sorted([*names, DOCKERFILE])


def test_excluded_directories_are_not_entered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_context(
        tmp_path,
        case("", "node_modules\ndocs\n!docs/keep.md\n", ("node_modules/x/y", "docs/keep.md"), ()),
    )
    scanned: list[str] = []
    real_scandir = os.scandir

    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        scanned.append(os.path.relpath(path, tmp_path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert walk(tmp_path) == [".dockerignore", DOCKERFILE, "docs/keep.md"]
    assert sorted(scanned) == [".", "docs"]


def test_sent_always_counts_the_dockerfile_and_ignore_file(tmp_path: Path) -> None:
    c = case("", "Dockerfile\n.dockerignore\nsecret\n", ("a", "secret"), ())
    make_context(tmp_path, c)
    matcher = dockerignore.load(tmp_path, tmp_path / DOCKERFILE)
    assert list(dockerignore.walk(tmp_path, matcher)) == ["a"]
    assert dockerignore.sent(tmp_path, tmp_path / DOCKERFILE, matcher) == [
        ".dockerignore",
        DOCKERFILE,
        "a",
    ]


def test_dockerfile_outside_the_context_brings_its_own_ignore_file(tmp_path: Path) -> None:
    context, elsewhere = tmp_path / "ctx", tmp_path / "build"
    context.mkdir()
    elsewhere.mkdir()
    for name in ("a", "b", ".dockerignore"):
        (context / name).write_text("a\n")
    dockerfile = elsewhere / "app.Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    (elsewhere / "app.Dockerfile.dockerignore").write_text("b\n")
    matcher = dockerignore.load(context, dockerfile)
    assert matcher.source == elsewhere / "app.Dockerfile.dockerignore"
    assert list(dockerignore.walk(context, matcher)) == [".dockerignore", "a"]
    # Neither build file lives in the context, so neither is read from it.
    assert dockerignore.sent(context, dockerfile, matcher) == [".dockerignore", "a"]


def test_no_ignore_file_means_no_rules(tmp_path: Path) -> None:
    assert dockerignore.load(tmp_path, tmp_path / DOCKERFILE) == Matcher()


@pytest.mark.parametrize(
    ("text", "patterns"),
    [
        ("a\n\n  b  \n", ["a", "b"]),
        ("#c\n #d\n", ["#d"]),
        ("/a\n//b/\n./c/./d\ne/../f\n/\n", ["a", "b", "c/d", "f", "/"]),
        ("!/a\n! b\n!\n", ["!a", "!b", "!"]),
        ("\ufeff#x\n\ufeffy\n", ["\ufeffy"]),
        ("a\x1f\n", ["a\x1f"]),  # Go does not count U+001F as space; str.strip would
    ],
)
def test_read_patterns(text: str, patterns: list[str]) -> None:
    assert dockerignore.read_patterns(text) == patterns


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        ("", "."),
        ("a//b/", "a/b"),
        ("./a/./b/..", "a"),
        ("../../a", "../../a"),
        ("/../a", "/a"),
        ("//a", "/a"),
        ("a/..", "."),
    ],
)
def test_go_clean(path: str, cleaned: str) -> None:
    assert dockerignore.go_clean(path) == cleaned


@pytest.mark.parametrize(
    ("lines", "path", "excluded"),
    [
        (["*"], "a", True),
        (["*"], "a/b", True),  # through its ancestor "a"
        (["a/b"], "a/b/c/d", True),
        (["b"], "a/b", False),
        (["**"], "a/b/c", True),
        (["**/b"], "b", True),
        (["**/b"], "x/y/b/c", False),  # ancestor tried at depth 2 only: "x/y"
        (["a", "!a/b"], "a/b/c", False),
        (["a?c"], "a/c", False),
        (["a[/]c"], "a/c", True),  # a regex class; filepath.Match would not cross "/"
        (["."], "a", False),
        (["/"], "a", False),
        (["x"], "x\n", False),
    ],
)
def test_excluded(lines: list[str], path: str, excluded: bool) -> None:
    assert Matcher.from_lines(lines).excluded(path) is excluded


@pytest.mark.parametrize(
    ("lines", "directory", "walked"),
    [
        (["docs"], "docs", False),
        (["docs", "!docs/a"], "docs", True),
        (["docs", "!docs"], "docs", True),
        (["docs", "!docs/*.md"], "docs", True),
        (["docs", "!**/a"], "docs", False),
        (["docs", "!docsx/a"], "docs", False),
        (["a", "!a/b/c"], "a/b", True),
    ],
)
def test_may_reinclude_below(lines: list[str], directory: str, walked: bool) -> None:
    assert Matcher.from_lines(lines).may_reinclude_below(directory) is walked


@pytest.mark.parametrize("line", REJECTED)
def test_patterns_the_engine_rejects(line: str) -> None:
    with pytest.raises(IgnoreFileError):
        Matcher.from_lines([line])


@pytest.mark.parametrize("line", ACCEPTED)
def test_patterns_the_engine_accepts(line: str) -> None:
    Matcher.from_lines([line])


def test_load_raises_for_a_broken_ignore_file(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("ok\n[broken\n")
    with pytest.raises(IgnoreFileError, match="broken"):
        dockerignore.load(tmp_path, tmp_path / DOCKERFILE)
