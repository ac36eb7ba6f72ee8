"""docker-credential-pipeline speaks docker's credential-helper protocol."""

from __future__ import annotations

import io
import json

import pytest

from pipeline.adapters.ports import Credentials
from pipeline.credhelper import hosts, main
from pipeline.errors import AuthError

SECRET = "s3cr3t-token-value-0123456789"


class Fetch:
    def __init__(self, fail: bool = False) -> None:
        self.asked: list[hosts.Served] = []
        self.fail = fail

    def __call__(self, target: hosts.Served) -> Credentials:
        self.asked.append(target)
        if self.fail:
            raise AuthError("ECR GetAuthorizationToken in eu-west-1: AccessDeniedException")
        return Credentials("AWS", SECRET, target.host)


def call(
    argv: list[str], text: str, env: dict[str, str] | None = None, fetch: Fetch | None = None
) -> tuple[int, str]:
    out = io.StringIO()
    code = main.run(argv, io.StringIO(text), out, env or {}, fetch or Fetch())
    return code, out.getvalue()


@pytest.mark.parametrize(
    ("server", "region", "kind"),
    [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "eu-west-1", "private"),
        ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/", "us-east-1", "private"),
        ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", "private"),
        ("123456789012.dkr-ecr.eu-west-1.on.aws", "eu-west-1", "private"),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1", "private"),
        ("123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn", "cn-north-1", "private"),
        ("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "us-iso-east-1", "private"),
        ("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1", "private"),
        ("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1", "private"),
        ("public.ecr.aws", "us-east-1", "public"),
        ("ecr-public.aws.com", "us-east-1", "public"),
    ],
)
def test_get_answers_every_ecr_host_form_with_a_fresh_token(
    server: str, region: str, kind: str
) -> None:
    fetch = Fetch()
    code, out = call(["get"], server + "\n", fetch=fetch)
    assert code == 0
    assert json.loads(out) == {"ServerURL": server, "Username": "AWS", "Secret": SECRET}
    assert [(t.region, t.kind) for t in fetch.asked] == [(region, kind)]


@pytest.mark.parametrize(
    "server",
    [
        "registry-1.docker.io",
        "https://index.docker.io/v1/",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.com",
        "evil.com/123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        "",
    ],
)
def test_get_for_a_host_it_does_not_serve_says_what_docker_matches(server: str) -> None:
    fetch = Fetch()
    code, out = call(["get"], server, fetch=fetch)
    assert (code, out) == (1, "credentials not found in native keychain\n")
    assert fetch.asked == []


def test_the_sandbox_registry_host_is_served_with_the_emulated_ecr_token() -> None:
    env = {"PIPELINE_REGISTRY_HOST": "127.0.0.1:5321", "AWS_REGION": "eu-central-1"}
    fetch = Fetch()
    code, out = call(["get"], "127.0.0.1:5321", env, fetch)
    assert code == 0 and json.loads(out)["Secret"] == SECRET
    assert fetch.asked == [hosts.Served("127.0.0.1:5321", "private", "eu-central-1")]
    assert call(["get"], "127.0.0.1:5322", env)[0] == 1


def test_a_failed_fetch_exits_1_and_names_the_host_never_a_token() -> None:
    code, out = call(
        ["get"], "123456789012.dkr.ecr.eu-west-1.amazonaws.com", fetch=Fetch(fail=True)
    )
    assert code == 1
    assert "123456789012.dkr.ecr.eu-west-1.amazonaws.com" in out and "AccessDenied" in out
    assert SECRET not in out


@pytest.mark.parametrize("action", ["store", "erase"])
def test_store_and_erase_read_and_keep_nothing(action: str) -> None:
    payload = json.dumps({"ServerURL": "x", "Username": "u", "Secret": SECRET})
    assert call([action], payload) == (0, "")


def test_list_holds_nothing_since_tokens_are_fetched_when_asked() -> None:
    assert call(["list"], "") == (0, "{}\n")


def test_an_unknown_action_is_a_usage_error() -> None:
    code, out = call(["login"], "")
    assert code == 2 and "usage" in out


def test_github_masks_go_to_stderr_so_stdout_is_only_the_answer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    def noisy(target: hosts.Served) -> Credentials:
        sys.stdout.write("::add-mask::something\n")
        return Credentials("AWS", SECRET, target.host)

    out = io.StringIO()
    assert main.run(["get"], io.StringIO("public.ecr.aws"), out, {}, noisy) == 0
    assert json.loads(out.getvalue())["Secret"] == SECRET
    assert "::add-mask::" in capsys.readouterr().err
