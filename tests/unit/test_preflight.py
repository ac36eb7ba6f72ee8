"""`plan` refuses what `run` refuses, with the same message; unimplemented keys warn.

Each case is a real project (a git repository with a Dockerfile) and a config
that `run` refuses before any network call. Both commands must exit 2 with the
same error line, and neither may write anything (no report, no file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline import cli, preflight
from pipeline import plan as planning
from pipeline.config.schema import Config
from pipeline.context import Context
from pipeline.errors import UsageError
from pipeline.stages import order
from tests.unit.cli_project import dockerfile_project, files_under

GENERIC = "registry: {type: generic, url: registry.example.com/acme}\n"
ECR = 'registry: {account: "123456789012", region: eu-west-1}\n'
SHA_RULES = "tags: [{type: branch}, {type: sha}]\n"


APP = "images: [{name: app}]\n"
#: the usual configs (after `version: 1`): one image `app`, branch and sha tags
ECR_APP = ECR + SHA_RULES + APP
GENERIC_APP = GENERIC + SHA_RULES + APP


def generic_app(image: str) -> str:
    """GENERIC_APP with more keys on the image, e.g. `secrets: [...]`."""
    return GENERIC + SHA_RULES + "images: [{name: app, " + image + "}]\n"


@dataclass(frozen=True)
class Case:
    id: str
    args: list[str]
    message: str
    config: str = GENERIC_APP  # after `version: 1`
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


CASES = [
    Case(
        "scan without the push whose digests it waits for",
        ["--only", "build,scan,gate"],
        "the scan stage waits for the scan of what the push stage of the same run",
        ECR_APP,
    ),
    Case(
        "the gate without the scan it judges",
        ["--only", "build,push,gate"],
        "the gate judges the scan results of the same run; run it with scan",
        ECR_APP,
    ),
    Case(
        "promote without the gate of the same run",
        ["--skip", "gate"],
        "promote moves the mutable tags only after the gate of the same run passed",
        ECR_APP,
    ),
    Case(
        "promote without the push that published the digest",
        ["--only", "build,promote"],
        "promote moves the mutable tags onto what the push stage of the same run",
    ),
    Case(
        "scanning asked of a registry with no scan API",
        [],
        "scan.enabled: registry type generic has no scan API to wait for",
        GENERIC + SHA_RULES + "scan: {enabled: true}\n" + APP,
    ),
    Case(
        "deploy without the push that publishes its images",
        ["--only", "build,deploy"],
        "the deploy stage deploys what the push stage of the same run published",
        GENERIC_APP + "deploy: [{type: ecs, image: app, cluster: c, service: s}]\n",
    ),
    Case(
        "an IMMUTABLE repository whose rules give only moving tags on this run",
        ["--only", "build,push"],
        "image app: every tag of this run moves (main)",
        'registry: {account: "123456789012", region: eu-west-1, repository:'
        " {tag_mutability: IMMUTABLE, mutable_tags: ['*']}}\n"
        "tags: [{type: branch}]\nlatest: never\n" + APP,
    ),
    Case(
        "a secret variable that is not set",
        ["--only", "build,push"],
        "image app: secret tok: environment variable NPM_TOKEN is not set",
        generic_app("secrets: [{id: tok, env: NPM_TOKEN}]"),
    ),
    Case(
        "a secret file that is missing",
        ["--only", "build"],
        "image app: secret npmrc: ",
        generic_app("secrets: [{id: npmrc, src: .npmrc}]"),
    ),
    Case(
        "a secret file over BuildKit's 500 KiB",
        ["--only", "build"],
        "is larger than BuildKit's limit of 500 KiB",
        generic_app("secrets: [{id: big, src: big.bin}]"),
        files={"big.bin": "x" * (501 << 10)},
    ),
    Case(
        "registry credentials named by the config but not set",
        ["--only", "build,push"],
        "registry credentials: REG_PASS (named by registry.password_env) is not set",
        "registry: {type: generic, url: registry.example.com/acme, username_env: REG_USER,"
        " password_env: REG_PASS}\n" + SHA_RULES + APP,
        {"REG_USER": "me"},
    ),
    Case(
        "no tag rule applies",
        ["--only", "build,push"],
        "image app: no tag rule applies to this run",
        GENERIC + "tags: [{type: pr}]\n" + APP,
    ),
    Case(
        "an image that does not exist",
        ["--only", "build", "--image", "ap"],
        "no image named 'ap' in the config (did you mean 'app'?)",
    ),
    Case(
        "--sha of another commit than the checkout",
        ["--only", "build", "--sha", "HEAD~1"],
        "but the checked-out HEAD is",
    ),
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_environment: None) -> Path:
    return dockerfile_project(tmp_path, monkeypatch, commits=2)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_plan_refuses_what_run_refuses(
    case: Case,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    for name, content in case.files.items():
        (project / name).write_text(content)
    config = project / "pipeline.yaml"
    config.write_text("version: 1\n" + case.config + "outputs: {report: report.json}\n")
    before = files_under(project)
    said = {}
    for command in (["plan"], ["plan", "--json"], ["run", "--report", "run.json"]):
        code = cli.main(["-f", str(config), *command, *case.args])
        out, err = capsys.readouterr()
        assert code == 2, (command, out, err)
        assert out == ""
        assert "Traceback" not in err
        said[command[0] + (" --json" if "--json" in command else "")] = err
    assert case.message in said["run"]
    assert said["plan"] == said["plan --json"] == said["run"]
    assert len(said["run"].strip().splitlines()) == 1
    assert files_under(project) == before


def test_keys_that_landed_with_their_behaviour_do_not_warn(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project / "pipeline.yaml"
    config.write_text(
        "version: 1\n"
        "registry:\n  type: generic\n  url: registry.example.com/acme\n"
        "  pull_from: [987654321098.dkr.ecr.eu-west-1.amazonaws.com]\n"
        "cache: {from: auto}\n" + SHA_RULES + "images: [{name: app}]\n"
        "deploy:\n  - {type: eks, image: app, context: kind, deployment: app}\n"
        "  - {type: ecs, image: app, cluster: c, service: s,"
        " codedeploy: {application: a, deployment_group: g}}\n"
        "outputs: {imagedefinitions: i.json, image_detail: d.json}\n"
    )
    assert cli.main(["-f", str(config), "plan", "--only", "build,push"]) == 0
    err = capsys.readouterr().err
    for key in ("registry.pull_from", "cache"):  # implemented: no warning
        assert f"{key} is set" not in err
    for key in (
        "deploy[].context",
        "deploy[].codedeploy",
        "outputs.imagedefinitions",
        "outputs.image_detail",
    ):
        assert f"{key} is set" not in err, "implemented now: no warning"


def test_a_config_without_unimplemented_keys_plans_quietly(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project / "pipeline.yaml"
    config.write_text("version: 1\n" + GENERIC_APP)
    assert cli.main(["-f", str(config), "plan", "--only", "build,push", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert '"warnings": []' in out


NOTHING_LEFT = "--only/--skip leave no stage to run with this config ({}); select other stages"
NEEDS_SCANNING = "scan.enabled on an ECR registry"


@pytest.mark.parametrize(
    ("asked", "scanning", "deploys", "reasons"),
    [
        (("gate",), False, False, f"gate needs scanning ({NEEDS_SCANNING})"),
        (("gate",), False, True, f"gate needs scanning ({NEEDS_SCANNING})"),
        (("scan",), False, False, f"scan needs scanning ({NEEDS_SCANNING})"),
        (("scan", "gate"), False, False, f"scan and gate need scanning ({NEEDS_SCANNING})"),
        (("deploy",), False, False, "deploy needs a deploy target (deploy:)"),
        (("deploy",), True, False, "deploy needs a deploy target (deploy:)"),
        (
            ("gate", "deploy"),
            False,
            False,
            f"deploy needs a deploy target (deploy:); gate needs scanning ({NEEDS_SCANNING})",
        ),
        (
            ("scan", "gate", "deploy"),
            False,
            False,
            "deploy needs a deploy target (deploy:);"
            f" scan and gate need scanning ({NEEDS_SCANNING})",
        ),
    ],
    ids=lambda v: ",".join(v) if isinstance(v, tuple) else str(v),
)
def test_nothing_left_names_only_the_stages_asked_for_and_why_each_cannot_run(
    asked: tuple[str, ...], scanning: bool, deploys: bool, reasons: str
) -> None:
    message = preflight.nothing_left(asked, scanning=scanning, deploys=deploys)
    assert message == NOTHING_LEFT.format(reasons)


def _plan(tmp_path: Path, registry: str, selection: order.Selection) -> planning.Plan:
    config = Config.model_validate(
        {
            "version": 1,
            "registry": {"type": "generic", "url": "registry.example.com/acme"}
            if registry == "generic"
            else {"type": "ecr", "account": "123456789012", "region": "eu-west-1"},
            "tags": [{"type": "sha"}],
            "scan": {"enabled": registry == "ecr"},
            "images": [{"name": "app"}],
        }
    )
    ctx = Context(provider="local", event="push", sha="a" * 40, ref="refs/heads/main", origins=())
    return planning.make(config, ctx, {}, root=tmp_path, stages=selection.stages)


@pytest.mark.parametrize(
    ("registry", "only", "skip", "reasons"),
    [
        ("generic", ["gate"], None, f"gate needs scanning ({NEEDS_SCANNING})"),
        ("generic", ["scan", "gate"], None, f"scan and gate need scanning ({NEEDS_SCANNING})"),
        ("ecr", ["deploy"], None, "deploy needs a deploy target (deploy:)"),
        (
            "generic",
            None,
            ["build", "push", "promote"],
            "deploy needs a deploy target (deploy:);"
            f" scan and gate need scanning ({NEEDS_SCANNING})",
        ),
    ],
)
def test_a_selection_the_config_leaves_empty_is_refused_naming_what_was_asked(
    tmp_path: Path,
    registry: str,
    only: list[str] | None,
    skip: list[str] | None,
    reasons: str,
) -> None:
    selection = order.select(only, skip)
    plan = _plan(tmp_path, registry, selection)
    assert plan.stages == ()
    with pytest.raises(UsageError) as err:
        preflight.refuse(plan, selection)
    assert str(err.value) == NOTHING_LEFT.format(reasons)
    with pytest.raises(UsageError) as err:
        preflight.check(plan, {}, selection)
    assert str(err.value) == NOTHING_LEFT.format(reasons)


def test_without_the_typed_selection_every_dropped_stage_is_named(tmp_path: Path) -> None:
    """A plan made in code (no --only/--skip typed) asked for every stage."""
    plan = _plan(tmp_path, "generic", order.select(["gate"], None))
    with pytest.raises(UsageError) as err:
        preflight.refuse(plan)
    reasons = "deploy needs a deploy target (deploy:);"
    reasons += f" scan and gate need scanning ({NEEDS_SCANNING})"
    assert str(err.value) == NOTHING_LEFT.format(reasons)
