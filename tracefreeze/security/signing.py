"""A State's side of signed answers: its key pair, and signing its answers (Ed25519).

Each State's system signs its answers with its private key; the bridge verifies them
(``tracefreeze/security/verify.py``) against the State key registry
(``tracefreeze/security/key_registry.py``). What a signature covers, and the headers it
travels in, is ``tracefreeze/security/canonical.py``; ``sign_bytes`` is the one signing
function, so every signer (the State kit, the demo keys and simulator, the tests, the
benchmarks) signs the same bytes.

``python -m tracefreeze.security.signing keygen --state NLD --key-id K --out-dir DIR`` makes
a demo key pair (never committed): the private key in ``DIR/K.pem`` (mode 0600), the public
key added to the registry.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from schemas.answers import AnswerBase
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.routing import summarize
from tracefreeze.security.canonical import (
    HEADER_KEY_ID,
    HEADER_SIGNATURE,
    canonical_bytes,
    signed_message,
)
from tracefreeze.security.key_registry import (
    DEFAULT_KEYS_FILE,
    KEYS_FILE_ENV,
    KeyRegistry,
    StateKey,
    add_key,
    load_registry,
    state_keys_file,
)


def sign_bytes(
    value: bytes, private_key: Ed25519PrivateKey, key_id: str
) -> list[tuple[str, bytes]]:
    """The signature headers of a message whose value is ``value`` (the canonical body).

    The one signing function: every signer (``sign``, the demo keys and simulator, the State
    kit, the tests' signed records) goes through it, so all sign the same bytes."""
    signature = private_key.sign(signed_message(value))
    return [
        (HEADER_SIGNATURE, base64.urlsafe_b64encode(signature).rstrip(b"=")),
        (HEADER_KEY_ID, key_id.encode("ascii")),
    ]


def sign(
    answer: AnswerBase, private_key: Ed25519PrivateKey, key_id: str
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The message value (canonical JSON of the answer) and the signature headers."""
    value = canonical_bytes(answer.model_dump(mode="json"))
    return value, sign_bytes(value, private_key, key_id)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """A State's private key from its (unencrypted PKCS#8) PEM file."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as err:
        raise TracefreezeError(f"cannot read the signing key {path}: {err}") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise TracefreezeError(f"{path} is not an Ed25519 private key")
    return key


def public_key_b64(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode("ascii")


def new_key_fields(
    private_key: Ed25519PrivateKey, not_before: datetime | None, not_after: datetime | None
) -> dict[str, Any]:
    """The registry fields of a key just made, whoever holds it (a State's or an organ's):
    its public half, and its validity from ``not_before`` (now when none, to the second)
    to ``not_after``."""
    return {
        "public_key": public_key_b64(private_key),
        "not_before": (not_before or datetime.now(UTC)).replace(microsecond=0),
        "not_after": not_after,
    }


def write_private_key(private_key: Ed25519PrivateKey, pem_path: Path) -> None:
    """Write ``private_key`` as PKCS#8 PEM to a new file ``pem_path`` (made with mode 0600,
    its folder made if missing); an existing file is never overwritten."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pem_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(pem_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def keygen(
    state: str,
    key_id: str,
    out_dir: Path,
    registry_file: Path,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> tuple[Path, StateKey]:
    """Make a key pair: the private key to ``out_dir/<key_id>.pem`` (mode 0600), the public
    key appended to the registry. Refuses to overwrite a key file or reuse a key id."""
    private_key = Ed25519PrivateKey.generate()
    entry = StateKey(
        key_id=key_id, state=state, **new_key_fields(private_key, not_before, not_after)
    )
    existing = load_registry(registry_file) if registry_file.exists() else KeyRegistry()
    if existing.get(key_id) is not None:
        raise TracefreezeError(f"key id {key_id} is already in {registry_file}")
    pem_path = out_dir / f"{key_id}.pem"
    if pem_path.exists():
        raise TracefreezeError(f"{pem_path} exists; choose another key id")

    write_private_key(private_key, pem_path)
    os.chmod(pem_path, 0o600)
    add_key(registry_file, entry)
    return pem_path, entry


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tracefreeze.security.signing keygen --state NLD --key-id K --out-dir DIR``"""
    parser = argparse.ArgumentParser(prog="python -m tracefreeze.security.signing")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("keygen", help="make a State key pair (demo; never commit it)")
    gen.add_argument("--state", required=True, help="ISO 3166-1 alpha-3 code, e.g. NLD")
    gen.add_argument("--key-id", required=True, help="e.g. nld-2026-1")
    gen.add_argument("--out-dir", required=True, type=Path, help="where the private key goes")
    gen.add_argument(
        "--registry",
        type=Path,
        default=None,
        help=f"registry to append to (default: ${KEYS_FILE_ENV} or .state/{DEFAULT_KEYS_FILE})",
    )
    gen.add_argument("--not-before", type=datetime.fromisoformat, default=None)
    gen.add_argument("--not-after", type=datetime.fromisoformat, default=None)
    args = parser.parse_args(argv)
    try:
        pem_path, entry = keygen(
            args.state,
            args.key_id,
            args.out_dir,
            args.registry or state_keys_file(),
            args.not_before,
            args.not_after,
        )
    except (TracefreezeError, ValidationError) as err:
        detail = summarize(err) if isinstance(err, ValidationError) else str(err)
        print(f"error: {detail}", file=sys.stderr)
        return 1
    registry = args.registry or state_keys_file()
    print(f"private key {pem_path} (0600); public key {entry.key_id} of {entry.state} → {registry}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
