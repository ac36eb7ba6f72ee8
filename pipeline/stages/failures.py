"""How a stage words an image's failure: once, redacted, on stderr as well as in its result.

The run's summary on stdout repeats it, but stdout is often parsed or hidden:
the reason must reach the log a CI user reads.
"""

from __future__ import annotations

from pipeline import log
from pipeline.errors import PipelineError


def describe(name: str, error: BaseException | None, blocked_by: str | None = None) -> str:
    """The message for `name`'s failure (logged now), never a secret."""
    if blocked_by is not None:
        text = f"not built: {blocked_by} failed"
    elif isinstance(error, PipelineError):
        text = log.redact(str(error))
    else:
        text = log.redact(f"{type(error).__name__}: {error}")
    log.LOG.error("%s", text if text.startswith(f"{name}:") else f"{name}: {text}")
    return text
