"""One root exception, a few leaves, and the exit code each one maps to.

The CLI maps these to exit codes in exactly one place (`cli.main`), so a stage
only has to raise the right class.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    STAGE_FAILED = 1
    USAGE = 2
    GATE_BLOCKED = 3
    INTERRUPTED = 130


class PipelineError(Exception):
    """Root of every error the pipeline raises on purpose."""

    exit_code: ExitCode = ExitCode.STAGE_FAILED


class UsageError(PipelineError):
    """Bad command-line usage, or a run that cannot start as asked."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """The configuration file is invalid; carries every problem found."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.render() for p in problems))


class ContextError(UsageError):
    """Git or CI facts needed by the configured rules are missing or contradictory."""


class StageError(PipelineError):
    """A stage (build, push, ...) failed."""

    exit_code = ExitCode.STAGE_FAILED


class BuildError(StageError):
    """An image failed to build."""


class PushError(StageError):
    """An image or tag could not be pushed."""


class RegistryError(StageError):
    """A registry or ECR call failed."""


class AuthError(StageError):
    """Credentials could not be obtained or were rejected."""


class DeployError(StageError):
    """A deploy target could not be read, updated or rolled out."""


class SandboxError(PipelineError):
    """The local sandbox could not be started, reached or stopped."""


class Interrupted(PipelineError):
    """The run was interrupted (Ctrl-C): work in flight stopped, nothing retried."""

    exit_code = ExitCode.INTERRUPTED


class ConfigProblem:
    """One located problem in a config file: `FILE:LINE:COL: key.path: message`."""

    __slots__ = ("column", "file", "line", "message", "path")

    def __init__(self, file: str, line: int, column: int, path: str, message: str) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message

    def render(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def __repr__(self) -> str:
        return f"ConfigProblem({self.render()!r})"
