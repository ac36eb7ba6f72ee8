"""An eks target names an EKS cluster or a kubeconfig context, exactly one of them."""

from __future__ import annotations

import pytest

from tests.unit.config.helpers import problems, valid, yaml

HEAD = """\
version: 1
registry: {account: "123456789012"}
images: [{name: app}]
deploy:
"""


@pytest.mark.parametrize(
    ("target", "cluster", "context"),
    [
        ("{type: eks, image: app, cluster: prod, deployment: app}", "prod", None),
        ("{type: eks, image: app, context: kind-dev, deployment: app}", None, "kind-dev"),
    ],
)
def test_an_eks_target_takes_a_cluster_or_a_context(
    target: str, cluster: str | None, context: str | None
) -> None:
    config = valid(HEAD + f"  - {target}\n")
    eks = config.deploy[0]
    assert eks.type == "eks"
    assert (eks.cluster, eks.context) == (cluster, context)


@pytest.mark.parametrize(
    ("target", "where"),
    [
        ("{type: eks, image: app, deployment: app}", (5, 12, "deploy[0].type")),
        (
            "{type: eks, image: app, cluster: prod, context: kind-dev, deployment: app}",
            (5, 38, "deploy[0].cluster"),
        ),
    ],
)
def test_neither_or_both_is_a_located_error(target: str, where: tuple[int, int, str]) -> None:
    found = problems(yaml(HEAD + f"  - {target}\n"))
    assert [(p.line, p.column, p.path) for p in found] == [where]
    assert "exactly one of `cluster` (an EKS cluster) or `context`" in found[0].message


def test_the_same_deployment_in_two_contexts_is_two_targets() -> None:
    config = valid(
        HEAD
        + "  - {type: eks, image: app, context: a, deployment: app}\n"
        + "  - {type: eks, image: app, context: b, deployment: app}\n"
    )
    assert len(config.deploy) == 2
