"""The organs' signing keys for the test session: one per organ and the workers' relay key,
made once in a temporary folder and named by the environment, so the time-skipping workers,
the isolated stack's worker, the Court's client and the tests sign and verify with the same
registry (``tracefreeze/security/organ_keys.py``). Valid from 2000, with no end: the tests'
decisions are dated from 2002 on (RS 126) and the test server skips years ahead."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from schemas.organ_keys import OrganKeys
from tracefreeze.security.organ_keys import DIR_ENV, FILE_ENV, ensure_organ_keys

SINCE = datetime(2000, 1, 1, tzinfo=UTC)


def install() -> OrganKeys:
    """Keys for this session (or those the environment already names)."""
    if FILE_ENV not in os.environ:
        folder = Path(tempfile.mkdtemp(prefix="tf-organ-keys-"))
        os.environ[FILE_ENV] = str(folder / "organ-keys.toml")
        os.environ[DIR_ENV] = str(folder / "organs")
    return ensure_organ_keys(Path(os.environ[FILE_ENV]).parent, SINCE)


KEYS = install()
