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
