"""A Court-held secret key: base64 of at least 32 random bytes, read from an environment
variable (a Secret in production) or else from ``<state_dir>/keys/<name>`` (one line, mode
0600), made with 32 random bytes by the first process that needs it — the local stack's way.
Used by the replay key (``tracefreeze.intake.replay_auth``) and the request-id key
(``tracefreeze.security.request_ids``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import tempfile
from pathlib import Path

from tracefreeze.errors import TracefreezeError

MIN_KEY_BYTES = 32


def court_key(
    env: str,
    file: Path,
    label: str,
    state_dir: Path | None = None,
    *,
    ensure: bool = False,
    unavailable: type[TracefreezeError] | None = None,
) -> bytes | None:
    """The key ``label`` from ``env``, else from ``state_dir / file`` (made if ``ensure``).

    None when neither holds it. If ``unavailable`` is given, a file that cannot be made
    raises it (naming ``env`` as the way out); otherwise the OSError passes through.
    """
    text = os.environ.get(env, "").strip()
    if not text:
        if state_dir is None:
            from tracefreeze.config import get_settings

            state_dir = get_settings().state_dir
        path = state_dir / file
        if ensure and not path.exists():
            try:
                _make(path)
            except OSError as err:
                if unavailable is None:
                    raise
                raise unavailable(f"cannot make the {label} {path}: {err}; set {env}") from err
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as err:
            raise TracefreezeError(f"cannot read the {label} {path}: {err}") from err
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise TracefreezeError(f"the {label} is not base64: {err}") from err
    if len(key) < MIN_KEY_BYTES:
        raise TracefreezeError(f"the {label} has {len(key)} bytes, fewer than 32")
    return key


def _make(path: Path) -> None:
    """Write the key beside ``path``, then link it into place: a process starting at the same
    moment (two bridges of one machine) finds no file or the whole key, never an empty one;
    the first link wins and every process reads that one key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(base64.b64encode(os.urandom(MIN_KEY_BYTES)).decode("ascii") + "\n")
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
