"""What the policy is built from: `needs()` reads the config and the region as a run does."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pipeline.ci.iam import EcsNeed, EksNeed, Needs, needs
from pipeline.ci.iam.needs import _codedeploy
from tests.unit.config.helpers import valid, yaml

IMAGES = """
images:
  - {name: api, repository: acme/api}
  - {name: web}
  - {name: worker, repository: acme/api, dockerfile: Dockerfile.worker}
"""


def read(text: str, env: dict[str, str] | None = None) -> Needs:
    return needs(valid("version: 1\n" + text), env or {})


def test_ecr_with_everything() -> None:
    registry = yaml("""
        registry:
          type: ecr
          account: "123456789012"
          region: eu-west-1
          create_repositories: true
          repository: {encryption: {type: KMS, kms_key: alias/ecr}}
    """)
    deploy = yaml("""
        deploy:
          - {type: ecs, image: api, cluster: prod, service: api}
          - {type: ecs, image: web, cluster: dr, service: web, region: us-west-2}
          - {type: eks, image: api, cluster: k8s, deployment: api}
          - {type: manifest, image: web, files: [k.yaml]}
    """)
    got = read(registry + IMAGES + deploy, env={"AWS_REGION": "ap-south-1"})
    assert got == Needs(
        registry="ecr",
        region="eu-west-1",
        account="123456789012",
        repositories=("acme/api", "web"),
        create_repositories=True,
        lifecycle_policy=False,
        kms=True,
        kms_key="alias/ecr",
        scan=True,
        ecs=(EcsNeed("eu-west-1", "prod", "api"), EcsNeed("us-west-2", "dr", "web")),
        eks=(EksNeed("eu-west-1", "k8s"),),
    )


@pytest.mark.parametrize(
    ("env", "region"),
    [
        ({}, None),
        ({"AWS_DEFAULT_REGION": "eu-north-1"}, "eu-north-1"),
        ({"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "eu-north-1"}, "us-east-2"),
    ],
)
def test_region_falls_back_to_the_environment(env: dict[str, str], region: str | None) -> None:
    got = read(
        'registry: {type: ecr, account: "123456789012"}\n'
        + IMAGES
        + "deploy:\n  - {type: ecs, image: api, cluster: c, service: s}\n",
        env,
    )
    assert got.region == region
    assert got.ecs[0].region == region


@pytest.mark.parametrize(
    "registry",
    ["registry: {type: ecr-public, alias: acme}", "registry: {type: generic, url: ghcr.io/a}"],
)
def test_other_registries_have_no_ecr_account_region_creation_or_scan(registry: str) -> None:
    # no scan section: scanning is off there (asking for it is a config error)
    got = read(registry + IMAGES, {"AWS_REGION": "eu-west-1"})
    assert (got.account, got.region, got.create_repositories, got.scan) == (
        None,
        None,
        False,
        False,
    )
    assert got.repositories == ("acme/api", "web")


def test_scan_disabled_needs_no_scan_actions() -> None:
    got = read(
        'registry: {type: ecr, account: "123456789012", region: eu-west-1}'
        + IMAGES
        + "scan: {enabled: false}\n"
    )
    assert got.scan is False


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (SimpleNamespace(codedeploy=None), None),
        (
            SimpleNamespace(codedeploy=SimpleNamespace(application="app", deployment_group="prod")),
            ("app", "prod"),
        ),
    ],
)
def test_codedeploy_names_the_application_and_group(target: Any, expected: Any) -> None:
    assert _codedeploy(target) == expected


def test_ecs_targets_given_as_arns_need_their_names_in_the_arns_region() -> None:
    need = read(
        'registry: {type: ecr, account: "123456789012", region: us-east-1}\n'
        + IMAGES
        + "deploy:\n"
        + "  - {type: ecs, image: api, cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',"
        + " service: web}\n"
        + "  - {type: ecs, image: api, cluster: c2,"
        + " service: 'arn:aws:ecs:us-east-2:123456789012:service/c2/api'}\n"
    )
    assert need.ecs == (
        EcsNeed("eu-west-1", "prod", "web", None),
        EcsNeed("us-east-2", "c2", "api", None),
    )
