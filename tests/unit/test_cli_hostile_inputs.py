"""Hostile and malformed input, through the command line: exit 2, a clear message, nothing else.

Every case runs `pipeline` in this process against a real project (a git
repository with a Dockerfile) and asserts:

- exit code 2, and the expected fragment in the one-line message on stderr;
- no traceback;
- bounded time (a watchdog thread: a FIFO that blocked would fail, not hang)
  and bounded memory (tracemalloc's peak, well under the 200 MB allowed);
- no file written anywhere in the project (git's own bookkeeping aside).

Inputs: the config's YAML, lifecycle policy files, GitHub event payloads,
values from the environment and the command line that reach git, and paths.
"""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli
from tests.unit.cli_project import dockerfile_project, files_under

MiB = 1 << 20
MEMORY_LIMIT = 200 * MiB
GOOD_CONFIG = (
    "version: 1\nregistry: {type: generic, url: registry.example.com/acme}\n"
    "tags: [{type: branch}, {type: sha}]\nimages: [{name: app}]\n"
)
POLICY_CONFIG = (
    'version: 1\nregistry:\n  account: "123456789012"\n  region: us-east-1\n'
    "  repository:\n    lifecycle_policy: {policy}\nimages: [{{name: app}}]\n"
)
GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app", "GITHUB_EVENT_NAME": "push"}
Setup = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    message: str
    config: str = GOOD_CONFIG
    command: tuple[str, ...] = ("validate",)
    #: files to lay out in the project: text, bytes, or a function that makes them
    files: dict[str, str | bytes | Setup] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    #: `-f` names this instead of the written config
    config_path: str | None = None
    seconds: float = 5.0
    lines: int = 3  # at most, on stderr


def laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "version: 1\n" + "\n".join(lines) + "\nimages: [{name: app}]\n"


def fifo(path: Path) -> None:
    os.mkfifo(path)


def sparse(size: int) -> Setup:
    def make(path: Path) -> None:
        with path.open("wb") as out:
            out.truncate(size)

    return make


def symlink(target: str) -> Setup:
    return lambda path: path.symlink_to(target)


def policy(name: str) -> str:
    return POLICY_CONFIG.format(policy=name)


def event_env(**extra: str) -> dict[str, str]:
    return {**GITHUB, "GITHUB_EVENT_PATH": "event.json", **extra}


PR_ENV = {
    **GITHUB,
    "GITHUB_EVENT_NAME": "pull_request",
    "GITHUB_REF": "refs/pull/7/merge",
    "GITHUB_EVENT_PATH": "event.json",
}
TAGS = ("tags", "--json")
RULE = '{"rulePriority": 1, "selection": %s, "action": {"type": "expire"}}'


def policy_file(id: str, message: str, content: str | bytes | Setup) -> Case:
    """The config's lifecycle policy is p.json, holding `content`."""
    return Case(id, message, policy("p.json"), files={"p.json": content})


def event_payload(
    id: str, message: str, content: str | Setup, env: dict[str, str] | None = None
) -> Case:
    """`tags --json` on GitHub, with event.json holding `content` (a push unless `env`)."""
    files: dict[str, str | bytes | Setup] = {"event.json": content}
    return Case(id, message, command=TAGS, files=files, env=event_env() if env is None else env)


def on_github(id: str, message: str, **env: str) -> Case:
    """`tags --json` in a GitHub push run, with these variables set (or overridden)."""
    return Case(id, message, command=TAGS, env={**GITHUB, **env})


def on_codebuild(id: str, message: str, **env: str) -> Case:
    """`tags --json` in a CodeBuild build, with these variables set."""
    return Case(id, message, command=TAGS, env={"CODEBUILD_BUILD_ID": "b:1", **env})


def image_with(id: str, message: str, keys: str, **more: Any) -> Case:
    """GOOD_CONFIG whose image `app` has more `keys` (a context, a dockerfile)."""
    config = GOOD_CONFIG.replace("{name: app}", "{name: app, " + keys + "}")
    return Case(id, message, config, **more)


