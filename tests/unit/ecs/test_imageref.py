"""Image references parse as docker parses them: a port is never a tag, a digest never cut."""

from __future__ import annotations

import pytest

from pipeline.ecs.imageref import BadReference, ImageRef, parse

D = "sha256:" + "0123456789abcdef" * 4

PARSED = [
    ("nginx", ImageRef("docker.io", "library/nginx")),
    ("nginx:1.27", ImageRef("docker.io", "library/nginx", "1.27")),
    ("docker.io/nginx", ImageRef("docker.io", "library/nginx")),
    ("index.docker.io/acme/app:v1", ImageRef("docker.io", "acme/app", "v1")),
    ("acme/app", ImageRef("docker.io", "acme/app")),
    ("host:5000/repo", ImageRef("host:5000", "repo")),
    ("host:5000/repo:t", ImageRef("host:5000", "repo", "t")),
    ("localhost/repo", ImageRef("localhost", "repo")),
    (f"repo@{D}", ImageRef("docker.io", "library/repo", None, D)),
    (f"repo:t@{D}", ImageRef("docker.io", "library/repo", "t", D)),
    (f"host:5000/a/b:t@{D}", ImageRef("host:5000", "a/b", "t", D)),
    (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web:sha-1234567",
        ImageRef("123456789012.dkr.ecr.us-east-1.amazonaws.com", "shop/web", "sha-1234567"),
    ),
    ("public.ecr.aws/alias/a/b/c:1", ImageRef("public.ecr.aws", "alias/a/b/c", "1")),
    ("Registry.Example.com/app", ImageRef("registry.example.com", "app")),
    ("127.0.0.1:5260/sbx/app", ImageRef("127.0.0.1:5260", "sbx/app")),
    ("[::1]:5000/app", ImageRef("[::1]:5000", "app")),
    ("UPPER/app", ImageRef("upper", "app")),  # upper case makes it a host, as in docker
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[p[0][:40] for p in PARSED])
def test_parses_like_docker(text: str, expected: ImageRef) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "app/UPPER", "repo@sha256:short", "repo:bad tag", "repo:", "a//b", "host:5000/", "-x"],
)
def test_rejects_what_docker_rejects(text: str) -> None:
    with pytest.raises(BadReference):
        parse(text)


def test_same_repository_ignores_tag_and_digest() -> None:
    assert parse("h:5/r:1").same_repository(parse(f"h:5/r@{D}"))
    assert not parse("h:5/r").same_repository(parse("h:6/r"))
    assert not parse("h/r").same_repository(parse("h/r2"))


def test_by_digest_drops_the_tag_and_needs_a_digest() -> None:
    assert parse(f"h:5/r:1@{D}").by_digest() == f"h:5/r@{D}"
    with pytest.raises(BadReference):
        parse("h:5/r:1").by_digest()


def test_round_trips_to_text() -> None:
    assert str(parse(f"host:5000/a/b:t@{D}")) == f"host:5000/a/b:t@{D}"
    assert parse("h/r:1").reference() == "1"
    assert parse(f"h/r:1@{D}").reference() == D
