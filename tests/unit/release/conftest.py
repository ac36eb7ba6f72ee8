"""Release tests run in a clean environment, like the tag tests (no CI variables, no git config)."""

import pytest


@pytest.fixture(autouse=True)
def _isolated(clean_environment: None) -> None:
    """Every release test: see tests/unit/conftest.py."""
