"""Generic registry credentials: named variables and the docker config. Errors name the
variable or the file, never a value; every value read is masked."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from pipeline import log
from pipeline.adapters import credentials
from pipeline.errors import UsageError

HOST = "reg.example:5000"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_credentials_from_named_variables_are_masked_in_every_form() -> None:
    env = {"REG_USER": "robot", "REG_PASS": "pw-from-env-1"}
    creds = credentials.from_env(HOST, "REG_USER", "REG_PASS", env)
    assert (creds.username, creds.password) == ("robot", "pw-from-env-1")
    for form in ("pw-from-env-1", b64("robot:pw-from-env-1")):
        assert log.redact(form) == "***"
    assert "pw-from-env-1" not in log.redact("robot:pw-from-env-1")


def test_an_unset_variable_is_named() -> None:
    with pytest.raises(UsageError, match=r"REG_PASS \(named by registry.password_env\) is not set"):
        credentials.from_env(HOST, "REG_USER", "REG_PASS", {"REG_USER": "robot"})


@pytest.mark.parametrize("password", ["S3cr3t!pw", "correct horse battery", "${oops}"])
def test_a_value_where_a_name_belongs_is_never_echoed(password: str) -> None:
    """`password_env: "${REG_PASS}"` hands us the password itself."""
    env = {"REG_USER": "robot", "REG_PASS": password}
    with pytest.raises(UsageError) as err:
        credentials.from_env(HOST, "REG_USER", password, env)
    assert password not in str(err.value)
    assert "registry.password_env must name an environment variable" in str(err.value)


def test_a_value_that_looks_like_a_name_is_not_echoed_either() -> None:
    env = {"REG_USER": "robot", "REG_PASS": "Hunter2Password"}  # a valid variable name
    with pytest.raises(UsageError) as err:
        credentials.from_env(HOST, "REG_USER", "Hunter2Password", env)
    assert "Hunter2Password" not in str(err.value)
    assert "the variable named by registry.password_env" in str(err.value)


def docker_config(tmp_path: Path, config: object | str) -> dict[str, str]:
    folder = tmp_path / "dockercfg"
    folder.mkdir(exist_ok=True)
    text = config if isinstance(config, str) else json.dumps(config)
    (folder / "config.json").write_text(text)
    return {"DOCKER_CONFIG": str(folder)}


def test_docker_config_auth_is_decoded_and_masked_with_its_base64(tmp_path: Path) -> None:
    auth = b64("robot:cfg-pass-9")
    env = docker_config(tmp_path, {"auths": {HOST: {"auth": auth}}})
    creds = credentials.from_docker_config(HOST, env)
    assert creds is not None and (creds.username, creds.password) == ("robot", "cfg-pass-9")
    for form in (auth, "cfg-pass-9"):
        assert log.redact(f"[{form}]") == "[***]"
    assert log.redact("robot:cfg-pass-9") == "robot:***"


def test_docker_config_keys_with_a_scheme_match_the_host(tmp_path: Path) -> None:
    env = docker_config(tmp_path, {"auths": {f"https://{HOST}/v1/": {"auth": b64("u:pw-long")}}})
    creds = credentials.from_docker_config(HOST, env)
    assert creds is not None and creds.password == "pw-long"


def test_no_docker_config_or_no_entry_means_anonymous(tmp_path: Path) -> None:
    assert credentials.from_docker_config(HOST, {"DOCKER_CONFIG": str(tmp_path / "none")}) is None
    env = docker_config(tmp_path, {"auths": {"other.example": {"auth": b64("u:p")}}})
    assert credentials.from_docker_config(HOST, env) is None


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ("!!!not-base64!!!", "is not base64 of user:password"),
        (b64("no-colon-here"), "no ':' or no password"),
        (b64("user:"), "no ':' or no password"),
        (base64.b64encode(b"\xff\xfe:\xff").decode(), "is not base64 of user:password"),
        (12345, "must be a string"),
    ],
)
def test_a_malformed_auth_is_a_usage_error_without_its_value(
    tmp_path: Path, auth: object, message: str
) -> None:
    env = docker_config(tmp_path, {"auths": {HOST: {"auth": auth}}})
    with pytest.raises(UsageError, match=message) as err:
        credentials.from_docker_config(HOST, env)
    assert err.value.exit_code == 2
    assert str(auth) not in str(err.value)
    assert "no-colon-here" not in str(err.value)


@pytest.mark.parametrize(
    "text", ['{"auths": ', "[1, 2]", '"just a string"', '{"auths": {"h": {"auth": "x"}}'[:-1]]
)
def test_a_broken_docker_config_is_a_usage_error(tmp_path: Path, text: str) -> None:
    env = docker_config(tmp_path, text)
    with pytest.raises(UsageError, match=r"the docker config .* is not"):
        credentials.from_docker_config(HOST, env)


def test_a_docker_config_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    folder = tmp_path / "fifo"
    folder.mkdir()
    os.mkfifo(folder / "config.json")
    with pytest.raises(UsageError, match="not a regular file"):
        credentials.from_docker_config(HOST, {"DOCKER_CONFIG": str(folder)})


def test_a_huge_docker_config_is_refused(tmp_path: Path) -> None:
    env = docker_config(tmp_path, " " * (2 << 20))
    with pytest.raises(UsageError, match="larger than 1 MiB"):
        credentials.from_docker_config(HOST, env)


def helper(tmp_path: Path, name: str, output: str, code: int = 0) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / f"docker-credential-{name}"
    script.write_text(f"#!/bin/sh\ncat >/dev/null\necho '{output}'\nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin"}


def test_a_credential_helper_is_asked_and_its_secret_masked(tmp_path: Path) -> None:
    env = {
        **docker_config(tmp_path, {"credHelpers": {HOST: "fake"}}),
        **helper(tmp_path, "fake", '{"Username": "u", "Secret": "helper-secret-1"}'),
    }
    creds = credentials.from_docker_config(HOST, env)
    assert creds is not None and creds.password == "helper-secret-1"
    assert log.redact(b64("u:helper-secret-1")) == "***"


def test_a_helper_without_credentials_means_anonymous(tmp_path: Path) -> None:
    env = {
        **docker_config(tmp_path, {"credsStore": "fake"}),
        **helper(tmp_path, "fake", "credentials not found in native keychain", code=1),
    }
    assert credentials.from_docker_config(HOST, env) is None


def test_a_helper_answering_garbage_is_a_clear_error(tmp_path: Path) -> None:
    env = {
        **docker_config(tmp_path, {"credsStore": "fake"}),
        **helper(tmp_path, "fake", '["not", "an", "object"]'),
    }
    with pytest.raises(UsageError, match="docker-credential-fake answered"):
        credentials.from_docker_config(HOST, env)


def test_a_helper_name_with_a_path_is_refused(tmp_path: Path) -> None:
    env = docker_config(tmp_path, {"credsStore": "../../tmp/evil"})
    with pytest.raises(UsageError, match="is not a name"):
        credentials.from_docker_config(HOST, env)