CASES = [
    # ----------------------------------------------------------------- the config's YAML
    Case(
        "billion laughs",
        "the file expands to more than 20000 values through YAML aliases",
        laughs(),
        seconds=1.0,
    ),
    Case("a recursive sequence alias", "refers to the anchor that contains it", "x: &a [*a]\n"),
    Case("a recursive merge key", "refers to the anchor that contains it", "x: &a {<<: *a}\n"),
    Case("flow nesting 600 deep", "nested more than 64 levels deep", "x: " + "[" * 600 + "]" * 600),
    Case(
        "block nesting 300 deep",
        "nested more than 64 levels deep",
        "x:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 300)),
    ),
    Case(
        "a 5000-digit integer",
        "scan.thresholds.high: a number of 5000 digits is too large",
        GOOD_CONFIG + "scan: {thresholds: {high: " + "9" * 5000 + "}}\n",
    ),
    Case(
        "a NUL byte", ":2:10: control character NUL is not allowed", "version: 1\nimages: x\x00\n"
    ),
    Case("a BEL byte", "control character U+0007 is not allowed", "version: 1\x07\n"),
    Case(
        "a byte that is not UTF-8",
        ":2:20: not UTF-8 text: byte 0xe9",
        files={"pipeline.yaml": b"version: 1\nimages: [{name: caf\xe9}]\n"},
    ),
    Case(
        "a UTF-16 file",
        "not UTF-8 text",
        files={"pipeline.yaml": "version: 1\n".encode("utf-16")},
    ),
    Case("random bytes", "not UTF-8 text", files={"pipeline.yaml": bytes(range(128, 256)) * 4}),
    Case(
        "-f names a FIFO",
        "not a regular file: it is a FIFO",
        config_path="cfg.fifo",
        files={"cfg.fifo": fifo},
    ),
    Case("-f /dev/zero", "not a regular file: it is a character device", config_path="/dev/zero"),
    Case("-f a directory", "is a directory", config_path=".", lines=4),  # click's usage error
    Case(
        "a config over 1 MiB",
        "too large: 2 MiB, and the limit is 1 MiB",
        files={"pipeline.yaml": sparse(2 * MiB)},
    ),
    Case("an empty file", "the file is empty; it needs at least `version: 1`", ""),
    Case("several documents", "expected one YAML document, found several", "a: 1\n---\nb: 2\n"),
    Case("a list, not a mapping", "the file must be a mapping", "- 1\n- 2\n"),
    Case("a mapping as a key", "keys must be plain text", "version: 1\n? [a]\n: b\n"),
    Case(
        "a megabyte value and a key with a newline",
        "unknown key 'a\\nb'",
        GOOD_CONFIG.replace("[{name: app}]", "[{name: app, labels: {x: '" + "v" * 900_000 + "'}}]")
        + '"a\\nb": 1\n',
    ),
    Case(
        "a megabyte of values in one list",
        "the file holds more than 20000 values",
        "version: 1\nx: [" + "1," * 500_000 + "1]\n",
    ),
    Case(
        "a GitHub expression through interpolation",
        "${{ ... }} is a GitHub Actions expression",
        GOOD_CONFIG.replace("{type: sha}", '{type: raw, value: "${{ github.sha }}"}'),
    ),
    Case(
        "a GitHub expression as a placeholder",
        "{{ github.sha }} is a GitHub Actions expression",
        GOOD_CONFIG.replace("{type: sha}", '{type: raw, value: "{{ github.sha }}"}'),
    ),
    # ----------------------------------------------------------------- lifecycle policy files
    Case("a policy that is a program", "leads outside the repository", policy("/bin/ls")),
    Case(
        "a policy that is a program, copied in",
        "too large",
        policy("ls.json"),
        files={"ls.json": Path("/bin/ls").read_bytes()},
    ),
    Case("a policy that is /dev/zero", "leads outside the repository", policy("/dev/zero")),
    Case(
        "a policy symlinked to /dev/zero",
        "it resolves to /dev/zero",
        policy("zero.json"),
        files={"zero.json": symlink("/dev/zero")},
    ),
    policy_file("a policy that is a FIFO", "not a regular file: it is a FIFO", fifo),
    policy_file(
        "a policy whose selection is a list",
        "rules[0].selection: required",
        '{"rules": [' + RULE % "[1]" + "]}",
    ),
    policy_file(
        "a policy whose rules are text",
        'a lifecycle policy is an object with a non-empty "rules" list',
        '{"rules": "x"}',
    ),
    policy_file("a policy nested 15,000 deep", "nested too deeply", "[" * 15_000 + "]" * 15_000),
    policy_file(
        "a policy with a 5000-digit number",
        "not valid JSON",
        '{"rules": [' + RULE.replace("1,", "9" * 5000 + ",", 1) % "{}" + "]}",
    ),
    policy_file(
        "a policy over ECR's 30,720 characters", "ECR takes at most 30720", " " * 40_000 + "{}"
    ),
    policy_file("a policy that is a list", "a lifecycle policy is an object", "[]"),
    # ----------------------------------------------------------------- CI event payloads
    event_payload(
        "a payload whose repository is text",
        "repository: expected an object, got 'x'",
        '{"repository": "x"}',
    ),
    event_payload(
        "a PR payload whose pull_request is text",
        "pull_request: expected an object, got 'x'",
        '{"pull_request": "x"}',
        PR_ENV,
    ),
    event_payload(
        "a PR payload whose number is not a number",
        "pull_request.number: expected a whole number (a PR number), got 'abc'",
        '{"pull_request": {"number": "abc"}}',
        PR_ENV,
    ),
    event_payload(
        "a PR head that looks like an option",
        "pull_request.head.sha: expected a commit id of 40 hex digits, got '--output=written'",
        '{"number": 7, "pull_request": {"head": {"sha": "--output=written"}}}',
        PR_ENV,
    ),
    event_payload("a payload that is a list", "expected a JSON object, got a list", "[1, 2]"),
    event_payload("a payload that is not JSON", "is not valid JSON", "{'single': quotes}"),
    event_payload(
        "a payload nested 100,000 deep", "is nested too deeply", "[" * 100_000 + "]" * 100_000
    ),
    event_payload("a payload that is a FIFO", "not a regular file: it is a FIFO", fifo),
    on_github(
        "a payload that is /dev/zero",
        "not a regular file: it is a character device",
        GITHUB_EVENT_PATH="/dev/zero",
    ),
    event_payload(
        "a payload over 25 MiB", "too large: 26 MiB, and the limit is 25 MiB", sparse(26 * MiB)
    ),
    # ----------------------------------------------------------------- values that reach git
    on_github(
        "GITHUB_SHA that is an option",
        "GITHUB_SHA='--output=written' is not a commit id",
        GITHUB_SHA="--output=written",
        GITHUB_REF="refs/heads/main",
    ),
    on_github(
        "GITHUB_REF that is an option",
        "GITHUB_REF='--output=written' is not a git ref",
        GITHUB_REF="--output=written",
    ),
    on_github(
        "GITHUB_REF with a control character",
        "is not a git ref",
        GITHUB_REF="refs/heads/a\x01b",
    ),
    on_github(
        "GITHUB_EVENT_NAME that is not an event",
        "GITHUB_EVENT_NAME='push; rm -rf' is not an event name",
        GITHUB_EVENT_NAME="push; rm -rf",
    ),
    Case(
        "--sha that is an option",
        "--sha '--output=written': not a commit id",
        command=(*TAGS, "--sha", "--output=written"),
    ),
    Case(
        "--ref that is an option",
        "--ref '--output=written': no such tag or branch",
        command=(*TAGS, "--ref", "--output=written"),
    ),
    on_codebuild(
        "CODEBUILD_SOURCE_VERSION that is an option",
        "CODEBUILD_SOURCE_VERSION='--output=written' is neither a commit id nor a branch",
        CODEBUILD_SOURCE_VERSION="--output=written",
    ),
    on_codebuild(
        "CODEBUILD_WEBHOOK_TRIGGER with a PR that is not a number",
        "cannot read a PR number from CodeBuild's '--output=written'",
        CODEBUILD_WEBHOOK_TRIGGER="pr/--output=written",
    ),
    on_codebuild(
        "CODEBUILD_WEBHOOK_HEAD_REF that is not a ref",
        "CODEBUILD_WEBHOOK_HEAD_REF='refs/heads/..' does not name a git ref",
        CODEBUILD_WEBHOOK_HEAD_REF="refs/heads/..",
    ),
    # ----------------------------------------------------------------- paths
    image_with(
        "a context that climbs out",
        "images[0].context: '../../..' leads outside the repository",
        "context: ../../..",
    ),
    image_with(
        "a committed symlink to /root as the context",
        "it resolves to /root",
        "context: svc",
        files={"svc": symlink("/root")},
    ),
    image_with(
        "a context that is a symlink loop",
        "is not a usable path",
        "context: loop",
        files={"loop": symlink("loop")},
    ),
    image_with("a context with a NUL", "it contains a NUL character", 'context: "a\\0b"'),
    image_with(
        "dockerfile: /dev/zero",
        "'/dev/zero' leads outside the repository",
        "dockerfile: /dev/zero",
    ),
    image_with(
        "a Dockerfile that is a FIFO",
        "Dockerfile.fifo is a FIFO (named pipe); a Dockerfile must be a regular file",
        "dockerfile: Dockerfile.fifo",
        files={"Dockerfile.fifo": fifo},
    ),
    Case(
        "outputs.report: /etc/cron.d/x",
        "outputs.report: '/etc/cron.d/x' leads outside the repository",
        GOOD_CONFIG + "outputs: {report: /etc/cron.d/x}\n",
        command=("run", "--only", "build"),
    ),
    Case(
        "scan.sarif outside",
        "scan.sarif: '../x.sarif' leads outside the repository",
        GOOD_CONFIG + "scan: {sarif: ../x.sarif}\n",
        command=("plan", "--only", "build"),
    ),
    Case(
        "a manifest outside",
        "deploy[0].files[0]: '../../etc/passwd' leads outside the repository",
        GOOD_CONFIG + "deploy: [{type: manifest, image: app, files: [../../etc/passwd]}]\n",
    ),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_environment: None) -> Path:
    return dockerfile_project(tmp_path, monkeypatch)


