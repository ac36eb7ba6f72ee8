"""Paths in the config: build inputs exist, and everything stays inside the repository.

Each case lays out a real repository (a folder with `.git`) in a temporary
directory, writes the config there and loads it; the problems are reported at
the key's line, as any other configuration error.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.config.load import load
from pipeline.errors import ConfigError

Layout = Callable[[Path], None]


def repo(root: Path) -> None:
    """A work tree with two contexts: app (with a Dockerfile) and web."""
    (root / ".git").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "app" / "Dockerfile").write_text("FROM scratch\n")
    (root / "app" / "Dockerfile.prod").write_text("FROM scratch\n")
    (root / "web").mkdir()
    (root / "policy.json").write_text(
        '{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any",'
        ' "countType": "imageCountMoreThan", "countNumber": 5}, "action": {"type": "expire"}}]}'
    )


def with_symlink(name: str, target: str) -> Layout:
    def layout(root: Path) -> None:
        repo(root)
        (root / name).symlink_to(target)

    return layout


def with_fifo(name: str) -> Layout:
    def layout(root: Path) -> None:
        repo(root)
        os.mkfifo(root / name)

    return layout


def with_dir(name: str) -> Layout:
    def layout(root: Path) -> None:
        repo(root)
        (root / name).mkdir(parents=True)

    return layout


@dataclass(frozen=True)
class Case:
    id: str
    layout: Layout
    body: str  # YAML after `version: 1` and the registry
    #: (line, key path, fragment); lines count from 1 at `version: 1`
    expected: list[tuple[int, str, str]]


IMAGE = "images:\n  - name: app\n    context: app\n"

CASES = [
    Case("a context and its Dockerfile inside the repository", repo, IMAGE, []),
    Case(
        "an absolute context inside the repository",
        repo,
        "images:\n  - name: app\n    context: {root}/app\n",
        [],
    ),
    Case(
        "a missing context directory",
        repo,
        "images:\n  - name: app\n    context: services/api\n",
        [(5, "images[0].context", "no directory services/api (contexts are relative to")],
    ),
    Case(
        "a context that is a file",
        repo,
        "images:\n  - name: app\n    context: policy.json\n",
        [(5, "images[0].context", "policy.json is a regular file, not a directory")],
    ),
    Case(
        "a context that climbs out with ..",
        repo,
        "images:\n  - name: app\n    context: ../../..\n",
        [(5, "images[0].context", "'../../..' leads outside the repository")],
    ),
    Case(
        "a committed symlink to /root as the context",
        with_symlink("svc", "/root"),
        "images:\n  - name: app\n    context: svc\n",
        [
            (
                5,
                "images[0].context",
                "'svc' leads outside the repository ({root}): it resolves to /root",
            )
        ],
    ),
    Case(
        "a symlink that stays inside is fine",
        with_symlink("current", "app"),
        "images:\n  - name: app\n    context: current\n",
        [],
    ),
    Case(
        "a missing Dockerfile named in the config",
        repo,
        IMAGE + "    dockerfile: Dockerfile.dev\n",
        [(6, "images[0].dockerfile", "no file Dockerfile.dev in the context app")],
    ),
    Case(
        "a missing default Dockerfile is reported at the image",
        repo,
        "images:\n  - name: web\n    context: web\n",
        [(4, "images[0].dockerfile", "no file Dockerfile in the context web (the default;")],
    ),
    Case(
        "a Dockerfile elsewhere in the repository",
        repo,
        "images:\n  - name: web\n    context: web\n    dockerfile: ../app/Dockerfile.prod\n",
        [],
    ),
    Case(
        "dockerfile: /dev/zero",
        repo,
        IMAGE + "    dockerfile: /dev/zero\n",
        [(6, "images[0].dockerfile", "'/dev/zero' leads outside the repository")],
    ),
    Case(
        "a Dockerfile that is a FIFO",
        with_fifo("app/Dockerfile.pipe"),
        IMAGE + "    dockerfile: Dockerfile.pipe\n",
        [(6, "images[0].dockerfile", "Dockerfile.pipe is a FIFO (named pipe); a Dockerfile")],
    ),
    Case(
        "a Dockerfile that is a directory",
        with_dir("app/Dockerfile.d"),
        IMAGE + "    dockerfile: Dockerfile.d\n",
        [(6, "images[0].dockerfile", "Dockerfile.d is a directory; a Dockerfile must be")],
    ),
    Case(
        "a Dockerfile symlinked out of the repository",
        with_symlink("app/Dockerfile.link", "/etc/hostname"),
        IMAGE + "    dockerfile: Dockerfile.link\n",
        [(6, "images[0].dockerfile", "it resolves to /etc/hostname")],
    ),
    Case(
        "outputs.report in /etc/cron.d",
        repo,
        IMAGE + "outputs:\n  report: /etc/cron.d/x\n",
        [(7, "outputs.report", "'/etc/cron.d/x' leads outside the repository")],
    ),
    Case(
        "every written file is confined",
        repo,
        IMAGE
        + "scan:\n  sarif: ../scan.sarif\n"
        + "outputs:\n  imagedefinitions: ../../i.json\n  image_detail: /tmp/d.json\n",
        [
            (7, "scan.sarif", "leads outside the repository"),
            (9, "outputs.imagedefinitions", "leads outside the repository"),
            (10, "outputs.image_detail", "leads outside the repository"),
        ],
    ),
    Case(
        "an output that is a directory",
        with_dir("out"),
        IMAGE + "outputs:\n  report: out\n",
        [(7, "outputs.report", "out is a directory; the pipeline writes a regular file here")],
    ),
    Case(
        "an output that does not exist yet, in a new folder, is fine",
        repo,
        IMAGE + "outputs:\n  report: build/reports/run.json\n",
        [],
    ),
    Case(
        "manifests outside the repository",
        repo,
        IMAGE
        + "deploy:\n  - type: manifest\n    image: app\n    files: [deploy/a.yaml, ../../x.yaml]\n"
        + "  - type: manifest\n    image: app\n    repo: ../gitops\n    files: [a.yaml]\n",
        [
            (9, "deploy[0].files[1]", "'../../x.yaml' leads outside the repository"),
            (12, "deploy[1].repo", "'../gitops' leads outside the repository"),
        ],
    ),
    Case(
        "manifests in a remote repository are not local paths",
        repo,
        IMAGE
        + "deploy:\n  - type: manifest\n    image: app\n"
        + "    repo: git@github.com:acme/gitops.git\n    files: [prod/../x.yaml, missing.yaml]\n",
        [],
    ),
    Case(
        "manifests of a remote repository cannot leave its clone",
        repo,
        IMAGE
        + "deploy:\n  - type: manifest\n    image: app\n"
        + "    repo: https://git.example.com/acme/gitops.git\n"
        + "    files: [ok.yaml, ../x.yaml, /etc/passwd, a/../../y.yaml]\n",
        [
            (10, "deploy[0].files[1]", "'../x.yaml' leads outside the repository"),
            (10, "deploy[0].files[2]", "'/etc/passwd' leads outside the repository"),
            (10, "deploy[0].files[3]", "'a/../../y.yaml' leads outside the repository"),
        ],
    ),
    Case(
        "secret files may live anywhere",
        repo,
        IMAGE + "    secrets: [{id: npmrc, src: /tmp/runner/npmrc}]\n",
        [],
    ),
]


def _write(root: Path, body: str, registry: str = 'registry: {account: "123456789012"}') -> Path:
    path = root / "pipeline.yaml"
    path.write_text(f"version: 1\n{registry}\n" + body.replace("{root}", str(root)))
    return path


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_paths(case: Case, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    case.layout(root)
    path = _write(root, case.body)
    if not case.expected:
        load(path, env={})
        return
    with pytest.raises(ConfigError) as err:
        load(path, env={})
    got = [(p.line, p.path, p.message) for p in err.value.problems]
    assert len(got) == len(case.expected), got
    for (line, key, message), (want_line, want_key, fragment) in zip(
        got, case.expected, strict=True
    ):
        assert (line, key) == (want_line, want_key), message
        assert fragment.format(root=root.resolve()) in message


@pytest.mark.parametrize(
    ("policy", "fragment"),
    [
        ("../policy.json", "'../policy.json' leads outside the repository"),
        ("/etc/passwd", "'/etc/passwd' leads outside the repository"),
        ("link.json", "it resolves to /etc/hostname"),
        ("fifo.json", "cannot read the lifecycle policy file fifo.json: not a regular file"),
        ("big.json", "too large: 40000 characters, and ECR takes at most 30720"),
    ],
)
def test_lifecycle_policy_files_are_confined_and_bounded(
    tmp_path: Path, policy: str, fragment: str
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    repo(root)
    (root / "link.json").symlink_to("/etc/hostname")
    os.mkfifo(root / "fifo.json")
    (root / "big.json").write_text("x" * 40_000)
    registry = (
        f'registry:\n  account: "123456789012"\n  repository:\n    lifecycle_policy: {policy}\n'
    )
    path = _write(root, IMAGE, registry)
    with pytest.raises(ConfigError) as err:
        load(path, env={})
    [problem] = err.value.problems
    assert (problem.line, problem.path) == (5, "registry.repository.lifecycle_policy")
    assert fragment in problem.message


def test_the_repository_is_the_git_top_level_above_the_config(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    repo(root)
    (root / "deploy").mkdir()
    path = root / "deploy" / "pipeline.yaml"
    path.write_text(
        'version: 1\nregistry: {account: "123456789012"}\n'
        "images:\n  - name: app\n    context: ../app\n"
    )
    assert load(path, env={}).images[0].context == "../app"


def test_without_git_the_config_folder_is_the_repository(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "pipeline.yaml"
    path.write_text(
        'version: 1\nregistry: {account: "123456789012"}\n'
        "images:\n  - name: app\n    context: ../app\n"
    )
    with pytest.raises(ConfigError, match="leads outside the repository"):
        load(path, env={})
