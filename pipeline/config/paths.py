"""Paths named in the config stay inside the repository, once symlinks are followed.

A config is shared code: whoever can change it (a pull request, say) must not
be able to point a build context at `/root`, a Dockerfile at `/dev/zero`, or a
report at `/etc/cron.d/x`. The repository is the git work tree that holds the
config file (found by its `.git`, without running git), else the config's
folder. Secret files may live anywhere (runners keep them in a temp folder),
and paths given on the command line are the caller's choice.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.readfile import kind_of

Key = tuple[str | int, ...]
Problem = tuple[Key, str]


def repository_root(folder: Path) -> Path:
    """The git top-level directory containing `folder`, else `folder` (both resolved)."""
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def shown(value: str) -> str:
    """`value` as a message quotes it: repr, and cut when long."""
    return repr(value if len(value) <= 80 else value[:77] + "...")


def plain(value: str) -> str:
    """`value` as a message names it: as written when short and printable (one line)."""
    cut = value if len(value) <= 80 else value[:77] + "..."
    return cut if cut.isprintable() else repr(cut)


def resolve(base: Path, value: str) -> Path:
    """`value` relative to `base` (absolute values stay), every symlink followed.

    ValueError when the path cannot be used at all (a NUL, a name too long,
    a symlink loop).
    """
    if "\0" in value:
        raise ValueError("it contains a NUL character")
    try:
        return (base / value).resolve()
    except (OSError, RuntimeError) as err:
        raise ValueError(getattr(err, "strerror", None) or str(err)) from None


def outside(root: Path, path: Path, value: str) -> str | None:
    """A problem when the resolved `path` (written `value`) is not inside `root`."""
    if path == root or path.is_relative_to(root):
        return None
    where = str(path) if len(str(path)) <= 120 else str(path)[:117] + "..."
    return (
        f"{shown(value)} leads outside the repository ({root}): it resolves to {where};"
        " paths in the config must stay inside the repository"
    )


def kind(path: Path) -> str | None:
    """What `path` is ("a directory", "a regular file", "a FIFO (named pipe)"...); None if
    there is nothing there (or nothing that can be reached)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return "a regular file" if stat.S_ISREG(mode) else kind_of(mode)


# --------------------------------------------------------------------------- the checks


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def problems(root: dict[str, Any], folder: Path) -> list[Problem]:
    """Every path problem of the raw config data; `folder` holds the config file."""
    top = repository_root(folder)
    return [
        *_build_inputs(root, folder, top),
        *_written(root, folder, top),
        *_manifests(root, folder, top),
    ]


def located(top: Path, base: Path, value: str) -> tuple[Path | None, str | None]:
    """`value` resolved from `base`, or why it may not be used."""
    try:
        path = resolve(base, value)
    except ValueError as err:
        return None, f"{shown(value)} is not a usable path: {err}"
    problem = outside(top, path, value)
    return (None, problem) if problem else (path, None)


def _build_inputs(root: dict[str, Any], folder: Path, top: Path) -> Iterator[Problem]:
    """Contexts and Dockerfiles exist, are a directory and a regular file, inside the repository."""
    for i, image in enumerate(_list(root.get("images"))):
        image = _dict(image)
        context = image.get("context", ".")
        if not isinstance(context, str):
            continue
        context_dir, problem = located(top, folder, context)
        if context_dir is None:
            yield ("images", i, "context"), str(problem)
            continue
        what = kind(context_dir)
        if what != "a directory":
            yield (
                ("images", i, "context"),
                f"{plain(context)} is {what}, not a directory"
                if what
                else f"no directory {plain(context)} (contexts are relative to the config file)",
            )
            continue
        dockerfile = image.get("dockerfile", "Dockerfile")
        if not isinstance(dockerfile, str):
            continue
        where: Key = ("images", i, "dockerfile")
        path, problem = located(top, context_dir, dockerfile)
        what = kind(path) if path is not None else None
        if path is None:
            yield where, str(problem)
        elif what is None:
            default = "" if "dockerfile" in image else " (the default; set `dockerfile:`)"
            shown = f"{plain(dockerfile)} in the context {plain(context)}"
            yield where, f"no file {shown}{default}"
        elif what != "a regular file":
            yield where, f"{plain(dockerfile)} is {what}; a Dockerfile must be a regular file"


_OUTPUTS: tuple[Key, ...] = (
    ("outputs", "report"),
    ("outputs", "imagedefinitions"),
    ("outputs", "image_detail"),
    ("scan", "sarif"),
)


def _written(root: dict[str, Any], folder: Path, top: Path) -> Iterator[Problem]:
    """Files the pipeline writes land inside the repository, as regular files."""
    for where in _OUTPUTS:
        value = _dict(root.get(str(where[0]))).get(str(where[1]))
        if not isinstance(value, str):
            continue
        path, problem = located(top, folder, value)
        what = kind(path) if path is not None else None
        if path is None:
            yield where, str(problem)
        elif what not in (None, "a regular file"):
            yield where, f"{plain(value)} is {what}; the pipeline writes a regular file here"


def _is_url(repo: str) -> bool:
    return "://" in repo or re.match(r"^[^/:]+@[^/:]+:", repo) is not None


def _manifests(root: dict[str, Any], folder: Path, top: Path) -> Iterator[Problem]:
    """GitOps manifests in a local repository stay inside this repository."""
    for i, target in enumerate(_list(root.get("deploy"))):
        target = _dict(target)
        repo = target.get("repo", ".")
        if target.get("type") != "manifest" or not isinstance(repo, str):
            continue
        if _is_url(repo):
            yield from _remote_manifests(i, target)
            continue
        base, problem = located(top, folder, repo)
        if base is None:
            yield ("deploy", i, "repo"), str(problem)
            continue
        for j, file in enumerate(_list(target.get("files"))):
            if isinstance(file, str):
                path, problem = located(top, base, file)
                if path is None:
                    yield ("deploy", i, "files", j), str(problem)


def _remote_manifests(i: int, target: dict[str, Any]) -> Iterator[Problem]:
    """Files of a repository cloned at deploy time: already now, they cannot lead out of it."""
    for j, file in enumerate(_list(target.get("files"))):
        if not isinstance(file, str):
            continue
        normal = os.path.normpath(file.replace("\\", "/"))
        if os.path.isabs(normal) or normal == ".." or normal.startswith("../"):
            yield (
                ("deploy", i, "files", j),
                f"{shown(file)} leads outside the repository; files are relative to the"
                " repository named by `repo:`",
            )
