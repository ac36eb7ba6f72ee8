"""The `pipeline run` fixtures (sandbox, registry, projects) for the build tests."""

from tests.integration.run.conftest import (  # noqa: F401
    ecr,
    env,
    home,
    make_project,
    prefix,
    registry,
    token,
)
