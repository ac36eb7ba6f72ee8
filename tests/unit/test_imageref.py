"""Image references, parsed and compared by repository."""

from __future__ import annotations

import pytest

from pipeline import imageref
from pipeline.imageref import ImageRef

D = "sha256:" + "e" * 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nginx", ImageRef("nginx")),
        ("nginx:1.27", ImageRef("nginx", "1.27")),
        ("localhost:5000/app", ImageRef("localhost:5000/app")),
        ("localhost:5000/app:1", ImageRef("localhost:5000/app", "1")),
        (f"127.0.0.1:5000/team/app@{D}", ImageRef("127.0.0.1:5000/team/app", None, D)),
        (f"r.example.com/app:1.2.3@{D}", ImageRef("r.example.com/app", "1.2.3", D)),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/myapp/backend:sha-abc1234",
            ImageRef("123456789012.dkr.ecr.us-east-1.amazonaws.com/myapp/backend", "sha-abc1234"),
        ),
        ("public.ecr.aws/alias/a/b/c", ImageRef("public.ecr.aws/alias/a/b/c")),
    ],
)
def test_parse(text: str, expected: ImageRef) -> None:
    assert imageref.parse(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize(
    "text",
    ["", "  ", "Nginx", "app:", "app@sha256:short", "{{ .Values.image }}", "a b", "app:t@x"],
)
def test_what_is_not_a_reference(text: str) -> None:
    assert imageref.parse(text) is None


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("nginx", "docker.io/library/nginx", True),
        ("library/nginx", "index.docker.io/library/nginx", True),
        ("acme/app", "docker.io/acme/app", True),
        ("r.example.com/app", "r.example.com/app", True),
        ("r.example.com/app", "r.example.com/app-worker", False),
        ("r.example.com/app", "r.example.com/team/app", False),
        ("r.example.com/app", "other.example.com/app", False),
        ("localhost:5000/app", "localhost:5001/app", False),
    ],
)
def test_same_repository(a: str, b: str, same: bool) -> None:
    assert imageref.same_repository(a, b) is same


def test_host_and_path() -> None:
    ref = imageref.parse("localhost:5000/team/app:1")
    assert ref is not None and (ref.host, ref.path) == ("localhost:5000", "team/app")
    hub = imageref.parse("team/app")
    assert hub is not None and (hub.host, hub.path) == (None, "team/app")


# As docker reads them: a port is never a tag, a digest is never cut; `name` is
# the registry's own spelling of the repository (lower-case host, Docker Hub spelled out).
NAMED = [
    ("nginx", "docker.io/library/nginx", None, None),
    ("nginx:1.27", "docker.io/library/nginx", "1.27", None),
    ("docker.io/nginx", "docker.io/library/nginx", None, None),
    ("index.docker.io/acme/app:v1", "docker.io/acme/app", "v1", None),
    ("acme/app", "docker.io/acme/app", None, None),
    ("host:5000/repo", "host:5000/repo", None, None),
    ("host:5000/repo:t", "host:5000/repo", "t", None),
    ("localhost/repo", "localhost/repo", None, None),
    (f"repo@{D}", "docker.io/library/repo", None, D),
    (f"repo:t@{D}", "docker.io/library/repo", "t", D),
    (f"host:5000/a/b:t@{D}", "host:5000/a/b", "t", D),
    ("public.ecr.aws/alias/a/b/c:1", "public.ecr.aws/alias/a/b/c", "1", None),
    ("Registry.Example.com/app", "registry.example.com/app", None, None),
    ("127.0.0.1:5260/sbx/app", "127.0.0.1:5260/sbx/app", None, None),
    ("[::1]:5000/app", "[::1]:5000/app", None, None),
    ("UPPER/app", "upper/app", None, None),  # upper case makes it a host, as in docker
]


@pytest.mark.parametrize(("text", "name", "tag", "digest"), NAMED, ids=[n[0][:40] for n in NAMED])
def test_parses_like_docker(text: str, name: str, tag: str | None, digest: str | None) -> None:
    ref = imageref.parse_strict(text)
    assert (ref.name, ref.tag, ref.digest) == (name, tag, digest)
    assert str(ref) == text


@pytest.mark.parametrize(
    "text",
    ["", "app/UPPER", "repo@sha256:short", "repo:bad tag", "repo:", "a//b", "host:5000/", "-x"],
)
def test_parse_strict_says_why_a_reference_is_rejected(text: str) -> None:
    with pytest.raises(imageref.BadReference):
        imageref.parse_strict(text)
    assert imageref.parse(text) is None


def test_same_repository_ignores_tag_and_digest() -> None:
    ref = imageref.parse_strict
    assert ref("h:5/r:1").same_repository(ref(f"h:5/r@{D}"))
    assert not ref("h:5/r").same_repository(ref("h:6/r"))
    assert not ref("h/r").same_repository(ref("h/r2"))


def test_by_digest_drops_the_tag_and_needs_a_digest() -> None:
    assert imageref.parse_strict(f"h:5/r:1@{D}").by_digest() == f"h:5/r@{D}"
    with pytest.raises(imageref.BadReference):
        imageref.parse_strict("h:5/r:1").by_digest()


def test_reference_is_the_digest_else_the_tag() -> None:
    assert imageref.parse_strict("h/r:1").reference() == "1"
    assert imageref.parse_strict(f"h/r:1@{D}").reference() == D
    assert imageref.parse_strict("h/r").reference() == "latest"
