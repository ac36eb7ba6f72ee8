"""A release with an ECS deploy, watched in a real terminal (tmux): the deploy stage, its
rollout news, and the deployments in the summary table."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.integration.deploy.test_run_deploy import (
    STAGES,
    ecs_service,
    ecs_target,
    project_for,
    repository,
)
from tests.integration.run.support import Project, pipeline_argv
from tests.integration.run.terminal import Pane, pane

__all__ = ["pane"]  # the fixture


def test_a_person_watching_a_deploy_sees_the_rollout_and_the_deployments_table(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    aws: Callable[[str], Any],
    cluster: str,
    unique: str,
    pane: Pane,
) -> None:
    ecs_service(aws("ecs"), cluster, "web", f"{repository(env, prefix)}:old", unique)
    project = project_for(make_project, prefix, [ecs_target(cluster, wait="60s")])

    seen, screen, code = pane.watch(pipeline_argv("run", *STAGES), env, project.root)

    assert code == 0, screen
    for stage in ("prepare", "build", "push", "scan", "gate", "promote", "deploy"):
        assert re.search(rf"^✓\s+{stage}\s+(\d+m)?\d+(\.\d)?s\s*$", screen, re.M), screen
    # the deploy code's news scrolls above the live lines, the rollout's counts included
    news = re.compile(re.escape(f"{cluster}/web: deployment") + r"[^\n]*\n?[^\n]*\d+/\d+\s+running")
    assert any(news.search(s) for s in seen), "\n=====\n".join(seen[-5:])
    assert "Run ok: build, push, scan, gate, promote, deploy" in screen
    assert re.search(
        r"^\s*app\s+sha256:[0-9a-f]{12}\s+sha-\w{7}.*\s+none\s+pass\s+completed", screen, re.M
    ), screen
    assert re.search(r"^\s*TARGET\s+TYPE\s+STATUS", screen, re.M), screen
    assert re.search(rf"^\s*{cluster}/web\s+ecs\s+completed", screen, re.M), screen
    # while it ran: the deploy stage's live line with the rollout's counts
    live = re.compile(r"^\S\s+deploy\s+\d+(\.\d)?s\s+\[\d+/\d+\] " + re.escape(cluster), re.M)
    assert any(live.search(s) for s in seen), "\n=====\n".join(seen[-5:])
