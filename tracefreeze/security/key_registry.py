"""The State key registry: the States' public keys by key id, and the file they are read from.

A TOML file of the States' public keys, several per State for rotation, each with a validity
window (see ``load_registry``). Path: ``$TRACEFREEZE_STATE_KEYS_FILE``, default
``<state_dir>/keys/state-keys.toml``, i.e. ``.state/keys/state-keys.toml`` in the repository.
Only canonical keys of the prime-order subgroup are taken
(``tracefreeze/security/ed25519_keys.py``):
a small-order key such as the identity point would verify a forged signature on any answer.
The bridge re-reads the file when it changes (``RegistryFile``): a new State key takes effect
without a restart, and a file that no longer loads keeps the last good registry (logged).
``python -m tracefreeze.security.signing keygen`` makes a demo key pair and adds its public
key here (``add_key``; never committed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from schemas.common import StateCode
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.routing import summarize
from tracefreeze.security.ed25519_keys import public_key_problem

KEYS_FILE_ENV = "TRACEFREEZE_STATE_KEYS_FILE"
DEFAULT_KEYS_FILE = Path("keys") / "state-keys.toml"
"""Relative to the settings' ``state_dir``: ``.state/keys/state-keys.toml`` by default."""

KeyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class PublicKeyEntry(BaseModel):
    """One Ed25519 public key, valid from ``not_before`` until ``not_after`` (if any): what a
    State's key (``StateKey``) and an organ's key (``tracefreeze/security/organ_keys.py``)
    have in common."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: KeyId
    public_key: str = Field(description="Base64 (standard) of the raw 32-byte Ed25519 key")
    not_before: AwareDatetime
    not_after: AwareDatetime | None = None

    @field_validator("public_key")
    @classmethod
    def _raw_ed25519(cls, value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as err:
            raise ValueError(f"not base64: {err}") from err
        problem = public_key_problem(raw)
        if problem:
            raise ValueError(f"not an acceptable Ed25519 public key: {problem}")
        Ed25519PublicKey.from_public_bytes(raw)  # raises ValueError if not a key
        return value

    @model_validator(mode="after")
    def _window(self) -> PublicKeyEntry:
        if self.not_after is not None and self.not_after <= self.not_before:
            raise ValueError(f"key {self.key_id}: not_after must be later than not_before")
        return self

    def verifier(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))

    def valid_at(self, when: datetime) -> bool:
        return self.not_before <= when and (self.not_after is None or when < self.not_after)

    def window(self) -> str:
        end = self.not_after.isoformat() if self.not_after else "no end"
        return f"[{self.not_before.isoformat()}, {end})"


class StateKey(PublicKeyEntry):
    """One public key of one State, valid from ``not_before`` until ``not_after`` (if any)."""

    state: StateCode


class KeyRegistry(BaseModel):
    """The States' public keys; rotation = several keys per State with their windows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keys: tuple[StateKey, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> KeyRegistry:
        ids = [k.key_id for k in self.keys]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"key ids must be unique; repeated: {', '.join(dupes)}")
        return self

    def get(self, key_id: str) -> StateKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)

    def for_state(self, state: str) -> tuple[StateKey, ...]:
        return tuple(k for k in self.keys if k.state == state)


def state_keys_file(state_dir: Path | None = None) -> Path:
    """``$TRACEFREEZE_STATE_KEYS_FILE``, else ``<state_dir>/keys/state-keys.toml``."""
    env = os.environ.get(KEYS_FILE_ENV)
    if env:
        return Path(env)
    if state_dir is None:
        from tracefreeze.config import get_settings

        state_dir = get_settings().state_dir
    return state_dir / DEFAULT_KEYS_FILE


def load_registry(path: Path | None = None) -> KeyRegistry:
    """Read the registry TOML: one ``[[keys]]`` table per key, e.g.

    .. code-block:: toml

        [[keys]]
        key_id = "nld-2026-1"
        state = "NLD"
        public_key = "base64 of the raw 32-byte key"
        not_before = 2026-01-01T00:00:00Z
        not_after = 2027-01-01T00:00:00Z   # optional: no end

    A missing or invalid file is a ``TracefreezeError``: a bridge that cannot verify any
    answer must not start.
    """
    path = path or state_keys_file()
    return parse_registry(_read_registry(path), path)


