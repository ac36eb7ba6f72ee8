"""Build secrets and build args: bounded, masked everywhere, and warned about when a build
arg carries what looks like a secret."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pipeline import log
from pipeline.adapters import builders
from pipeline.adapters.ports import BuildRequest
from pipeline.config.schema import Secret
from pipeline.errors import BuildError, UsageError
from pipeline.plan import ImagePlan
from pipeline.stages import build
from pipeline.tags import Tag, TagSet


def image(
    *secrets: Secret, build_args: dict[str, str] | None = None, name: str = "app"
) -> ImagePlan:
    return ImagePlan(
        name=name,
        repository="team/app",
        image="reg.example/team/app",
        context_dir=Path("."),
        dockerfile=Path("Dockerfile"),
        target=None,
        build_args=build_args or {},
        secrets=secrets,
        platforms=(),
        labels={},
        tags=TagSet((Tag("sha-1", False, "sha"),), None, None),
        depends_on=(),
    )


def test_a_secret_files_content_is_masked_line_by_line(tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_text("//registry.npmjs.org/:_authToken=npm_tok_0123456789\n")
    sources = build.secrets_for(image(Secret(id="npmrc", src=".npmrc")), tmp_path, {})
    assert sources[0].src == tmp_path / ".npmrc"
    assert log.redact("echo npm_tok_0123456789") == "echo ***"


def test_a_secret_from_a_variable_is_masked_and_only_its_name_travels() -> None:
    env = {"NPM_TOKEN": "npm_env_tok_42"}
    sources = build.secrets_for(image(Secret(id="npm", env="NPM_TOKEN")), Path("."), env)
    assert sources[0].env == "NPM_TOKEN"
    assert log.redact("npm_env_tok_42") == "***"


def test_a_missing_variable_is_named() -> None:
    with pytest.raises(UsageError, match="environment variable NPM_TOKEN is not set"):
        build.secrets_for(image(Secret(id="npm", env="NPM_TOKEN")), Path("."), {})


def test_secret_files_may_live_outside_the_repository(tmp_path: Path) -> None:
    outside = tmp_path / "runner-temp" / "token"
    outside.parent.mkdir()
    outside.write_text("outside-secret-value")
    repo = tmp_path / "repo"
    repo.mkdir()
    build.secrets_for(image(Secret(id="t", src=str(outside))), repo, {})
    assert log.redact("outside-secret-value") == "***"


def test_a_secret_file_larger_than_buildkits_limit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * (500 * 1024 + 1))
    with pytest.raises(UsageError, match="larger than BuildKit's limit of 500 KiB"):
        build.secrets_for(image(Secret(id="big", src="big")), tmp_path, {})


def test_a_secret_file_at_the_limit_is_fine(tmp_path: Path) -> None:
    (tmp_path / "ok").write_bytes(b"y" * (500 * 1024))
    assert build.secrets_for(image(Secret(id="ok", src="ok")), tmp_path, {})


def test_a_secret_value_larger_than_the_limit_is_refused_without_echoing_it() -> None:
    env = {"BIG": "z" * (500 * 1024 + 1)}
    with pytest.raises(UsageError, match="the value of BIG is larger") as err:
        build.secrets_for(image(Secret(id="big", env="BIG")), Path("."), env)
    assert "zzzz" not in str(err.value)


@pytest.mark.parametrize("kind", ["fifo", "folder", "missing", "device"])
def test_a_secret_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "secret"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "device":
        path = Path("/dev/zero")
    with pytest.raises(UsageError, match=r"not a regular file|no file"):
        build.secrets_for(image(Secret(id="s", src=str(path))), tmp_path, {})


def test_a_build_arg_fed_from_a_secret_variable_is_warned_about_and_masked() -> None:
    env = {"NPM_TOKEN": "npm_arg_tok_77", "HOME": "/root"}
    warnings = build.secret_build_args(
        [image(build_args={"NPM_TOKEN": "npm_arg_tok_77", "PY": "3.12", "HOME_DIR": "/root"})],
        env,
    )
    assert len(warnings) == 1
    assert "build arg NPM_TOKEN: its value comes from NPM_TOKEN" in warnings[0]
    assert "secrets:" in warnings[0]
    assert "npm_arg_tok_77" not in warnings[0]
    assert log.redact("npm_arg_tok_77") == "***"


@pytest.mark.parametrize(
    ("variable", "warned"),
    [
        ("GITHUB_TOKEN", True),
        ("DB_PASSWORD", True),
        ("CLIENT_SECRET", True),
        ("API_KEY", True),
        ("deploy_key", True),
        ("BUILD_NUMBER", False),
        ("GIT_BRANCH", False),
    ],
)
def test_which_variables_are_named_like_secrets(variable: str, warned: bool) -> None:
    env = {variable: "value-from-the-variable"}
    args = {"SOME_ARG": "prefix-value-from-the-variable"}  # interpolated into a longer value
    assert bool(build.secret_build_args([image(build_args=args)], env)) is warned


def test_a_build_arg_named_like_a_secret_is_warned_about_even_when_literal() -> None:
    warnings = build.secret_build_args([image(build_args={"SENTRY_AUTH_TOKEN": "abc123"})], {})
    assert "its name says it holds a secret" in warnings[0]


def test_an_empty_build_arg_is_not_warned_about() -> None:
    assert build.secret_build_args([image(build_args={"API_KEY": ""})], {}) == []


def failing_docker(tmp_path: Path, printed: str) -> Path:
    script = tmp_path / "docker"
    script.write_text(
        "#!/bin/sh\n"
        f"echo '#5 [2/2] RUN cat /run/secrets/npm'\necho '#5 0.2 {printed}'\n"
        "echo '#5 ERROR: process did not complete successfully: exit code: 1'\n"
        "echo 'failed to solve: exit code: 1'\nexit 1\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_a_secret_printed_by_a_failing_build_is_masked_in_its_error(tmp_path: Path) -> None:
    env = {"NPM_TOKEN": "printed-secret-99"}
    build.secrets_for(image(Secret(id="npm", env="NPM_TOKEN")), tmp_path, env)
    docker = failing_docker(tmp_path, "printed-secret-99")
    builder = builders.CliBuilder(builders.Found("buildkit", str(docker), "20.10"), env)
    request = BuildRequest("app", ("reg/app:1",), tmp_path, tmp_path / "Dockerfile")
    lines: list[str] = []
    with pytest.raises(BuildError) as err:
        builder.build(request, lines.append)
    assert "printed-secret-99" not in str(err.value)
    assert "#5 0.2 ***" in str(err.value)
