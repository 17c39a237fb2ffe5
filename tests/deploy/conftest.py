"""Fixtures of the deploy tests (helpers in deploy_files.py)."""

from __future__ import annotations

import os

import pytest

from tracefreeze.config import Settings


@pytest.fixture
def code(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The defaults of Settings, not the environment of this run (the stack fixture sets
    TRACEFREEZE_* variables for the whole session)."""
    for name in list(os.environ):
        if name.startswith("TRACEFREEZE_"):
            monkeypatch.delenv(name)
    return Settings()
