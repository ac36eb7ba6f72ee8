"""Builder detection and command lines, against fake docker clients on PATH."""

from __future__ import annotations

import dataclasses
import stat
from collections import deque
from pathlib import Path

import pytest

from pipeline import log
from pipeline.adapters import builders
from pipeline.adapters.ports import BuildRequest, SecretSource
from pipeline.errors import BuildError, UsageError


def fake_docker(folder: Path, *, version: str, buildx: bool, build: str = "") -> Path:
    """A shell script answering `--version`, `buildx version` and `build` like docker."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "docker"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = --version ]; then echo "Docker version {version}, build abc"; exit 0; fi\n'
        'if [ "$1" = buildx ] && [ "$2" = version ]; then '
        f"{'echo buildx v0.12.0; exit 0' if buildx else 'exit 1'}; fi\n"
        f"{build}\n"
        "exit 3\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@pytest.fixture(autouse=True)
def _no_machine_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builders, "FALLBACK_CLIENTS", ())


@pytest.mark.parametrize(
    ("version", "buildx", "expected"),
    [
        ("28.2.2", True, "buildx"),
        ("20.10.24+dfsg1", False, "buildkit"),
        ("28.2.2", False, "classic"),
    ],
)
def test_detection_prefers_buildkit(
    tmp_path: Path, version: str, buildx: bool, expected: str
) -> None:
    fake_docker(tmp_path, version=version, buildx=buildx)
    assert builders.choose({"PATH": str(tmp_path)}).kind == expected


def test_forcing_an_available_builder(tmp_path: Path) -> None:
    fake_docker(tmp_path, version="20.10.24", buildx=False)
    assert builders.choose({"PATH": str(tmp_path)}, forced="classic").kind == "classic"


def test_forcing_a_missing_builder_is_a_usage_error(tmp_path: Path) -> None:
    fake_docker(tmp_path, version="20.10.24", buildx=False)
    with pytest.raises(UsageError, match="buildx is not available here"):
        builders.choose({"PATH": str(tmp_path)}, forced="buildx")


def request(tmp_path: Path) -> BuildRequest:
    return BuildRequest(
        name="app",
        refs=("reg/app:sha-1", "reg/app:1.0.0"),
        context_dir=tmp_path,
        dockerfile=tmp_path / "Dockerfile",
        target="runtime",
        build_args={"PY": "3.12"},
        labels={"team": "x"},
        secrets=(SecretSource("npm", env="NPM_TOKEN"), SecretSource("rc", src=tmp_path / ".npmrc")),
        platforms=("linux/amd64",),
    )


def test_buildx_command_line(tmp_path: Path) -> None:
    found = builders.Found("buildx", "/x/docker", "v0.12")
    argv = builders.CliBuilder(found, {"NPM_TOKEN": "s3cret-value"}).argv(
        request(tmp_path), tmp_path / "iid"
    )
    assert argv[:5] == ["/x/docker", "buildx", "build", "--load", "--provenance=false"]
    joined = " ".join(argv)
    for part in (
        "-t reg/app:sha-1",
        "-t reg/app:1.0.0",
        "--label team=x",
        "--build-arg PY=3.12",
        "--target runtime",
        "--platform linux/amd64",
        "--secret id=npm,env=NPM_TOKEN",
        f"--secret id=rc,src={tmp_path / '.npmrc'}",
    ):
        assert part in joined
    assert "s3cret-value" not in joined
    assert argv[-1] == str(tmp_path)


def test_a_build_arg_holding_a_masked_value_goes_by_environment_not_argv(
    tmp_path: Path,
) -> None:
    log.mask("tok-3x4mpl3-value")
    found = builders.Found("buildkit", "/x/docker", "20.10")
    builder = builders.CliBuilder(found, {"PATH": "/bin"})
    req = dataclasses.replace(
        request(tmp_path), build_args={"PY": "3.12", "NPM_TOKEN": "tok-3x4mpl3-value"}
    )
    argv = builder.argv(req, tmp_path / "iid")
    assert "tok-3x4mpl3-value" not in " ".join(argv)
    assert argv[argv.index("NPM_TOKEN") - 1] == "--build-arg"
    assert "PY=3.12" in argv
    env = builder.env_for(req)
    assert env["NPM_TOKEN"] == "tok-3x4mpl3-value"
    assert "PY" not in env
    assert "NPM_TOKEN" not in builder.env  # per build, never the shared environment


def test_buildkit_client_sets_docker_buildkit(tmp_path: Path) -> None:
    builder = builders.CliBuilder(builders.Found("buildkit", "/x/docker", "20.10"), {})
    assert builder.env["DOCKER_BUILDKIT"] == "1"
    assert builder.argv(request(tmp_path), tmp_path / "iid")[1] == "build"


def test_cli_build_streams_lines_and_reads_the_image_id(tmp_path: Path) -> None:
    script = fake_docker(
        tmp_path / "bin",
        version="20.10.24",
        buildx=False,
        build='if [ "$1" = build ]; then echo "#1 step one"; echo "#2 step two";'
        ' shift; while [ "$1" != --iidfile ]; do shift; done; echo sha256:abc > "$2"; exit 0; fi',
    )
    lines: list[str] = []
    builder = builders.CliBuilder(builders.Found("buildkit", str(script), "20.10"), {})
    result = builder.build(request(tmp_path), lines.append)
    assert result.image_id == "sha256:abc"
    assert lines == ["#1 step one", "#2 step two"]


def test_cli_build_failure_carries_the_builders_message(tmp_path: Path) -> None:
    script = fake_docker(
        tmp_path / "bin",
        version="20.10.24",
        buildx=False,
        build='if [ "$1" = build ]; then echo "#5 RUN false";'
        ' echo "ERROR: executor failed running [/bin/sh -c false]: exit code: 1"; exit 1; fi',
    )
    builder = builders.CliBuilder(builders.Found("buildkit", str(script), "20.10"), {})
    with pytest.raises(BuildError, match="executor failed running"):
        builder.build(request(tmp_path), lambda _l: None)


def test_several_platforms_need_buildx(tmp_path: Path) -> None:
    builder = builders.CliBuilder(builders.Found("buildkit", "/x/docker", "20.10"), {})
    req = BuildRequest(
        "app",
        ("r/a:1",),
        tmp_path,
        tmp_path / "Dockerfile",
        platforms=("linux/amd64", "linux/arm64"),
    )
    with pytest.raises(BuildError, match="several platforms need docker buildx"):
        builder.build(req, lambda _l: None)


# BuildKit's plain progress, as the docker 20.10 client prints it (captured here).
_FAILED_RUN = """\
#4 [2/3] RUN echo ok
#4 sha256:b922d35091ce9f156d2439eb276ce1847e69eff516d85d21f9a6afc6c812808c
#4 0.138 ok
#4 DONE 0.1s

