"""pipeline: from a git commit to a released container image on AWS."""

from importlib import metadata as _metadata

#: The name on the Python package index (`pipeline` there is an unrelated project);
#: the import package and the command stay `pipeline`.
DISTRIBUTION = "pipeline-release"
#: Kept in step with pyproject.toml; read when the package runs from a source tree
#: that was never installed (PYTHONPATH=.), where there is no metadata.
_SOURCE_VERSION = "0.1.0"


def _version() -> str:
    try:
        return _metadata.version(DISTRIBUTION)
    except _metadata.PackageNotFoundError:
        return _SOURCE_VERSION


__version__ = _version()
