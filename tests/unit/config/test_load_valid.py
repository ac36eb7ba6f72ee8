"""Configs that load, and what they load to."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.config.load import load
from pipeline.config.schema import Config, Image
from tests.unit.config.helpers import problems, valid, yaml

EXAMPLE = Path(__file__).resolve().parents[3] / "pipeline.example.yaml"

MINIMAL = yaml("""
    version: 1
    registry: {account: "123456789012"}
    images: [{name: app}]
""")


def test_the_example_validates_with_its_defaults() -> None:
    config = load(EXAMPLE, env={})
    assert [i.name for i in config.images] == ["backend", "frontend"]
    assert config.registry.account == "123456789012"
    assert config.registry.region == "us-east-1"
    assert config.registry.repository.tag_mutability == "IMMUTABLE"
    assert config.registry.repository.mutable_tags == ("latest", "*.*", "main", "pr-*")
    assert config.scan.timeout == 600.0
    assert config.scan.thresholds == {"CRITICAL": 0, "HIGH": 0}
    assert [d.type for d in config.deploy] == ["ecs", "eks", "manifest"]
    assert str(config.scan.ignore[0].expires) == "2027-01-31"


def test_the_example_takes_account_and_region_from_the_environment() -> None:
    config = load(EXAMPLE, env={"AWS_ACCOUNT_ID": "012345678901", "AWS_REGION": "eu-west-1"})
    assert config.registry.account == "012345678901"
    assert config.registry.region == "eu-west-1"


def test_defaults_of_a_minimal_config() -> None:
    config = valid(MINIMAL)
    assert config.registry.type == "ecr"
    assert config.registry.endpoint == "standard"
    assert config.latest == "auto"
    assert config.tags is None
    image = config.image("app")
    assert (image.context, image.dockerfile, image.platforms) == (".", "Dockerfile", ())
    assert config.scan.timeout == 600.0
    assert config.scan.undefined_as == "HIGH"


def test_models_are_frozen() -> None:
    config = valid(MINIMAL)
    with pytest.raises(ValidationError):
        config.latest = "never"  # type: ignore[misc]


def test_unknown_keys_are_refused_by_the_models_too() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Image.model_validate({"name": "app", "dockerfle": "x"})


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("${REGION:-us-west-2}", {}, "us-west-2"),
        ("${REGION:-us-west-2}", {"REGION": "eu-west-1"}, "eu-west-1"),
        ("${REGION:-us-west-2}", {"REGION": ""}, "us-west-2"),
        ("${REGION}", {"REGION": "ap-south-1"}, "ap-south-1"),
        ("${AREA:-eu}-${SIDE:-west}-${N:-1}", {"SIDE": "central"}, "eu-central-1"),
    ],
)
def test_interpolation_in_the_loader(value: str, env: dict[str, str], expected: str) -> None:
    text = yaml(f"""
        version: 1
        registry:
          account: "123456789012"
          region: {value}
        images: [{{name: app}}]
    """)
    assert valid(text, env).registry.region == expected


def test_set_but_empty_variable_without_default_is_empty() -> None:
    text = MINIMAL + 'tag_prefix: "${PREFIX}"\n'
    assert valid(text, {"PREFIX": ""}).tag_prefix == ""


def test_double_dollar_is_a_literal_dollar() -> None:
    text = MINIMAL + 'default_branch: "$${BRANCH}"\n'
    assert valid(text).default_branch == "${BRANCH}"


def test_interpolated_numbers_and_account() -> None:
    text = yaml("""
        version: 1
        registry:
          account: ${AWS_ACCOUNT_ID:-012345678901}
        images: [{name: app}]
        scan:
          thresholds: {critical: "${MAX_CRITICAL:-0}"}
    """)
    config = valid(text, {"MAX_CRITICAL": "3"})
    assert config.registry.account == "012345678901"
    assert config.scan.thresholds == {"CRITICAL": 3}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("10m", 600.0), ("1h", 3600.0), ("1h30m", 5400.0), ("0s", 0.0)],
)
def test_durations(text: str, seconds: float) -> None:
    config = valid(MINIMAL + f"scan: {{timeout: {text}}}\n")
    assert config.scan.timeout == seconds


def test_deploy_waits_are_durations() -> None:
    text = MINIMAL + yaml("""
        deploy:
          - {type: ecs, image: app, cluster: prod, service: app, wait: 5m}
          - {type: eks, image: app, cluster: prod, deployment: app}
    """)
    waits = [getattr(d, "wait", None) for d in valid(text).deploy]
    assert waits == [300.0, 600.0]


def test_ecs_codedeploy_names_the_application_and_group() -> None:
    text = MINIMAL + yaml("""
        deploy:
          - type: ecs
            image: app
            cluster: prod
            service: app
            codedeploy: {application: shop, deployment_group: prod-app}
          - {type: ecs, image: app, cluster: prod, service: other}
    """)
    first, second = valid(text).deploy
    assert first.codedeploy is not None  # type: ignore[union-attr]
    assert (first.codedeploy.application, first.codedeploy.deployment_group) == (  # type: ignore[union-attr]
        "shop",
        "prod-app",
    )
    assert second.codedeploy is None  # type: ignore[union-attr]


IMMUTABLE_MADE_VALID = [
    pytest.param(
        ["latest"],
        "latest: auto\ntags: [{type: sha}]\n",
        id="latest",
    ),
    pytest.param(
        ["*"],
        "latest: never\ntags: [{type: branch}, {type: edge}, {type: raw, value: stable}]\n",
        id="branch-edge-raw-by-star",
    ),
    pytest.param(
        ["*.*"],
        'latest: never\ntags: [{type: semver, pattern: "{{major}}.{{minor}}"}, {type: sha}]\n',
        id="major-minor",
    ),
    pytest.param(
        ["pr-*", "nightly"],
        "latest: never\ntags: [{type: pr}, {type: schedule}, {type: semver}]\n",
        id="pr-and-schedule",
    ),
    pytest.param(
        ["latest", "*"],
        "",
        id="default-rules",
    ),
]


@pytest.mark.parametrize(("filters", "rest"), IMMUTABLE_MADE_VALID)
def test_immutable_repositories_with_covering_mutable_tags(filters: list[str], rest: str) -> None:
    text = (
        yaml(f"""
        version: 1
        registry:
          account: "123456789012"
          repository:
            tag_mutability: IMMUTABLE
            mutable_tags: {filters}
        images: [{{name: app}}]
    """)
        + rest
    )
    config = valid(text)
    assert config.registry.repository.mutable_tags == tuple(filters)


def test_immutable_with_only_immutable_rules_needs_no_filters() -> None:
    text = yaml("""
        version: 1
        registry:
          account: "123456789012"
          repository: {tag_mutability: IMMUTABLE}
        latest: never
        tags:
          - type: semver
          - type: sha
          - {type: raw, value: "build-{{sha}}"}
        images:
          - name: app
            tags: [{type: sha, format: long}]
    """)
    assert valid(text).registry.repository.tag_mutability == "IMMUTABLE"


PLATFORMS = [
    *("linux/amd64", "linux/amd64/v3", "linux/arm64", "linux/arm64/v8", "linux/arm/v7"),
    *("linux/arm/v6", "linux/386", "linux/ppc64le", "linux/s390x", "linux/riscv64"),
    *("linux/loong64", "windows/amd64", "darwin/arm64", "freebsd/amd64"),
]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_platforms(platform: str) -> None:
    text = MINIMAL.replace("{name: app}", f"{{name: app, platforms: [{platform}]}}")
    assert valid(text).images[0].platforms == (platform,)


def test_enums_are_case_insensitive_and_normalised() -> None:
    text = yaml("""
        version: 1
        registry:
          type: ECR
          account: "123456789012"
          repository: {tag_mutability: mutable, encryption: {type: kms, kms_key: alias/ecr}}
        latest: Never
        images: [{name: app}]
        scan:
          thresholds: {critical: 0, High: 2}
          undefined_as: medium
    """)
    config = valid(text)
    assert config.registry.type == "ecr"
    assert config.registry.repository.tag_mutability == "MUTABLE"
    assert config.registry.repository.encryption.type == "KMS"
    assert config.latest == "never"
    assert config.scan.thresholds == {"CRITICAL": 0, "HIGH": 2}
    assert config.scan.undefined_as == "MEDIUM"


def test_other_registry_types() -> None:
    public = valid("version: 1\nregistry: {type: ecr-public, alias: acme}\nimages: [{name: app}]\n")
    assert public.registry.alias == "acme"
    generic = valid(
        yaml("""
        version: 1
        registry:
          type: generic
          url: ghcr.io/acme
          username_env: REG_USER
          password_env: REG_PASS
          endpoint: standard
          create_repositories: false
        images: [{name: app, repository: acme/app}]
    """)
    )
    assert generic.registry.url == "ghcr.io/acme"


def test_build_args_and_labels_accept_whole_numbers_and_quoted_text() -> None:
    text = MINIMAL.replace(
        "{name: app}", '{name: app, build_args: {PY: "3.10", N: 3}, labels: {team: web}}'
    )
    image = valid(text).images[0]
    assert image.build_args == {"PY": "3.10", "N": "3"}
    assert image.labels == {"team": "web"}


def test_yaml_anchors_and_merge_keys() -> None:
    # unknown keys are refused, so the anchor sits on the first image itself
    text = yaml("""
        version: 1
        registry: {account: "123456789012"}
        images:
          - &app
            name: app
            context: services
            platforms: [linux/amd64]
          - <<: *app
            name: web
    """)
    config = valid(text)
    assert [(i.name, i.context, i.platforms) for i in config.images] == [
        ("app", "services", ("linux/amd64",)),
        ("web", "services", ("linux/amd64",)),
    ]


def test_ignore_entries() -> None:
    text = MINIMAL + yaml("""
        scan:
          ignore:
            - id: CVE-2023-1234
              reason: not reachable
              expires: 2027-01-31
              images: [app, "ap*"]
              until_fixed: true
    """)
    entry = valid(text).scan.ignore[0]
    assert (str(entry.expires), entry.images, entry.until_fixed) == (
        "2027-01-31",
        ("app", "ap*"),
        True,
    )


def test_schema_of_platforms_is_published() -> None:
    schema = Config.model_json_schema()
    items = schema["$defs"]["Image"]["properties"]["platforms"]["items"]
    assert items["pattern"].startswith("^[a-z0-9]+/")


def test_two_images_may_be_written_back_into_one_manifest() -> None:
    # one kustomization listing backend and frontend: argocd-image-updater's usual shape
    text = yaml("""
        version: 1
        registry: {account: "123456789012"}
        images: [{name: backend}, {name: frontend}]
        deploy:
          - {type: manifest, image: backend, files: [deploy/kustomization.yaml]}
          - {type: manifest, image: frontend, files: [deploy/kustomization.yaml]}
          - {type: manifest, image: frontend, files: [deploy/kustomization.yaml]}
    """)
    found = [(p.path, p.message) for p in problems(text)]
    assert found == [("deploy[2]", "the same target as deploy[1]")]


def test_a_deploy_wait_of_zero_is_refused_up_front() -> None:
    # it would time out at once and roll back a rollout that had just started
    text = yaml("""
        version: 1
        registry: {account: "123456789012"}
        images: [{name: backend}]
        deploy:
          - {type: ecs, image: backend, cluster: prod, service: api, wait: 0s}
          - {type: eks, image: backend, context: k, deployment: api, wait: 0m}
    """)
    found = [(p.path, p.message) for p in problems(text)]
    assert [path for path, _ in found] == ["deploy[0].wait", "deploy[1].wait"]
    assert all("more than 0" in message for _, message in found), found


def test_an_ecs_service_named_once_by_name_and_once_by_arn_is_the_same_target() -> None:
    text = yaml("""
        version: 1
        registry: {account: "123456789012"}
        images: [{name: backend}]
        deploy:
          - {type: ecs, image: backend, cluster: prod, service: api}
          - type: ecs
            image: backend
            cluster: arn:aws:ecs:us-east-1:123456789012:cluster/prod
            service: arn:aws:ecs:us-east-1:123456789012:service/prod/api
    """)
    assert [(p.path, p.message) for p in problems(text)] == [
        ("deploy[1]", "the same target as deploy[0]")
    ]


def test_two_images_of_one_ecs_service_are_two_entries_deployed_together() -> None:
    # app + nginx sidecar in one task definition, the service named once by ARN
    text = yaml("""
        version: 1
        registry: {account: "123456789012"}
        images: [{name: app}, {name: nginx}]
        deploy:
          - {type: ecs, image: app, cluster: prod, service: web, wait: 15m}
          - type: ecs
            image: nginx
            cluster: arn:aws:ecs:us-east-1:123456789012:cluster/prod
            service: web
            wait: 900s
    """)
    config = valid(text)
    assert [(t.image, getattr(t, "wait", None)) for t in config.deploy] == [
        ("app", 900.0),
        ("nginx", 900.0),
    ]


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        (
            "{type: ecs, image: nginx, cluster: prod, service: web, wait: 5m}",
            [
                (
                    "deploy[1].wait",
                    "deploy[0] and deploy[1] deploy to one ECS service together, so their"
                    " `wait` must agree (the default vs '5m')",
                )
            ],
        ),
        (
            "{type: ecs, image: nginx, cluster: prod, service: web, rollback: false}",
            [
                (
                    "deploy[1].rollback",
                    "deploy[0] and deploy[1] deploy to one ECS service together, so their"
                    " `rollback` must agree (the default vs False)",
                )
            ],
        ),
        (
            "{type: ecs, image: nginx, cluster: prod, service: web,"
            " codedeploy: {application: a, deployment_group: g}}",
            [("deploy[1].codedeploy", None)],
        ),
        (
            "{type: ecs, image: nginx, cluster: prod, service: web, containers: ['sidecar,app']}",
            [
                (
                    "deploy[1].containers",
                    "container app is named by deploy[0] too: one container runs one image",
                )
            ],
        ),
        (
            "{type: ecs, image: app, cluster: prod, service: web, containers: [other]}",
            [("deploy[1]", "the same target as deploy[0]")],
        ),
    ],
    ids=["wait", "rollback", "codedeploy", "overlapping-containers", "same-image-twice"],
)
def test_ecs_entries_of_one_service_must_agree_and_not_share_containers(
    second: str, expected: list[tuple[str, str | None]]
) -> None:
    text = yaml(f"""
        version: 1
        registry: {{account: "123456789012"}}
        images: [{{name: app}}, {{name: nginx}}]
        deploy:
          - {{type: ecs, image: app, cluster: prod, service: web, containers: [app]}}
          - {second}
    """)
    found = [(p.path, p.message) for p in problems(text)]
    assert [path for path, _ in found] == [path for path, _ in expected]
    for (_, message), (_, want) in zip(found, expected, strict=True):
        if want is not None:
            assert message == want
        else:
            assert "deploy[0] and deploy[1]" in message
