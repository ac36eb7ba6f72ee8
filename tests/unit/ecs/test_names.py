"""Clusters and services by name or by ARN."""

from __future__ import annotations

import pytest

from pipeline.ecs.names import arn_region, short_name


@pytest.mark.parametrize(
    ("value", "name", "region"),
    [
        ("prod", "prod", None),
        ("arn:aws:ecs:eu-west-1:123456789012:cluster/prod", "prod", "eu-west-1"),
        ("arn:aws:ecs:us-east-2:123456789012:service/prod/web", "web", "us-east-2"),
        ("arn:aws:ecs:us-east-1:123456789012:service/web", "web", "us-east-1"),  # old format
        ("arn:aws-cn:ecs:cn-north-1:123456789012:cluster/c", "c", "cn-north-1"),
        (
            "arn:aws:ecs:us-east-1:123:cluster/short-account",
            "arn:aws:ecs:us-east-1:123:cluster/short-account",
            None,
        ),
    ],
)
def test_names_and_regions_of_arns(value: str, name: str, region: str | None) -> None:
    assert short_name(value) == name
    assert arn_region(value) == region


def test_the_first_arn_gives_the_region() -> None:
    assert (
        arn_region("prod", "arn:aws:ecs:ap-south-1:123456789012:service/prod/web") == "ap-south-1"
    )
