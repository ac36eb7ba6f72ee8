"""Which registry hosts the helper answers for, and with which token. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipeline import registry

#: what docker matches to tell "no credentials here" from a failure
NOT_FOUND = "credentials not found in native keychain"


@dataclass(frozen=True)
class Served:
    host: str
    kind: str  # "private" | "public"
    region: str


def normalize(server_url: str) -> str:
    """`https://host:port/v2/` or `host` -> `host[:port]`, lower case."""
    text = server_url.strip()
    if "://" not in text:
        text = "//" + text
    try:
        parts = urlsplit(text)
        netloc = parts.netloc or parts.path.split("/")[0]
    except ValueError:
        return ""
    return netloc.rsplit("@", 1)[-1].lower()


def _region(env: Mapping[str, str]) -> str:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"


def served(server_url: str, env: Mapping[str, str]) -> Served | None:
    """The token that opens `server_url`, or None for a host this helper does not serve.

    ECR private (standard, FIPS, dual-stack, every partition), ECR Public, and
    the data-plane host that PIPELINE_REGISTRY_HOST names (the sandbox's
    registry, which takes the emulated ECR's token).
    """
    host = normalize(server_url)
    if not host:
        return None
    override = (env.get("PIPELINE_REGISTRY_HOST") or "").lower()
    if override and host == override:
        return Served(host, "private", _region(env))
    parsed = registry.parse_ecr_host(host)
    if parsed is not None:
        return Served(host, "private", parsed[1])
    if host in (registry.PUBLIC_HOST, registry.PUBLIC_DUALSTACK_HOST):
        return Served(host, "public", registry.PUBLIC_REGION)
    return None


def is_served(host: str, env: Mapping[str, str]) -> bool:
    return served(host, env) is not None
