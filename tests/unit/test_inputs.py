"""input_digest: equal for equal inputs anywhere, different when anything a build reads differs."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline import dockerignore, inputs


def make_tree(root: Path) -> Path:
    """A small context; returns its Dockerfile."""
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "main.py").write_text("print('hi')\n")
    (root / "src" / "pkg" / "data.bin").write_bytes(bytes(range(256)) * 10)
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / "current").symlink_to("src")
    (root / "notes.md").write_text("ignored\n")
    (root / ".dockerignore").write_text("*.md\n")
    dockerfile = root / "Dockerfile"
    dockerfile.write_text("FROM local/busybox:1\nCOPY . /app\n")
    return dockerfile


BASE: dict[str, Any] = {
    "build_args": {"A": "1", "B": "2"},
    "target": "runtime",
    "platforms": ["linux/amd64", "linux/arm64"],
    "labels": {"org.example.team": "core"},
    "secret_ids": ["npmrc"],
    "dependencies": ["sha256:" + "1" * 64],
}


def digest(root: Path, **overrides: Any) -> str:
    return inputs.input_digest(
        context_dir=root, dockerfile=root / "Dockerfile", **{**BASE, **overrides}
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    root.mkdir()
    make_tree(root)
    return root


def test_format_and_repeatability(tree: Path) -> None:
    first = digest(tree)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first)
    assert digest(tree) == first


def test_same_tree_elsewhere_same_digest(tree: Path, tmp_path: Path) -> None:
    copy = tmp_path / "somewhere" / "else"
    shutil.copytree(tree, copy, symlinks=True)
    os.utime(copy / "src" / "main.py", (0, 0))
    assert digest(copy) == digest(tree)


def test_mtime_and_non_exec_permission_bits_do_not_count(tree: Path) -> None:
    before = digest(tree)
    os.utime(tree / "src" / "main.py", (1_000_000, 1_000_000))
    (tree / "src" / "main.py").chmod(0o600)
    (tree / "run.sh").chmod(0o700)
    assert digest(tree) == before


def test_order_and_repeats_of_sets_do_not_count(tree: Path) -> None:
    before = digest(tree)
    assert (
        digest(
            tree,
            build_args={"B": "2", "A": "1"},
            platforms=["linux/arm64", "linux/amd64", "linux/arm64"],
            secret_ids=("npmrc", "npmrc"),
            labels={"org.example.team": "core"},
        )
        == before
    )
    assert digest(tree, target=None) == digest(tree, target="")


def test_ignored_files_do_not_count(tree: Path) -> None:
    before = digest(tree)
    (tree / "notes.md").write_text("changed\n")
    (tree / "more.md").write_text("new\n")
    assert digest(tree) == before


def test_a_clones_git_state_does_not_count(tree: Path) -> None:
    """Two clones of one commit, or one clone before and after `git tag`, agree."""
    before = digest(tree)
    (tree / ".git" / "refs" / "tags").mkdir(parents=True)
    (tree / ".git" / "refs" / "tags" / "v1.2.3").write_text("0" * 40 + "\n")
    (tree / ".git" / "index").write_bytes(b"DIRC stat cache")
    (tree / "src" / "vendored" / ".git").mkdir(parents=True)  # a nested repository
    (tree / "src" / "vendored" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert digest(tree) == before
    (tree / ".github").mkdir()  # only .git itself is left out
    (tree / ".github" / "ci.yml").write_text("on: push\n")
    assert digest(tree) != before


def test_an_ignored_dockerfile_still_counts(tree: Path) -> None:
    (tree / ".dockerignore").write_text("*.md\nDockerfile\n")
    before = digest(tree)
    (tree / "Dockerfile").write_text("FROM local/busybox:1\nCOPY . /srv\n")
    assert digest(tree) != before


def test_a_dockerfile_outside_the_context_counts(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "build.Dockerfile"
    outside.write_text("FROM local/busybox:1\n")

    def outside_digest() -> str:
        return inputs.input_digest(context_dir=tree, dockerfile=outside)

    before = outside_digest()
    outside.write_text("FROM local/busybox:1\nRUN true\n")
    assert outside_digest() != before


def _edit_content(root: Path) -> None:
    (root / "src" / "main.py").write_text("print('bye')\n")


def _add_file(root: Path) -> None:
    (root / "src" / "new.py").write_text("")


def _add_empty_file_in_new_dir(root: Path) -> None:
    (root / "x").mkdir()
    (root / "x" / "empty").touch()


def _remove_file(root: Path) -> None:
    (root / "src" / "main.py").unlink()


def _rename_file(root: Path) -> None:
    (root / "src" / "main.py").rename(root / "src" / "app.py")


def _toggle_exec(root: Path) -> None:
    (root / "src" / "main.py").chmod(0o755)


def _retarget_symlink(root: Path) -> None:
    (root / "current").unlink()
    (root / "current").symlink_to("src/pkg")


def _symlink_instead_of_file(root: Path) -> None:
    (root / "run.sh").unlink()
    (root / "run.sh").symlink_to("#!/bin/sh\n")


def _unignore(root: Path) -> None:
    (root / ".dockerignore").write_text("")


def _edit_dockerfile(root: Path) -> None:
    (root / "Dockerfile").write_text("FROM local/busybox:1\nCOPY . /srv\n")


def _fifo(root: Path) -> None:
    os.mkfifo(root / "pipe")  # counted by kind, never opened (reading it would block)


def _last_byte_of_big_file(root: Path) -> None:
    big = root / "src" / "pkg" / "data.bin"
    data = bytearray(big.read_bytes())
    data[-1] ^= 1
    big.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "change",
    [
        _edit_content,
        _add_file,
        _add_empty_file_in_new_dir,
        _remove_file,
        _rename_file,
        _toggle_exec,
        _retarget_symlink,
        _symlink_instead_of_file,
        _unignore,
        _edit_dockerfile,
        _fifo,
        _last_byte_of_big_file,
    ],
)
def test_tree_changes_change_the_digest(tree: Path, change: Callable[[Path], None]) -> None:
    before = digest(tree)
    change(tree)
    assert digest(tree) != before


@pytest.mark.parametrize(
    "overrides",
    [
        {"build_args": {"A": "1", "B": "3"}},
        {"build_args": {"A": "1", "B": "2", "C": ""}},
        {"build_args": {"A": "1", "C": "2"}},
        {"target": "debug"},
        {"target": None},
        {"platforms": ["linux/amd64"]},
        {"platforms": []},
        {"labels": {"org.example.team": "edge"}},
        {"labels": {}},
        {"secret_ids": ["npmrc", "pip"]},
        {"secret_ids": []},
        {"dependencies": ["sha256:" + "2" * 64]},
        {"dependencies": []},
    ],
)
def test_option_changes_change_the_digest(tree: Path, overrides: dict[str, Any]) -> None:
    assert digest(tree, **overrides) != digest(tree)


def test_fields_cannot_run_into_each_other(tree: Path) -> None:
    assert digest(tree, build_args={"ab": "c"}) != digest(tree, build_args={"a": "bc"})
    assert digest(tree, labels={"A": "1"}, build_args={}) != digest(
        tree, labels={}, build_args={"A": "1"}
    )


def test_files_larger_than_a_chunk_are_streamed(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # data.bin spans many 100-byte chunks: the digest must not depend on the chunk size.
    before = digest(tree)
    monkeypatch.setattr(inputs, "_CHUNK", 100)
    assert digest(tree) == before


def test_the_scheme_is_part_of_the_digest(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = digest(tree)
    monkeypatch.setattr(inputs, "SCHEME", "pipeline.inputs/v2")
    assert digest(tree) != before


def test_files_the_pipeline_writes_do_not_count(tree: Path, tmp_path: Path) -> None:
    before = digest(tree)
    report, sarif = tree / "report.json", tree / "src" / "scan.sarif"
    report.write_text('{"status": "ok"}')
    sarif.write_text("{}")
    outside = tmp_path / "elsewhere.json"
    written = [report, sarif, outside]
    assert digest(tree, written=written) == before
    assert digest(tree, written=[tree / "." / "src" / ".." / "report.json", sarif]) == before
    assert digest(tree) != before  # not named as written: they are inputs like any file


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_a_dockerfile_that_is_not_a_regular_file_is_refused_unread(
    tree: Path, tmp_path: Path, kind: str
) -> None:
    dockerfile = tmp_path / "Dockerfile.odd"
    if kind == "fifo":
        os.mkfifo(dockerfile)
    elif kind == "directory":
        dockerfile.mkdir()
    else:
        dockerfile = Path("/dev/zero")
    with pytest.raises(ValueError, match="not a regular file"):
        inputs.input_digest(context_dir=tree, dockerfile=dockerfile)


def test_an_ignore_file_that_is_a_fifo_is_not_read(tree: Path) -> None:
    (tree / ".dockerignore").unlink()
    os.mkfifo(tree / ".dockerignore")
    assert digest(tree) != ""  # returns: the FIFO is recorded by kind, never opened


def test_an_oversized_ignore_file_is_refused_unread(tree: Path) -> None:
    with (tree / ".dockerignore").open("wb") as out:
        out.truncate(dockerignore.MAX_IGNORE_FILE + 1)  # sparse
    with pytest.raises(ValueError, match="too large"):
        digest(tree)
