"""The worker's build in its Temporal identity (``TRACEFREEZE_BUILD``): the server records the
identity on every workflow task a worker completes, so a request's history says which build
took each step (the cluster's rolling-deploy drill reads it: tests/faults)."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from tracefreeze.config import Settings
from tracefreeze.worker import worker_identity


def test_the_identity_names_process_and_build() -> None:
    identity = worker_identity(Settings(build="2026.11.30-abc123"))
    assert identity.startswith(f"{os.getpid()}@")
    assert identity.endswith(" tracefreeze/2026.11.30-abc123")


def test_the_build_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACEFREEZE_BUILD", "v2")
    assert Settings().build == "v2"


@pytest.mark.parametrize("bad", ["", "a b", "x" * 65, "v1\nforged"])
def test_a_build_that_could_garble_the_identity_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        Settings(build=bad)
