"""Release tests run in a clean environment, like the tag tests (no CI variables, no git config)."""

from tests.unit.tags.conftest import _isolated

__all__ = ["_isolated"]
