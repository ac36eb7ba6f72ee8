"""Registry hosts: ECR in every partition and endpoint, ECR Public, any OCI registry.

Pure: from the config's registry section and the environment to the host and
image names. `PIPELINE_REGISTRY_HOST` (then `registry.host`) replaces only the
data-plane host; the namespace and repository stay, and ECR API calls still go
to AWS (or AWS_ENDPOINT_URL).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.config.schema import Registry
from pipeline.config.types import REGION_PATTERN
from pipeline.errors import ContextError

PUBLIC_HOST = "public.ecr.aws"
PUBLIC_DUALSTACK_HOST = "ecr-public.aws.com"
PUBLIC_REGION = "us-east-1"  # ECR Public's API lives only here


@dataclass(frozen=True)
class Partition:
    name: str
    suffix: str
    dualstack_suffix: str | None


_PARTITIONS: tuple[tuple[str, Partition], ...] = (
    (r"^cn-", Partition("aws-cn", "amazonaws.com.cn", "on.amazonwebservices.com.cn")),
    (r"^us-gov-", Partition("aws-us-gov", "amazonaws.com", "on.aws")),
    (r"^eusc-", Partition("aws-eusc", "amazonaws.eu", None)),
    (r"^us-isob-", Partition("aws-iso-b", "sc2s.sgov.gov", None)),
    (r"^us-isof-", Partition("aws-iso-f", "csp.hci.ic.gov", None)),
    (r"^us-iso-", Partition("aws-iso", "c2s.ic.gov", None)),
    (r"^eu-isoe-", Partition("aws-iso-e", "cloud.adc-e.uk", None)),
    (r"", Partition("aws", "amazonaws.com", "on.aws")),
)

# ECR's FIPS endpoints exist only in the US commercial and GovCloud regions
# (botocore endpoints.json, api.ecr); elsewhere `ecr-fips.<region>` does not resolve.
_FIPS_REGION = re.compile(r"us-(?:gov-)?(?:east|west)-\d+")

# From amazon-ecr-credential-helper: the only private ECR hosts there are.
ECR_HOST = re.compile(
    r"(\d{12})\.dkr[.-]ecr(-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\."
    r"(amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov"
    r"|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)",
    re.ASCII,
)
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::\d+)?", re.ASCII)


def partition(region: str) -> Partition:
    for pattern, part in _PARTITIONS:
        if re.match(pattern, region):
            return part
    raise AssertionError("the last pattern matches everything")


def ecr_host(account: str, region: str, endpoint: str = "standard") -> str:
    part = partition(region)
    if endpoint == "fips":
        if not _FIPS_REGION.fullmatch(region):
            raise ContextError(
                f"ECR has no FIPS endpoint in {region} ({part.name}); FIPS endpoints are in"
                " the us-east, us-west and us-gov regions"
            )
        return f"{account}.dkr.ecr-fips.{region}.{part.suffix}"
    if endpoint == "dualstack":
        if part.dualstack_suffix is None:
            raise ContextError(f"ECR has no dual-stack endpoint in {region} ({part.name})")
        return f"{account}.dkr-ecr.{region}.{part.dualstack_suffix}"
    return f"{account}.dkr.ecr.{region}.{part.suffix}"


@dataclass(frozen=True)
class RegistryTarget:
    type: str
    #: where images are pushed (after PIPELINE_REGISTRY_HOST / registry.host)
    host: str
    #: the registry's own name for itself (an ECR host even when overridden)
    canonical_host: str
    #: path before the repository (ECR Public alias, generic namespace)
    namespace: str
    region: str | None = None
    account: str | None = None
    endpoint: str = "standard"

    def image(self, repository: str) -> str:
        path = f"{self.namespace}/{repository}" if self.namespace else repository
        return f"{self.host}/{path}"

    def to_json(self) -> dict[str, object]:
        return {
            "type": self.type,
            "host": self.host,
            "canonical_host": self.canonical_host,
            "namespace": self.namespace or None,
            "region": self.region,
            "account": self.account,
            "endpoint": self.endpoint,
        }


def _region_from_env(env: Mapping[str, str]) -> str | None:
    """AWS_REGION, else AWS_DEFAULT_REGION; checked as registry.region is when the config
    loads, since it becomes a host name (`notaregion` made `...ecr.notaregion.amazonaws.com`)."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        value = env.get(name)
        if value:
            if not re.fullmatch(REGION_PATTERN, value):
                raise ContextError(
                    f"{name}={value!r} is not an AWS region name (like us-east-1);"
                    " fix the variable or set registry.region"
                )
            return value
    return None


def resolve(cfg: Registry, env: Mapping[str, str]) -> RegistryTarget:
    override = env.get("PIPELINE_REGISTRY_HOST") or cfg.host
    if override and not _HOST.fullmatch(override):
        # registry.host is checked when the config loads; the variable is not
        raise ContextError(
            f"PIPELINE_REGISTRY_HOST={override!r} is not a registry host: give host[:port],"
            " with no scheme or path"
        )
    if cfg.type == "ecr":
        region = cfg.region or _region_from_env(env)
        if not region:
            raise ContextError("registry.region is not set, nor AWS_REGION or AWS_DEFAULT_REGION")
        if not cfg.account:
            raise ContextError(
                'registry.account is required for type ecr (quote it: "123456789012")'
            )
        canonical = ecr_host(cfg.account, region, cfg.endpoint)
        return RegistryTarget(
            "ecr", override or canonical, canonical, "", region, cfg.account, cfg.endpoint
        )
    if cfg.type == "ecr-public":
        canonical = PUBLIC_DUALSTACK_HOST if cfg.endpoint == "dualstack" else PUBLIC_HOST
        return RegistryTarget(
            "ecr-public",
            override or canonical,
            canonical,
            cfg.alias or "",
            PUBLIC_REGION,
            endpoint=cfg.endpoint,
        )
    assert cfg.url, "checked when the config loads"
    host, _, namespace = cfg.url.partition("/")
    return RegistryTarget("generic", override or host, host, namespace.strip("/"))


def parse_ecr_host(host: str) -> tuple[str, str, bool, bool] | None:
    """(account, region, fips, dualstack) of a private ECR host; None otherwise.

    Matches the host only: `...amazonaws.com.evil.com` or a host hidden in a
    path do not count.
    """
    # fullmatch: `$` would accept a trailing newline; DNS names are case-insensitive
    match = ECR_HOST.fullmatch(host.lower())
    if not match:
        return None
    account, fips, region, suffix = match.groups()
    return account, region, bool(fips), suffix.startswith("on.")
