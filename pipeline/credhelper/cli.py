"""`pipeline credential-helper install`: the `credHelpers` line for a docker config.

Later workflow steps (a `docker pull`, a compose file) then log in to the
config's registries through `docker-credential-pipeline`, in place of a
`docker login` that would leave the token in ~/.docker/config.json.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click


@click.group("credential-helper")
def credential_helper() -> None:
    """docker-credential-pipeline: ECR logins for docker with no token on disk."""


@credential_helper.command()
@click.option(
    "-f",
    "--file",
    "file_",
    type=click.Path(dir_okay=False),
    default="pipeline.yaml",
    help="Config file (default: pipeline.yaml).",
)
def install(file_: str) -> None:
    """Print the credHelpers entry naming `pipeline` for the config's registry hosts."""
    from pipeline import app, dockerfile, registry
    from pipeline.credhelper.config_dir import HELPER
    from pipeline.credhelper.hosts import is_served

    env = dict(os.environ)
    path = Path(file_)
    config = app.load_config(app.Source(path), env)
    target = registry.resolve(config.registry, env)
    hosts = [target.host, target.canonical_host, *config.registry.pull_from]
    for image in config.images:
        file = path.resolve().parent / image.context / image.dockerfile
        try:
            text = file.read_text(errors="replace")
        except OSError:
            continue
        hosts += [
            dockerfile.registry_host(r) for r in dockerfile.base_images(text, image.build_args)
        ]
    served = sorted({h.lower() for h in hosts if is_served(h, env)})
    click.echo(json.dumps({"credHelpers": {h: HELPER for h in served}}))