def _lay_out(root: Path, case: Case) -> Path:
    config = root / "pipeline.yaml"
    if "pipeline.yaml" not in case.files:
        config.write_text(case.config, encoding="utf-8")
    for name, content in case.files.items():
        path = root / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content(path)
    return Path(case.config_path) if case.config_path else config


def _run_bounded(argv: list[str], seconds: float) -> tuple[int | None, float, int]:
    """(exit code or None if still running, seconds, peak bytes), run on a watchdog thread."""
    result: dict[str, int] = {}

    def target() -> None:
        result["code"] = cli.main(argv)

    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(max(seconds * 4, 10.0))  # tracemalloc slows Python down; the bound is below
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result.get("code"), elapsed, peak


def _release_fifos(root: Path) -> None:
    """A reader blocked on a FIFO (the failure tested for) is let go rather than left hanging."""
    for path in root.rglob("*"):
        if path.is_fifo():
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                continue  # nobody is reading it


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_input_is_a_clear_exit_2(
    case: Case,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    config = _lay_out(project, case)
    before = files_under(project)

    code, elapsed, peak = _run_bounded(["-f", str(config), *case.command], case.seconds)
    if code is None:
        _release_fifos(project)
    out, err = capsys.readouterr()

    assert code is not None, f"still running after {elapsed:.1f}s (blocked?)"
    assert code == 2, err
    assert "Traceback" not in err and "Traceback" not in out
    assert case.message in err
    assert len(err.strip().splitlines()) <= case.lines, err  # a line per problem, no flood
    assert len(err) < 2000
    assert peak < MEMORY_LIMIT / 2, f"{peak / MiB:.0f} MiB"
    assert files_under(project) == before, "a file was written"
    assert not (project / "written").exists()
    # measured under tracemalloc, which makes Python several times slower
    assert elapsed < case.seconds * 3, f"{elapsed:.2f}s"


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


def test_billion_laughs_in_a_real_process_under_1s_and_200_mb(project: Path) -> None:
    """The limits as a user meets them: a fresh `pipeline validate` process.

    The child reports its own peak resident memory (VmHWM of its own address
    space: a count inherited from this test process would not be its own).
    """
    import subprocess
    import sys

    script = (
        "import sys; from pipeline.cli import main; code = main(sys.argv[1:]);"
        " status = open('/proc/self/status').read();"
        " print('peak', status.split('VmHWM:')[1].split()[0], file=sys.stderr); sys.exit(code)"
    )

    def run(config: Path) -> tuple[subprocess.CompletedProcess[str], float]:
        argv = [sys.executable, "-c", script, "validate", "-f", str(config)]
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
        return done, time.perf_counter() - started

    (project / "ok.yaml").write_text(GOOD_CONFIG)
    (project / "laughs.yaml").write_text(laughs())
    # The interpreter and its imports cost the same with any config: time them apart.
    warm, baseline = run(project / "ok.yaml")
    assert warm.returncode == 0, warm.stderr
    done, elapsed = run(project / "laughs.yaml")
    assert done.returncode == 2, done.stderr
    assert "more than 20000 values" in done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed - baseline < 1.0, (elapsed, baseline)
    peak_kib = int(done.stderr.split("peak ")[1].split()[0])
    assert peak_kib * 1024 < MEMORY_LIMIT, f"{peak_kib / 1024:.0f} MiB"
