"""Fixtures of the deploy tests (helpers in deploy_files.py)."""

from __future__ import annotations

import pytest

from tests.environment import without_stack_environment
from tracefreeze.config import Settings


@pytest.fixture
def code(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The defaults of Settings, not the environment of this run (the stack fixture sets
    TRACEFREEZE_* variables for the whole session)."""
    without_stack_environment(monkeypatch)
    return Settings()
