"""`pipeline sandbox up|env|status|down|findings|fail-next`: a click group the main CLI registers.

Imports nothing but click at import time, so `pipeline --help` stays fast; the
rest is imported inside the commands. Errors are SandboxError, which the main
CLI turns into a message and exit code 1; bad arguments are usage errors
(exit code 2). `findings` and `fail-next` go to the running server over its
control channel (channel.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

# Kept in step with settings.Ports by tests/unit/sandbox/test_cli.py.
_PORTS = (
    ("aws", 5100, "the AWS API (moto): AWS_ENDPOINT_URL"),
    ("registry", 5101, "the registry as clients see it: PIPELINE_REGISTRY_HOST"),
    ("upstream", 5102, "docker-registry itself, behind the proxy"),
    ("webhook", 5103, "the registry's notification receiver"),
    ("control", 5104, "the control channel (findings, fail-next)"),
    ("kube", 5105, "the Kubernetes API emulation: KUBECONFIG's server"),
)


def _dir_option(func: F) -> F:
    return click.option(
        "--dir",
        "state_dir",
        type=click.Path(file_okay=False),
        default=None,
        help="State folder (env PIPELINE_SANDBOX_DIR; default .sandbox in the current directory).",
    )(func)


def _port_options(func: F) -> F:
    for name, default, what in reversed(_PORTS):
        env = f"PIPELINE_SANDBOX_{name.upper()}_PORT"
        func = click.option(
            f"--{name}-port",
            type=click.IntRange(0, 65535),
            default=None,
            help=f"Port of {what} (env {env}; default {default}; 0 picks a free one).",
        )(func)
    return func


@click.group(name="sandbox")
def sandbox() -> None:
    """Local AWS (ECR, ECS, EKS, STS, IAM, EC2 via moto), a real registry and a Kubernetes
    API, on loopback."""


@sandbox.command()
@_dir_option
@_port_options
@click.option("--region", default=None, help="The sandbox's AWS region (default us-east-1).")
@click.option("--timeout", default=20.0, show_default=True, help="Seconds to wait for start-up.")
def up(state_dir: str | None, region: str | None, timeout: float, **ports: int | None) -> None:
    """Start the sandbox in the background (does nothing if it runs already)."""
    from pipeline.sandbox.control import Sandbox
    from pipeline.sandbox.settings import REGION, Ports

    box = Sandbox(state_dir)
    chosen = Ports.resolve({name.removesuffix("_port"): port for name, port in ports.items()})
    result = box.up(chosen, region or REGION, timeout)
    verb = "started" if result.started else "already running"
    click.echo(f"sandbox {verb} in {box.dir}")
    _print_status(box)
    click.echo('use it with: eval "$(pipeline sandbox env)"')


@sandbox.command()
@_dir_option
def env(state_dir: str | None) -> None:
    """Print `export NAME=value` lines for a shell (`eval "$(pipeline sandbox env)"`)."""
    import shlex

    from pipeline.sandbox.control import Sandbox

    for name, value in Sandbox(state_dir).env().items():
        click.echo(f"export {name}={shlex.quote(value)}")


@sandbox.command()
@_dir_option
@click.pass_context
def status(ctx: click.Context, state_dir: str | None) -> None:
    """Say what runs where; exit code 1 when no sandbox runs."""
    from pipeline.sandbox.control import Sandbox

    box = Sandbox(state_dir)
    if not _print_status(box):
        click.echo(f"no sandbox runs in {box.dir}")
        ctx.exit(1)


@sandbox.command()
@_dir_option
def down(state_dir: str | None) -> None:
    """Stop everything the sandbox started and remove its state folder."""
    from pipeline.sandbox.control import Sandbox

    box = Sandbox(state_dir)
    if box.down():
        click.echo(f"sandbox stopped; {box.dir} removed")
    else:
        click.echo(f"no sandbox was running in {box.dir}")


@sandbox.command()
@_dir_option
@click.argument("target", metavar="REPOSITORY[:TAG]")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(dir_okay=False),
    help="JSON with findings or enhancedFindings, as DescribeImageScanFindings returns them "
    "(a whole saved response works too).",
)
@click.option(
    "--status",
    default=None,
    help="The scan's status once it is done: COMPLETE (default), FAILED, UNSUPPORTED_IMAGE, "
    "ACTIVE, SCAN_ELIGIBILITY_EXPIRED, FINDINGS_UNAVAILABLE, ... or any other word.",
)
@click.option(
    "--delay",
    default=0.0,
    type=click.FloatRange(0, 86400),
    show_default=True,
    help="Seconds the scan spends IN_PROGRESS first.",
)
def findings(
    state_dir: str | None, target: str, path: str, status: str | None, delay: float
) -> None:
    """Script the result of the next scan of an image.

    REPOSITORY:TAG or REPOSITORY@sha256:... names one image; REPOSITORY alone,
    the next image of that repository to be scanned. The scan starts when the
    image is pushed to a repository that scans on push, or at StartImageScan.
    """
    from pipeline.sandbox import findings as scripts
    from pipeline.sandbox.control import Sandbox

    try:
        where = scripts.Target.parse(target)
        script = scripts.script_from_document(scripts.read_document(path), status, delay, path)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    answer = Sandbox(state_dir).act("findings", scripts.to_payload(where, script))
    count = len(script.findings or []) + len(script.enhanced_findings or [])
    kind = "enhanced" if script.enhanced else "basic"
    after = f" after {delay:g} s IN_PROGRESS" if delay else ""
    replaced = " (replacing the one scripted before)" if answer.get("replaced") else ""
    click.echo(
        f"the next scan of {where} returns {script.status}{after} with {count} {kind} "
        f"finding(s){replaced}"
    )
    if answer.get("scanned_at"):
        click.echo(
            f"note: the image {where} names now was scanned at {answer['scanned_at']}; ECR "
            "scans an image once a day, so this result goes to the next image pushed there, "
            "or to a StartImageScan 24 hours after that scan"
        )


_FAIL_TARGETS = {
    "ecs": ("CLUSTER/SERVICE", "cluster", "service"),
    "eks": ("NAMESPACE/DEPLOYMENT", "namespace", "deployment"),
}


@sandbox.command(name="fail-next")
@_dir_option
@click.argument("kind", type=click.Choice(sorted(_FAIL_TARGETS)))
@click.argument("target")
@click.option(
    "--reason",
    default=None,
    help="ECS: the failed tasks' stoppedReason (default: Essential container in task exited).",
)
def fail_next(state_dir: str | None, kind: str, target: str, reason: str | None) -> None:
    """Make the next rollout of a target fail.

    ecs CLUSTER/SERVICE: its tasks fail and the deployment circuit breaker
    rolls back. eks NAMESPACE/DEPLOYMENT: the rollout exceeds its progress
    deadline.
    """
    from pipeline.sandbox.control import Sandbox

    shape, first, second = _FAIL_TARGETS[kind]
    left, slash, right = target.partition("/")
    if not (slash and left and right) or "/" in right:
        raise click.BadParameter(f"{target!r}: expected {shape}", param_hint="TARGET")
    request: dict[str, str] = {first: left, second: right}
    if reason is not None:
        if kind != "ecs":
            raise click.BadParameter("--reason applies to ecs targets only", param_hint="--reason")
        request["reason"] = reason
    Sandbox(state_dir).act(f"fail-next/{kind}", request)
    click.echo(f"the next rollout of {kind} {target} will fail")


def _print_status(box: Any) -> bool:
    state = box.status()
    if not state.running:
        return False
    click.echo(f"  state     {state.state_dir} (since {state.started_at})")
    click.echo(f"  region    {state.endpoints.region}, account {state.endpoints.account}")
    for part in state.components:
        pid = f"pid {part.pid}" if part.pid else ""
        health = "up" if part.answers else "NOT ANSWERING"
        click.echo(f"  {part.name:<18} {part.where:<28} {pid:<11} {health}")
    return True
