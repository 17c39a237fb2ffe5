"""Demo signing keys of the States, made locally and never committed.

``ensure_demo_keys(state_dir)`` gives each demo State an Ed25519 key pair: the private key in
``<state_dir>/keys/<STATE>.pem`` (0600), its key id beside it in ``<STATE>.key-id``, the public
key in the registry ``<state_dir>/keys/state-keys.toml`` that the bridge reads by default. It
is idempotent: a State whose key is already in place (and in the registry) keeps it.
``make up`` runs it (``tracefreeze/stack/services.py``; by hand: ``python -m
tracefreeze.demo.keys --state-dir DIR``); the state dir is git-ignored. The State simulator
signs with these keys (``sign_answer``). Both also make the local stack's payload codec key,
``<state_dir>/keys/codec-keys`` (``tracefreeze.security.codec.ensure_codec_keys``; the
command unless ``--no-codec-key``).
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.routing import Answer
from tracefreeze.security.codec import ensure_codec_keys
from tracefreeze.security.key_registry import DEFAULT_KEYS_FILE, KeyRegistry, load_registry
from tracefreeze.security.signing import keygen, load_private_key, public_key_b64, sign

DEMO_STATES = ("NLD", "BEL", "FRA", "DEU", "ITA")
BACKDATE = timedelta(days=30)
"""A demo key's window opens this long before it is made, so a backlog still verifies."""


def keys_dir(state_dir: Path) -> Path:
    return state_dir / DEFAULT_KEYS_FILE.parent


def registry_file(state_dir: Path) -> Path:
    return state_dir / DEFAULT_KEYS_FILE


def ensure_demo_keys(state_dir: Path, states: Iterable[str] = DEMO_STATES) -> Path:
    """Make the missing demo keys of ``states``; the registry's path."""
    directory, registry = keys_dir(state_dir), registry_file(state_dir)
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    for state in states:
        if not _in_place(state_dir, state):
            _make(state_dir, state)
    return registry


def demo_signer(state_dir: Path, state: str) -> tuple[Ed25519PrivateKey, str]:
    """The demo private key of ``state`` and its key id."""
    pem, id_file = _paths(state_dir, state)
    if not pem.exists() or not id_file.exists():
        raise TracefreezeError(
            f"no demo signing key for {state} in {keys_dir(state_dir)}; run `make up` "
            f"(or `python -m tracefreeze.demo.keys --state-dir {state_dir}`)"
        )
    return load_private_key(pem), id_file.read_text(encoding="ascii").strip()


def sign_answer(
    answer: Answer, state_dir: Path, as_state: str | None = None
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The value and signature headers of ``answer``, signed with the demo key of its own
    State (or of ``as_state``: a State signing as another, for tests)."""
    private_key, key_id = demo_signer(state_dir, as_state or answer.state)
    return sign(answer, private_key, key_id)


def _paths(state_dir: Path, state: str) -> tuple[Path, Path]:
    directory = keys_dir(state_dir)
    return directory / f"{state}.pem", directory / f"{state}.key-id"


def _registry(state_dir: Path) -> KeyRegistry:
    path = registry_file(state_dir)
    return load_registry(path) if path.exists() else KeyRegistry()


def _in_place(state_dir: Path, state: str) -> bool:
    pem, id_file = _paths(state_dir, state)
    if not pem.exists() or not id_file.exists():
        return False
    entry = _registry(state_dir).get(id_file.read_text(encoding="ascii").strip())
    return (
        entry is not None
        and entry.state == state
        and entry.public_key == public_key_b64(load_private_key(pem))
    )


def _make(state_dir: Path, state: str) -> None:
    pem, id_file = _paths(state_dir, state)
    key_id = f"{state.lower()}-demo-{secrets.token_hex(4)}"
    made, _ = keygen(
        state,
        key_id,
        keys_dir(state_dir),
        registry_file(state_dir),
        not_before=datetime.now(UTC) - BACKDATE,
    )
    made.replace(pem)
    id_file.write_text(key_id + "\n", encoding="ascii")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tracefreeze.demo.keys")
    parser.add_argument("--state-dir", type=Path, default=None, help="default: settings")
    parser.add_argument("--states", default=",".join(DEMO_STATES), help="comma-separated")
    parser.add_argument("--no-codec-key", action="store_true", help="State keys only")
    args = parser.parse_args(argv)
    if args.state_dir is None:
        from tracefreeze.config import get_settings

        args.state_dir = get_settings().state_dir
    states = [s.strip().upper() for s in args.states.split(",") if s.strip()]
    try:
        registry = ensure_demo_keys(args.state_dir, states)
        if not args.no_codec_key:
            ensure_codec_keys(args.state_dir)
    except TracefreezeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"demo State keys ({', '.join(states)}) in {registry.parent}; registry {registry}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
