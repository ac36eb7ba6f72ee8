"""ECS clusters and services named by name or by ARN (ECS takes either)."""

from __future__ import annotations

import re

# arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME, service/NAME or service/CLUSTER/NAME
_ARN = re.compile(
    r"^arn:aws[a-z-]*:ecs:(?P<region>[a-z0-9-]+):\d{12}:(?:cluster|service)/(?P<path>.+)$"
)


def short_name(value: str) -> str:
    """A cluster's or service's name, also when given as its ARN."""
    match = _ARN.match(value)
    return match.group("path").rsplit("/", 1)[-1] if match else value


def arn_region(*values: str) -> str | None:
    """The region of the first ARN among `values`: where that cluster or service lives."""
    for value in values:
        match = _ARN.match(value)
        if match:
            return match.group("region")
    return None