def _read_registry(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as err:
        raise TracefreezeError(
            f"no State key registry at {path}; set {KEYS_FILE_ENV} or make a demo key with "
            "`python -m tracefreeze.security.signing keygen --state NLD --key-id nld-demo-1 "
            "--out-dir <dir>`"
        ) from err
    except OSError as err:
        raise TracefreezeError(f"cannot read the State key registry {path}: {err}") from err


def parse_registry(raw: bytes, path: Path) -> KeyRegistry:
    """The registry in ``raw`` (the TOML of ``load_registry``), read from ``path``."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise TracefreezeError(f"cannot read the State key registry {path}: {err}") from err
    try:
        return KeyRegistry.model_validate(data)
    except ValidationError as err:
        raise TracefreezeError(f"State key registry {path}: {summarize(err)}") from err


class RegistryFile:
    """The registry file, re-read when it changes: ``current()`` is the registry to use.

    At most once per ``check_every_s`` it compares the file's (mtime, size, inode) with the
    last read; if they differ it reads the file and compares its SHA-256; if that differs it
    parses it. A registry that loads replaces the old one in one reference swap (a check in
    flight keeps the registry it started with); one that does not is logged through
    ``on_error`` and the last good registry stays in force (fail safe: a broken edit never
    stops verification, nor lets anything through). Loading at start must succeed.
    """

    def __init__(
        self,
        path: Path,
        check_every_s: float = 1.0,
        on_change: Callable[[str], None] = lambda _: None,
        on_error: Callable[[str], None] = lambda _: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path, self.check_every_s, self.clock = path, check_every_s, clock
        self._on_change, self._on_error = on_change, on_error
        self._lock = threading.Lock()
        stamp = self._stamp()
        raw = _read_registry(path)
        self._registry = parse_registry(raw, path)
        self._digest, self._seen_stamp = hashlib.sha256(raw).digest(), stamp
        self._checked = clock()

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def current(self) -> KeyRegistry:
        now = self.clock()
        if now - self._checked < self.check_every_s or not self._lock.acquire(blocking=False):
            return self._registry
        try:
            self._checked = now
            stamp = self._stamp()
            if stamp == self._seen_stamp:
                return self._registry
            self._seen_stamp = stamp
            try:
                raw = _read_registry(self.path)
            except TracefreezeError as err:
                self._on_error(f"{err}; keeping the last good registry")
                return self._registry
            digest = hashlib.sha256(raw).digest()
            if digest == self._digest:
                return self._registry
            try:
                registry = parse_registry(raw, self.path)
            except TracefreezeError as err:
                self._on_error(f"{err}; keeping the last good registry")
                return self._registry
            before = {k.key_id for k in self._registry.keys}
            after = {k.key_id for k in registry.keys}
            self._registry, self._digest = registry, digest
            self._on_change(
                f"State key registry {self.path} reloaded: {len(after)} keys"
                f" (added: {', '.join(sorted(after - before)) or 'none'};"
                f" removed: {', '.join(sorted(before - after)) or 'none'})"
            )
            return registry
        finally:
            self._lock.release()


def add_key(registry_file: Path, key: StateKey) -> None:
    """Append ``key`` to the registry file (made if missing); what was written must read
    back as a registry."""
    append_table(registry_file, registry_entry(key))
    load_registry(registry_file)


def append_table(registry_file: Path, table: str) -> None:
    """Append one ``[[keys]]`` table to a key registry file (made if missing), a blank line
    before it when the file has content already (State and organ registries alike)."""
    registry_file.parent.mkdir(parents=True, exist_ok=True)
    with registry_file.open("a", encoding="utf-8") as f:
        if registry_file.stat().st_size:
            f.write("\n")
        f.write(table)


def key_table(
    holder: tuple[str, str],
    key_id: str,
    public_key: str,
    not_before: datetime,
    not_after: datetime | None,
) -> str:
    """One ``[[keys]]`` table of a key registry file; ``holder`` is the field naming whose
    key it is and its value (``("state", "NLD")``, or ``("organ", ...)`` for an organ's)."""

    def stamp(when: datetime) -> str:
        return when.astimezone(UTC).isoformat().replace("+00:00", "Z")

    field, value = holder
    lines = [
        "[[keys]]",
        f'key_id = "{key_id}"',
        f'{field} = "{value}"',
        f'public_key = "{public_key}"',
        f"not_before = {stamp(not_before)}",
    ]
    if not_after is not None:
        lines.append(f"not_after = {stamp(not_after)}")
    return "\n".join(lines) + "\n"


def registry_entry(key: StateKey) -> str:
    """One ``[[keys]]`` table of the registry file (``load_registry``), for ``key``."""
    return key_table(
        ("state", key.state), key.key_id, key.public_key, key.not_before, key.not_after
    )
