"""The medium findings on signed answers (issue 11, section 6): small-order and non-canonical
Ed25519 keys refused by the registry, a context prefix in the signed bytes, the replay guard
keyed by (State, event id), and the registry re-read when its file changes.

A State may answer only as itself and never decide anything about another State's request
(RS 93(1)(k), RS 87(3)): a registry key that verifies forged signatures, or a replay guard
that one State can poison for another, would break both.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError

from schemas.answers import Acknowledgement
from tests.builders import acknowledgement, to
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.gate import AnswerGate
from tracefreeze.security import ed25519_keys
from tracefreeze.security.canonical import (
    HEADER_KEY_ID,
    HEADER_SIGNATURE,
    SIGNING_CONTEXT,
    canonical_bytes,
)
from tracefreeze.security.key_registry import KeyRegistry, RegistryFile, StateKey, registry_entry
from tracefreeze.security.replay_guard import ReplayGuard
from tracefreeze.security.signing import public_key_b64, sign, sign_bytes
from tracefreeze.security.verify import Rejection, SignatureReason, verify

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)

SMALL_ORDER = {
    "identity (order 1)": "01" + "00" * 31,
    "order 2": "ec" + "ff" * 30 + "7f",
    "order 4": "00" * 32,
    "order 4, x negative": "00" * 31 + "80",
    "order 8 (1)": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "order 8 (2)": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "order 8 (3)": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "order 8 (4)": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
}
NON_CANONICAL = {
    "identity, sign bit set": "01" + "00" * 30 + "80",
    "order 2, sign bit set": "ec" + "ff" * 31,
    "y = p + 1 (the identity)": "ee" + "ff" * 30 + "7f",
    "y = p (order 4)": "ed" + "ff" * 30 + "7f",
}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def entry(public_key: str, key_id: str = "bel-2026-1", state: str = "BEL") -> dict:
    return {"key_id": key_id, "state": state, "public_key": public_key, "not_before": YEAR_START}


def answer(event_id: str, state: str, sent_at: datetime = NOW) -> Acknowledgement:
    sent = {"event_id": event_id, "sent_at": sent_at - timedelta(minutes=1)}
    return acknowledgement(to("ICC-01/14-REQ-0042", state), authority="Central Authority", **sent)


def key(key_id: str, state: str) -> tuple[Ed25519PrivateKey, StateKey]:
    private = Ed25519PrivateKey.generate()
    return private, StateKey.model_validate(entry(public_key_b64(private), key_id, state))


# --- small-order and non-canonical keys ----------------------------------------------------


def test_identity_key_would_verify_a_forged_signature_and_is_refused() -> None:
    """The attack: register the identity point as BEL's key; ``R = identity, S = 0`` then
    "signs" any answer. The library verifies it; the registry must not take the key."""
    identity = bytes.fromhex(SMALL_ORDER["identity (order 1)"])
    forged = identity + bytes(32)
    body = canonical_bytes(answer(str(uuid.uuid4()), "BEL").model_dump(mode="json"))
    Ed25519PublicKey.from_public_bytes(identity).verify(forged, SIGNING_CONTEXT + body)
    with pytest.raises(ValidationError, match="small order"):
        KeyRegistry.model_validate({"keys": [entry(b64(identity))]})


@pytest.mark.parametrize("name", SMALL_ORDER)
def test_small_order_keys_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="small order"):
        StateKey.model_validate(entry(b64(bytes.fromhex(SMALL_ORDER[name]))))


@pytest.mark.parametrize("name", NON_CANONICAL)
def test_non_canonical_keys_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="not canonical"):
        StateKey.model_validate(entry(b64(bytes.fromhex(NON_CANONICAL[name]))))


def test_a_key_with_a_small_order_component_is_refused() -> None:
    genuine = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    point = ed25519_keys.decode(genuine)
    torsion = ed25519_keys.decode(bytes.fromhex(SMALL_ORDER["order 8 (1)"]))
    assert not isinstance(point, str) and not isinstance(torsion, str)
    x, y, z, _ = ed25519_keys.add(point, torsion)
    zi = pow(z, ed25519_keys.P - 2, ed25519_keys.P)
    x, y = x * zi % ed25519_keys.P, y * zi % ed25519_keys.P
    mixed = (y | (x & 1) << 255).to_bytes(32, "little")
    with pytest.raises(ValidationError, match="prime-order subgroup"):
        StateKey.model_validate(entry(b64(mixed)))
    with pytest.raises(ValidationError, match="not a point"):
        StateKey.model_validate(entry(b64((2).to_bytes(32, "little"))))
    for _ in range(50):  # every generated key passes
        StateKey.model_validate(entry(public_key_b64(Ed25519PrivateKey.generate())))


def test_a_key_read_again_is_judged_as_before_without_a_second_check() -> None:
    """The answer for a key is remembered (the organ registry is read at every request's first
    round): a refused key stays refused however often it is read, a genuine one passes, and
    the second read of each is answered from memory, not by the curve arithmetic again."""
    genuine = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    refused = {name: bytes.fromhex(raw) for name, raw in SMALL_ORDER.items()}
    refused |= {name: bytes.fromhex(raw) for name, raw in NON_CANONICAL.items()}
    first = {name: ed25519_keys.public_key_problem(raw) for name, raw in refused.items()}
    assert ed25519_keys.public_key_problem(genuine) is None
    hits = ed25519_keys._judged.cache_info().hits
    for name, raw in refused.items():
        again = ed25519_keys.public_key_problem(raw)
        assert again is not None and again == first[name], name
        with pytest.raises(ValidationError, match=r"small order|not canonical"):
            StateKey.model_validate(entry(b64(raw)))
    assert ed25519_keys.public_key_problem(genuine) is None
    StateKey.model_validate(entry(b64(genuine)))
    assert ed25519_keys._judged.cache_info().hits == hits + 2 * (len(refused) + 1)
    size = ed25519_keys._judged.cache_info().currsize
    for length in (0, 31, 33, 4096):  # never 32 bytes: refused at once, never remembered
        assert "32 bytes" in (ed25519_keys.public_key_problem(bytes(length)) or "")
    assert ed25519_keys._judged.cache_info().currsize == size


# --- the context prefix --------------------------------------------------------------------


def test_signature_covers_the_context_prefix() -> None:
    """A signature over the bare canonical body (made for some other purpose, or by the
    contract before the prefix) is not a signature of an answer."""
    private, nld = key("nld-2026-1", "NLD")
    registry = KeyRegistry(keys=[nld])
    sent = answer(str(uuid.uuid4()), "NLD")
    value, headers = sign(sent, private, "nld-2026-1")
    assert verify(value, headers, registry, NOW, ReplayGuard()) == sent
    again = sign_bytes(value, private, "nld-2026-1")  # the one signing function
    assert verify(value, again, registry, NOW, ReplayGuard()) == sent
    bare = base64.urlsafe_b64encode(private.sign(value)).rstrip(b"=")
    old_style = [(HEADER_SIGNATURE, bare), (HEADER_KEY_ID, b"nld-2026-1")]
    result = verify(value, old_style, registry, NOW, ReplayGuard())
    assert isinstance(result, Rejection) and result.reason is SignatureReason.BAD_SIGNATURE


# --- the replay guard per (State, event id) -------------------------------------------------


def test_another_state_reusing_an_event_id_does_not_block_the_genuine_answer() -> None:
    """BEL pre-empts NLD's predictable event id with an answer of its own: NLD's genuine
    answer under that id must still get through (it was dead-lettered forever)."""
    bel_private, bel = key("bel-2026-1", "BEL")
    nld_private, nld = key("nld-2026-1", "NLD")
    registry, guard = KeyRegistry(keys=[bel, nld]), ReplayGuard()
    stolen_id = str(uuid.uuid4())  # NLD's id, seen by BEL (e.g. on a shared screen)
    bel_value, bel_headers = sign(answer(stolen_id, "BEL"), bel_private, "bel-2026-1")
    where = ("tracefreeze.state-answers", 0, 1)
    assert not isinstance(
        verify(bel_value, bel_headers, registry, NOW, guard, position=where), Rejection
    )
    genuine = answer(stolen_id, "NLD")
    nld_value, nld_headers = sign(genuine, nld_private, "nld-2026-1")
    at = ("tracefreeze.state-answers", 4, 7)
    assert verify(nld_value, nld_headers, registry, NOW, guard, position=at) == genuine
    # Each State's own replay is still caught.
    again = ("tracefreeze.state-answers", 4, 8)
    replay = verify(nld_value, nld_headers, registry, NOW, guard, position=again)
    assert isinstance(replay, Rejection) and replay.reason is SignatureReason.REPLAYED
    bel_again = verify(bel_value, bel_headers, registry, NOW, guard, position=again)
    assert isinstance(bel_again, Rejection) and bel_again.reason is SignatureReason.REPLAYED


# --- the registry reloaded when its file changes -------------------------------------------


def write_registry(path: Path, *keys: StateKey) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(registry_entry(k) for k in keys), encoding="utf-8")
    tmp.replace(path)  # an atomic replace, as a deployment would


def test_registry_file_is_reloaded_and_a_bad_file_keeps_the_old(tmp_path: Path) -> None:
    path = tmp_path / "state-keys.toml"
    nld_private, nld = key("nld-2026-1", "NLD")
    bel_private, bel = key("bel-2026-1", "BEL")
    write_registry(path, nld)
    changes: list[str] = []
    errors: list[str] = []
    source = RegistryFile(path, check_every_s=0, on_change=changes.append, on_error=errors.append)
    gate = AnswerGate(source, clock=lambda: NOW)
    assert [k.key_id for k in gate.registry.keys] == ["nld-2026-1"]
    sent = answer(str(uuid.uuid4()), "BEL")
    value, headers = sign(sent, bel_private, "bel-2026-1")
    unknown = verify(value, headers, gate.registry, NOW, ReplayGuard())
    assert isinstance(unknown, Rejection) and unknown.reason is SignatureReason.UNKNOWN_KEY

    write_registry(path, nld, bel)  # BEL's new key: no restart
    assert verify(value, headers, gate.registry, NOW, ReplayGuard()) == sent
    assert changes and "added: bel-2026-1" in changes[-1]

    path.write_text("[[keys]]\nkey_id = 'broken", encoding="utf-8")  # a bad edit
    assert {k.key_id for k in gate.registry.keys} == {"nld-2026-1", "bel-2026-1"}
    assert errors and "keeping the last good registry" in errors[-1]
    small = entry(b64(bytes.fromhex(SMALL_ORDER["identity (order 1)"])), "evil-1", "BEL")
    path.write_text(
        registry_entry(nld) + "\n" + registry_entry(StateKey.model_construct(**small)),
        encoding="utf-8",
    )
    assert {k.key_id for k in gate.registry.keys} == {"nld-2026-1", "bel-2026-1"}
    assert "small order" in errors[-1]

    write_registry(path, nld)  # BEL's key withdrawn
    assert [k.key_id for k in gate.registry.keys] == ["nld-2026-1"]
    assert "removed: bel-2026-1" in changes[-1]
    assert nld_private  # (NLD's key stayed throughout)


def test_registry_file_must_load_at_start_and_is_checked_at_most_so_often(tmp_path: Path) -> None:
    path = tmp_path / "state-keys.toml"
    with pytest.raises(TracefreezeError, match="no State key registry"):
        RegistryFile(path)
    _, nld = key("nld-2026-1", "NLD")
    _, bel = key("bel-2026-1", "BEL")
    write_registry(path, nld)
    now = [0.0]
    source = RegistryFile(path, check_every_s=5, clock=lambda: now[0])
    write_registry(path, nld, bel)
    assert len(source.current().keys) == 1  # not yet looked
    now[0] = 5.0
    assert len(source.current().keys) == 2


def test_the_bridge_gate_loads_a_reloading_registry(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "state-keys.toml"
    _, nld = key("nld-2026-1", "NLD")
    write_registry(path, nld)
    gate = AnswerGate.load(Settings(state_dir=tmp_path), path)
    assert isinstance(gate.source, RegistryFile)
