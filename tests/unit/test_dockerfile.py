"""The base images of a Dockerfile's FROM lines, build args substituted."""

from __future__ import annotations

import pytest

from pipeline import dockerfile

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        ("FROM alpine:3\n", {}, ["alpine:3"]),
        (f"FROM {ECR}/base:1 AS build\nFROM build\nRUN x\n", {}, [f"{ECR}/base:1"]),
        ("FROM scratch\n", {}, []),
        ("from SCRATCH as final\n", {}, []),
        ("ARG REG=docker.io\nFROM ${REG}/lib/x:1\n", {}, ["docker.io/lib/x:1"]),
        ("ARG REG=docker.io\nFROM ${REG}/lib/x:1\n", {"REG": ECR}, [f"{ECR}/lib/x:1"]),
        ("ARG TAG\nFROM x:${TAG:-3.12}\n", {}, ["x:3.12"]),
        ("ARG TAG\nFROM x:$TAG\n", {"TAG": "9"}, ["x:9"]),
        ("FROM $UNSET/x\n", {}, []),  # nothing known to log in to
        (
            "FROM --platform=$BUILDPLATFORM golang:1 AS b\nFROM --platform=linux/arm64 b\n",
            {},
            ["golang:1"],
        ),
        ("# FROM commented:1\nFROM \\\n  real:1 \\\n  AS s\n", {}, ["real:1"]),
        # an ARG after the first FROM belongs to a stage: it does not change FROM lines
        ("FROM a:1 AS one\nARG X=nope\nFROM $X\n", {}, ["a:1"]),
        ("FROM a:1 AS Base\nFROM base AS two\nFROM two\n", {}, ["a:1"]),
    ],
)
def test_base_images(text: str, args: dict[str, str], expected: list[str]) -> None:
    assert dockerfile.base_images(text, args) == expected


@pytest.mark.parametrize(
    ("ref", "host"),
    [
        ("alpine:3", "docker.io"),
        ("library/alpine", "docker.io"),
        (f"{ECR}/base:1", ECR),
        ("localhost/x", "localhost"),
        ("127.0.0.1:5000/x:1", "127.0.0.1:5000"),
        ("Public.ECR.aws/a/b", "public.ecr.aws"),
    ],
)
def test_registry_host_follows_dockers_rule(ref: str, host: str) -> None:
    assert dockerfile.registry_host(ref) == host
