"""`pipeline sandbox`: AWS (moto) and a real registry on loopback, kept in step.

The Python API for tests and scripts is `Sandbox(state_dir).up() / .env() /
.act(action, request) / .down()` (control.py). Imported lazily, so that
`pipeline.sandbox.cli` costs the CLI nothing but click.

Layout: settings (ports, env), control + processes (start/stop from outside),
channel (actions into the running server), server (the background process),
aws (moto, patched), distribution (the registry), sync + ecr + webhook (ECR <->
registry), proxy + ecr_rules (the front proxy and ECR's rules), findings +
scans + aws_scans (scripted ECR scans), rollouts + aws_ecs (ECS deployments
that move, task definitions that keep their fields). The fault-injecting proxy
hook the tests use lives in tests/faults.py, outside the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.sandbox.control import Sandbox, Status, Up
    from pipeline.sandbox.settings import Endpoints, Ports

__all__ = ["Endpoints", "Ports", "Sandbox", "Status", "Up"]


def __getattr__(name: str) -> Any:
    if name in ("Sandbox", "Status", "Up"):
        from pipeline.sandbox import control

        return getattr(control, name)
    if name in ("Endpoints", "Ports"):
        from pipeline.sandbox import settings

        return getattr(settings, name)
    raise AttributeError(name)
