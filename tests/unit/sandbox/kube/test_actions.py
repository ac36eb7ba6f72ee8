"""The control channel's "fail-next/eks" action."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.sandbox.kube.actions import fail_next_action
from pipeline.sandbox.kube.api import KubeApi
from tests.unit.sandbox.kube.fakes import Clock, manifest


class Refused(Exception):
    pass


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock: Clock) -> Iterator[KubeApi]:
    server = KubeApi(port=0, clock=clock, tick=None)
    yield server
    server.stop()


def test_it_arms_an_existing_deployment_and_says_when_it_fails(api: KubeApi, clock: Clock) -> None:
    api.cluster.create("default", manifest())
    result = fail_next_action(api, Refused)({"namespace": "default", "deployment": "web"})
    assert result["deployment"] == "web"
    assert "ProgressDeadlineExceeded 3 s after it starts" in result["message"]
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}
    api.cluster.patch("default", "web", "application/strategic-merge-patch+json", patch)
    for _ in range(40):
        clock.now += 0.1
        api.cluster.tick()
    conditions = api.cluster.get("default", "web")["status"]["conditions"]
    assert conditions[1]["reason"] == "ProgressDeadlineExceeded"


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"deployment": "web"}, "needs a namespace"),
        ({"namespace": "default"}, "needs a deployment"),
        ({"namespace": "default", "deployment": 3}, "needs a deployment"),
        ({"namespace": "default", "deployment": "nope"}, 'no Deployment "nope"'),
        ({"namespace": "elsewhere", "deployment": "web"}, 'in namespace "elsewhere"'),
    ],
)
def test_bad_requests_raise_the_channels_error(
    api: KubeApi, request_body: dict[str, Any], message: str
) -> None:
    api.cluster.create("default", manifest())
    with pytest.raises(Refused, match=message):
        fail_next_action(api, Refused)(request_body)
