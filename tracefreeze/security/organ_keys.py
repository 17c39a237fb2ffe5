"""The organs' side of signed decisions: the organ key registry file, the organs' key pairs,
and signing a Court action (Ed25519; ``docs/signed-decisions.md``).

The registry is a TOML file like the State key registry (``key_registry.py``), one
``[[keys]]`` table per key with ``organ`` in place of ``state`` and the same validity windows
(several keys per organ: key history). Each public key is checked as a State's is
(``PublicKeyEntry``: canonical, on the curve, of the prime-order subgroup). Path:
``$TRACEFREEZE_ORGAN_KEYS_FILE``, default ``<state_dir>/keys/organ-keys.toml``; in production
a mounted file (a Secret). The private keys: ``<organ>/<key_id>.pem`` in
``$TRACEFREEZE_ORGAN_KEYS_DIR``, default ``<state_dir>/keys/organs`` (mode 0600), one per key,
never committed; ``make up`` and the isolated test stack make one per organ
(``ensure_organ_keys``). Verification is the request's (``workflows/decision_signatures.py``),
which composes the same canonical form (``canonical.py``).

Each organ's keys sit in a folder of their own (``key_path``) so that each is held only by
its organ: in production an organ's signing station mounts its own folder and no other (a
Registry officer's machine holds no Chamber's key, so nothing there can sign a Chamber's
decision), and the workers mount ``relay/`` only. The local stack keeps every folder under one
state directory, as its dev server keeps no authorizer: a documented local equivalent.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from schemas.court import CourtAction, OrganSignature
from schemas.organ_keys import RELAY, OrganKey, OrganKeys
from schemas.organs import Organ, organ_of
from tracefreeze.errors import TracefreezeError
from tracefreeze.security.key_registry import PublicKeyEntry, append_table, key_table
from tracefreeze.security.signing import load_private_key, new_key_fields, write_private_key
from workflows.decision_signatures import action_bytes

FILE_ENV, DIR_ENV = "TRACEFREEZE_ORGAN_KEYS_FILE", "TRACEFREEZE_ORGAN_KEYS_DIR"


def _state_dir(state_dir: Path | None) -> Path:
    if state_dir is not None:
        return state_dir
    from tracefreeze.config import get_settings

    return get_settings().state_dir


def organ_keys_file(state_dir: Path | None = None) -> Path:
    """``$TRACEFREEZE_ORGAN_KEYS_FILE``, else ``<state_dir>/keys/organ-keys.toml``."""
    env = os.environ.get(FILE_ENV)
    return Path(env) if env else _state_dir(state_dir) / "keys" / "organ-keys.toml"


def organ_keys_dir(state_dir: Path | None = None) -> Path:
    """``$TRACEFREEZE_ORGAN_KEYS_DIR``, else ``<state_dir>/keys/organs``."""
    env = os.environ.get(DIR_ENV)
    return Path(env) if env else _state_dir(state_dir) / "keys" / "organs"


def key_path(keys_dir: Path, organ: str, key_id: str) -> Path:
    """Where the private key ``key_id`` of ``organ`` is held: its organ's own folder."""
    return keys_dir / organ / f"{key_id}.pem"


def load_organ_keys(path: Path) -> OrganKeys:
    """The registry in ``path``; a file missing, unreadable or invalid is a
    ``TracefreezeError`` naming it."""
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise TracefreezeError(f"cannot read the organ key registry {path}: {err}") from err
    try:
        entries = data.get("keys", [])
        for entry in entries:  # each key checked as a State's (an acceptable Ed25519 point)
            PublicKeyEntry.model_validate({k: v for k, v in entry.items() if k != "organ"})
        keys = OrganKeys(keys=entries, digest=hashlib.sha256(raw).hexdigest())
    except (ValidationError, AttributeError, TypeError) as err:
        raise TracefreezeError(f"organ key registry {path}: {err}") from err
    ids = [k.key_id for k in keys.keys]
    if len(set(ids)) != len(ids):
        raise TracefreezeError(f"organ key registry {path}: a key id is given twice")
    return keys


def _entry(key: OrganKey) -> str:
    return key_table(
        ("organ", key.organ), key.key_id, key.public_key, key.not_before, key.not_after
    )


