"""Registry hosts: ECR in every partition and endpoint, ECR Public, generic registries."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline import registry
from pipeline.config.schema import Registry
from pipeline.errors import ContextError

pytestmark = pytest.mark.usefixtures("clean_environment")

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("region", "endpoint", "host"),
    [
        ("us-east-1", "standard", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        ("eu-west-1", "standard", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
        ("us-east-1", "fips", "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com"),
        ("us-west-2", "fips", "123456789012.dkr.ecr-fips.us-west-2.amazonaws.com"),
        ("us-east-1", "dualstack", "123456789012.dkr-ecr.us-east-1.on.aws"),
        ("ap-southeast-2", "dualstack", "123456789012.dkr-ecr.ap-southeast-2.on.aws"),
        ("cn-north-1", "standard", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
        (
            "cn-northwest-1",
            "dualstack",
            "123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn",
        ),
        ("us-gov-west-1", "standard", "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com"),
        ("us-gov-east-1", "fips", "123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com"),
        ("us-gov-west-1", "dualstack", "123456789012.dkr-ecr.us-gov-west-1.on.aws"),
        ("eusc-de-east-1", "standard", "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu"),
        ("us-iso-east-1", "standard", "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov"),
        ("us-isob-east-1", "standard", "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov"),
        ("eu-isoe-west-1", "standard", "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk"),
        ("us-isof-south-1", "standard", "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov"),
    ],
)
def test_ecr_host(region: str, endpoint: str, host: str) -> None:
    assert registry.ecr_host(ACCOUNT, region, endpoint) == host
    # every host we build is one we recognise, with the same facts
    assert registry.parse_ecr_host(host) == (
        ACCOUNT,
        region,
        endpoint == "fips",
        endpoint == "dualstack",
    )


@pytest.mark.parametrize(
    ("region", "endpoint", "message"),
    [
        ("cn-north-1", "fips", "no FIPS endpoint in cn-north-1"),
        ("eu-west-1", "fips", "no FIPS endpoint in eu-west-1"),
        ("eusc-de-east-1", "fips", "no FIPS endpoint"),
        ("eusc-de-east-1", "dualstack", "no dual-stack endpoint in eusc-de-east-1"),
        ("us-iso-east-1", "dualstack", "no dual-stack endpoint"),
    ],
)
def test_ecr_host_refuses_endpoints_that_do_not_exist(
    region: str, endpoint: str, message: str
) -> None:
    with pytest.raises(ContextError, match=message):
        registry.ecr_host(ACCOUNT, region, endpoint)


@pytest.mark.parametrize(
    ("host", "parsed"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", (ACCOUNT, "us-east-1", False, False)),
        ("123456789012.dkr.ecr-fips.us-east-2.amazonaws.com", (ACCOUNT, "us-east-2", True, False)),
        ("123456789012.dkr-ecr.eu-west-1.on.aws", (ACCOUNT, "eu-west-1", False, True)),
        ("123456789012.dkr-ecr-fips.us-west-1.on.aws", (ACCOUNT, "us-west-1", True, True)),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", (ACCOUNT, "cn-north-1", False, False)),
        (
            "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
            (ACCOUNT, "cn-north-1", False, True),
        ),
        (
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            (ACCOUNT, "us-gov-west-1", True, False),
        ),
        (
            "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
            (ACCOUNT, "eusc-de-east-1", False, False),
        ),
        ("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", (ACCOUNT, "us-iso-east-1", False, False)),
        ("123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM", (ACCOUNT, "us-east-1", False, False)),
    ],
)
def test_parse_ecr_host(host: str, parsed: tuple[str, str, bool, bool]) -> None:
    assert registry.parse_ecr_host(host) == parsed


@pytest.mark.parametrize(
    "host",
    [
        "1234.dkr.ecr.us-east-1.amazonaws.com",  # not 12 digits
        "1234567890123.dkr.ecr.us-east-1.amazonaws.com",
        "x123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com",
        "evil.com/123456789012.dkr.ecr.us-east-1.amazonaws.com",  # a host only in the path
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/myapp",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com\n",
        "123456789012.dkr.ecr.us-east-1.amazonaws.org",
        "123456789012.ecr.us-east-1.amazonaws.com",
        "public.ecr.aws",
        "ghcr.io",
        "",
    ],
)
def test_parse_ecr_host_rejects(host: str) -> None:
    assert registry.parse_ecr_host(host) is None


def _registry(**fields: Any) -> Registry:
    return Registry.model_validate(fields)


@pytest.mark.parametrize(
    ("config", "env", "expected"),
    [
        (
            {"type": "ecr", "account": ACCOUNT, "region": "eu-west-1"},
            {"AWS_REGION": "us-east-1"},  # the config's region wins
            ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "eu-west-1", ""),
        ),
        (
            {"type": "ecr", "account": ACCOUNT},
            {"AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "us-west-2"},
            ("123456789012.dkr.ecr.ap-south-1.amazonaws.com", "ap-south-1", ""),
        ),
        (
            {"type": "ecr", "account": ACCOUNT},
            {"AWS_DEFAULT_REGION": "us-west-2"},
            ("123456789012.dkr.ecr.us-west-2.amazonaws.com", "us-west-2", ""),
        ),
        (
            {"type": "ecr", "account": ACCOUNT, "region": "us-gov-west-1", "endpoint": "fips"},
            {},
            ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", ""),
        ),
        (
            {"type": "ecr", "account": ACCOUNT, "region": "cn-north-1", "endpoint": "dualstack"},
            {},
            ("123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn", "cn-north-1", ""),
        ),
        (
            {"type": "ecr-public", "alias": "myalias"},
            {"AWS_REGION": "eu-west-1"},  # ECR Public lives in us-east-1 only
            ("public.ecr.aws", "us-east-1", "myalias"),
        ),
        (
            {"type": "ecr-public", "alias": "myalias", "endpoint": "dualstack"},
            {},
            ("ecr-public.aws.com", "us-east-1", "myalias"),
        ),
        ({"type": "generic", "url": "ghcr.io/acme"}, {}, ("ghcr.io", None, "acme")),
        ({"type": "generic", "url": "localhost:5000"}, {}, ("localhost:5000", None, "")),
        (
            {"type": "generic", "url": "registry.example.com:8443/team/sub"},
            {},
            ("registry.example.com:8443", None, "team/sub"),
        ),
    ],
)
def test_resolve(
    config: dict[str, Any], env: dict[str, str], expected: tuple[str, str | None, str]
) -> None:
    target = registry.resolve(_registry(**config), env)
    assert (target.host, target.region, target.namespace) == expected
    assert target.canonical_host == target.host


@pytest.mark.parametrize(
    ("config", "image"),
    [
        (
            {"type": "ecr", "account": ACCOUNT, "region": "us-east-1"},
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/myapp/backend",
        ),
        ({"type": "ecr-public", "alias": "myalias"}, "public.ecr.aws/myalias/myapp/backend"),
        ({"type": "generic", "url": "ghcr.io/acme"}, "ghcr.io/acme/myapp/backend"),
        ({"type": "generic", "url": "localhost:5000"}, "localhost:5000/myapp/backend"),
    ],
)
def test_image(config: dict[str, Any], image: str) -> None:
    assert registry.resolve(_registry(**config), {}).image("myapp/backend") == image


@pytest.mark.parametrize(
    ("config", "env", "host", "image"),
    [
        (
            {"type": "ecr", "account": ACCOUNT, "region": "us-east-1", "host": "127.0.0.1:5000"},
            {},
            "127.0.0.1:5000",
            "127.0.0.1:5000/myapp/backend",
        ),
        (
            {"type": "ecr", "account": ACCOUNT, "region": "us-east-1", "host": "127.0.0.1:5000"},
            {"PIPELINE_REGISTRY_HOST": "localhost:6000"},  # the environment wins
            "localhost:6000",
            "localhost:6000/myapp/backend",
        ),
        (
            {"type": "ecr-public", "alias": "myalias"},
            {"PIPELINE_REGISTRY_HOST": "127.0.0.1:5000"},
            "127.0.0.1:5000",
            "127.0.0.1:5000/myalias/myapp/backend",  # the namespace stays
        ),
        (
            {"type": "generic", "url": "ghcr.io/acme", "host": "mirror.local"},
            {},
            "mirror.local",
            "mirror.local/acme/myapp/backend",
        ),
    ],
)
def test_host_override(config: dict[str, Any], env: dict[str, str], host: str, image: str) -> None:
    target = registry.resolve(_registry(**config), env)
    assert (target.host, target.image("myapp/backend")) == (host, image)
    assert target.canonical_host != target.host  # still the registry's own name


@pytest.mark.parametrize(
    ("config", "env", "message"),
    [
        ({"type": "ecr", "account": ACCOUNT}, {}, "AWS_REGION"),
        # the config's region is checked when it loads; the variables are not
        (
            {"type": "ecr", "account": ACCOUNT},
            {"AWS_REGION": "notaregion"},
            "AWS_REGION='notaregion' is not an AWS region",
        ),
        (
            {"type": "ecr", "account": ACCOUNT},
            {"AWS_DEFAULT_REGION": "us-east-1/../x"},
            "AWS_DEFAULT_REGION='us-east-1/../x' is not an AWS region",
        ),
        (
            {"type": "ecr", "account": ACCOUNT, "region": "eu-west-1", "endpoint": "fips"},
            {},
            "no FIPS endpoint",
        ),
        (
            {"type": "generic", "url": "ghcr.io/acme"},
            {"PIPELINE_REGISTRY_HOST": "http://127.0.0.1:5000"},
            "PIPELINE_REGISTRY_HOST",
        ),
        (
            {"type": "generic", "url": "ghcr.io/acme"},
            {"PIPELINE_REGISTRY_HOST": "127.0.0.1:5000/ns"},
            "no scheme or path",
        ),
    ],
)
def test_resolve_errors(config: dict[str, Any], env: dict[str, str], message: str) -> None:
    with pytest.raises(ContextError, match=message):
        registry.resolve(_registry(**config), env)
