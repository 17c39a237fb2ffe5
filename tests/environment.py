"""The test stack puts its ``TRACEFREEZE_*`` variables in the environment for the whole session
(tests/conftest.py); a test of the code's own defaults takes them away first."""

from __future__ import annotations

import os

import pytest

PREFIX = "TRACEFREEZE_"


def without_stack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every ``TRACEFREEZE_*`` variable for this test (restored after it)."""
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