def keygen(
    organ: Organ | Literal["relay"],
    key_id: str,
    keys_dir: Path,
    registry_file: Path,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> OrganKey:
    """A key pair for ``organ``: the private key to ``keys_dir/<key_id>.pem`` (0600), the
    public key appended to the registry (never overwriting a key file or reusing an id)."""
    existing = load_organ_keys(registry_file) if registry_file.exists() else OrganKeys()
    pem_path = key_path(keys_dir, organ, key_id)
    if existing.get(key_id) is not None or pem_path.exists():
        raise TracefreezeError(f"organ key {key_id} exists already")
    private_key = Ed25519PrivateKey.generate()
    entry = OrganKey(
        key_id=key_id, organ=organ, **new_key_fields(private_key, not_before, not_after)
    )
    write_private_key(private_key, pem_path)
    append_table(registry_file, _entry(entry))
    load_organ_keys(registry_file)
    return entry


def ensure_organ_keys(state_dir: Path, not_before: datetime | None = None) -> OrganKeys:
    """The local stack's keys: one per organ, and the workers' relay key (``<organ>-local-1``),
    unless the registry holds one already; never committed (``state_dir`` is ignored by
    git)."""
    registry, keys_dir = organ_keys_file(state_dir), organ_keys_dir(state_dir)
    held = load_organ_keys(registry) if registry.exists() else OrganKeys()
    for key in held.keys:  # a state directory from before the organs' own folders
        flat, own = keys_dir / f"{key.key_id}.pem", key_path(keys_dir, key.organ, key.key_id)
        if flat.exists() and not own.exists():
            own.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            flat.rename(own)
    for organ in (*Organ, RELAY):
        if not any(k.organ == organ for k in held.keys):
            keygen(organ, f"{organ}-local-1", keys_dir, registry, not_before)
    return load_organ_keys(registry)


A = TypeVar("A", bound=CourtAction)


def sign_action(action: A, private_key: Ed25519PrivateKey, key_id: str) -> A:
    """``action`` with its organ's signature (over ``action_bytes``, any signature it had
    left out)."""
    bare = action.model_copy(update={"signature": None})
    raw = private_key.sign(action_bytes(bare))
    text = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return action.model_copy(update={"signature": OrganSignature(key_id=key_id, signature=text)})


def signer_for(
    organ: Organ | Literal["relay"],
    state_dir: Path | None = None,
    decided_at: datetime | None = None,
) -> tuple[Ed25519PrivateKey, str]:
    """The key this installation signs ``organ``'s decisions with: the newest of its keys in
    the registry valid now and at ``decided_at`` whose private key is in the keys directory."""
    moments = (datetime.now(UTC), decided_at or datetime.now(UTC))
    registry = load_organ_keys(organ_keys_file(state_dir))
    keys_dir = organ_keys_dir(state_dir)
    usable = sorted(
        (k for k in registry.keys if k.organ == organ and all(k.valid_at(t) for t in moments)),
        key=lambda k: k.not_before,
        reverse=True,
    )
    for key in usable:
        pem = key_path(keys_dir, organ, key.key_id)
        if pem.exists():
            return load_private_key(pem), key.key_id
    raise TracefreezeError(
        f"no signing key of the {organ} here: none of its keys in "
        f"{organ_keys_file(state_dir)} valid now has its private key in {keys_dir / organ} "
        "(each organ's keys are held by that organ only)"
    )


def signed(action: A, addressed_to: str, state_dir: Path | None = None) -> A:
    """``action`` signed by the organ ``decided_by`` names, with the key configured for it
    (``signer_for``), for the request or case ``addressed_to`` names (``request_address``,
    ``case_address``: the signature covers it); an action already signed is sent as it is."""
    if action.signature is not None:
        return action
    action = action.model_copy(update={"addressed_to": addressed_to})
    organ = organ_of(action.decided_by)
    if organ is None:  # the contract's closed list makes this unreachable
        raise TracefreezeError(f"{action.decided_by!r} names no organ of the Court")
    key, key_id = signer_for(organ, state_dir, action.decided_at)
    return sign_action(action, key, key_id)


def relayed(action: A, addressed_to: str, state_dir: Path | None = None) -> A:
    """``action`` as the worker relays it to the request ``addressed_to`` names: with its
    organ's own signature if it has one, else signed for that request with the workers' relay
    key (``RELAYED`` kinds only verify so)."""
    if action.signature is not None:
        return action
    action = action.model_copy(update={"addressed_to": addressed_to})
    key, key_id = signer_for(RELAY, state_dir, action.decided_at)
    return sign_action(action, key, key_id)
