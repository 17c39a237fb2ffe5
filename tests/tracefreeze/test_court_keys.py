"""A Court key file made by the first process that needs it (the replay key, the request-id
key): two bridges started at the same moment on one machine (``make cluster-up``) must both
read the one whole key, never a file still being written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tracefreeze.security import court_keys
from tracefreeze.security.court_keys import MIN_KEY_BYTES, court_key

ENV = "TRACEFREEZE_TEST_COURT_KEY"
FILE = Path("keys") / "test-key"


def test_a_process_reading_while_another_makes_the_key_finds_none_or_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The precondition is built: the second process reads at the moment the first draws
    the key's random bytes (after the old code had already created the empty file)."""
    monkeypatch.delenv(ENV, raising=False)
    seen: list[bytes | None] = []
    real = os.urandom

    def drawing(n: int) -> bytes:
        seen.append(court_key(ENV, FILE, "test key", tmp_path))  # the other process
        return real(n)

    monkeypatch.setattr(court_keys.os, "urandom", drawing)
    made = court_key(ENV, FILE, "test key", tmp_path, ensure=True)
    assert seen == [None]
    assert made is not None and len(made) == MIN_KEY_BYTES
    assert court_key(ENV, FILE, "test key", tmp_path) == made
    assert stat.S_IMODE((tmp_path / FILE).stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / FILE).parent.iterdir()] == [FILE.name]


def test_the_first_key_made_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes both drew a key: the one linked first is the key of both."""
    monkeypatch.delenv(ENV, raising=False)
    first = court_key(ENV, FILE, "test key", tmp_path, ensure=True)
    court_keys._make(tmp_path / FILE)  # a late second maker
    assert court_key(ENV, FILE, "test key", tmp_path, ensure=True) == first