#5 [3/3] RUN echo the step that fails >&2 && exit 3
#5 sha256:17fa4cd56f778e4498b30c87918ece2e8018bab40b18ad03cb649ad605be86d2
#5 0.143 the step that fails
#5 ERROR: executor failed running [/bin/sh -c echo the step that fails >&2 && exit 3]: exit code: 3
------
 > [3/3] RUN echo the step that fails >&2 && exit 3:
------
executor failed running [/bin/sh -c echo the step that fails >&2 && exit 3]: exit code: 3"""
_MISSING_TARGET = """\
#2 [internal] load .dockerignore
#2 sha256:727f8f38e8c3bdcc587ca8dda76144bffacf0a6b7bb4f75011507f3490fcba83
#2 transferring context: 2B done
#2 DONE 0.0s
failed to solve with frontend dockerfile.v0: failed to create LLB definition: target stage nope \
could not be found"""


def test_failure_reason_is_the_failed_step_and_the_conclusion() -> None:
    reason = builders._reason(deque(_FAILED_RUN.splitlines()))
    assert reason.splitlines() == [
        "#5 [3/3] RUN echo the step that fails >&2 && exit 3",
        "#5 0.143 the step that fails",
        "#5 ERROR: executor failed running [/bin/sh -c echo the step that fails >&2 && exit 3]:"
        " exit code: 3",
        "executor failed running [/bin/sh -c echo the step that fails >&2 && exit 3]: exit code: 3",
    ]


def test_failure_reason_without_a_failed_step_is_the_conclusion() -> None:
    reason = builders._reason(deque(_MISSING_TARGET.splitlines()))
    assert reason == _MISSING_TARGET.splitlines()[-1]
    assert builders._reason(deque(["one", "two"])) == "one\ntwo"
