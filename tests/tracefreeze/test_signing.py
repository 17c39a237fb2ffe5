"""Signed State answers: signature, key registry, rotation, replay and clock-skew rules."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.answers import Acknowledgement
from schemas.deadletter import DeadLetterReason
from tests.builders import acknowledgement, to
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.routing import Verdict
from tracefreeze.security.canonical import (
    HEADER_KEY_ID,
    HEADER_SIGNATURE,
    canonical_bytes,
    signed_message,
)
from tracefreeze.security.key_registry import KeyRegistry, StateKey, load_registry
from tracefreeze.security.replay_guard import ReplayGuard, Tolerance
from tracefreeze.security.signing import load_private_key, main, public_key_b64, sign
from tracefreeze.security.verify import Rejection, SignatureReason, verify

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)


def make_key(
    key_id: str,
    state: str = "NLD",
    not_before: datetime = YEAR_START,
    not_after: datetime | None = None,
) -> tuple[Ed25519PrivateKey, StateKey]:
    private = Ed25519PrivateKey.generate()
    entry = StateKey(
        key_id=key_id,
        state=state,
        public_key=public_key_b64(private),
        not_before=not_before,
        not_after=not_after,
    )
    return private, entry


def answer(
    event_id: str = "0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c01",
    state: str = "NLD",
    sent_at: datetime = NOW - timedelta(minutes=1),
    authority: str = "Centrale Autoriteit IRH — Ministerie van Justitie en Veiligheid",
) -> Acknowledgement:
    fields = {"event_id": event_id, "sent_at": sent_at, "authority": authority}
    return acknowledgement(to("ICC-01/14-REQ-0042", state), **fields)


@pytest.fixture
def nld() -> tuple[Ed25519PrivateKey, StateKey]:
    return make_key("nld-2026-1")


@pytest.fixture
def registry(nld: tuple[Ed25519PrivateKey, StateKey]) -> KeyRegistry:
    return KeyRegistry(keys=[nld[1], make_key("deu-2026-1", state="DEU")[1]])


def check(value: bytes, headers, registry: KeyRegistry, **kwargs) -> Acknowledgement | Rejection:
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("seen", ReplayGuard())
    return verify(value, headers, registry, **kwargs)


def rejected(result: object, reason: SignatureReason | DeadLetterReason) -> Rejection:
    assert isinstance(result, Rejection), result
    assert result.reason is reason, result
    assert result.detail
    return result


def test_valid_signature_passes(nld, registry) -> None:
    sent = answer()
    value, headers = sign(sent, nld[0], "nld-2026-1")
    assert [name for name, _ in headers] == [HEADER_SIGNATURE, HEADER_KEY_ID]
    assert check(value, headers, registry) == sent


def test_value_is_the_answer_json(nld) -> None:
    value, _ = sign(answer(), nld[0], "nld-2026-1")
    assert json.loads(value)["authority"].endswith("Veiligheid")
    assert "—".encode() in value  # ensure_ascii=False: the character itself, not \\u2014


def test_extra_headers_and_padded_signature_pass(nld, registry) -> None:
    value, headers = sign(answer(), nld[0], "nld-2026-1")
    sig = dict(headers)[HEADER_SIGNATURE]
    padded = sig + b"=" * (-len(sig) % 4)
    extra = [("ce_type", b"x"), (HEADER_SIGNATURE, padded), ("ce_id", None), headers[1]]
    assert not isinstance(check(value, extra, registry), Rejection)


def test_reformatted_body_still_verifies(nld, registry) -> None:
    value, headers = sign(answer(), nld[0], "nld-2026-1")
    pretty = json.dumps(dict(reversed(json.loads(value).items())), indent=3).encode()
    assert not isinstance(check(pretty, headers, registry), Rejection)


def test_tampered_body_is_rejected(nld, registry) -> None:
    value, headers = sign(answer(), nld[0], "nld-2026-1")
    body = json.loads(value)
    body["request_reference"] = "ICC-01/14-REQ-0043"
    r = rejected(check(json.dumps(body).encode(), headers, registry), SignatureReason.BAD_SIGNATURE)
    assert "0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c01" in r.detail and "nld-2026-1" in r.detail


def test_signature_by_another_key_is_rejected(registry) -> None:
    impostor = Ed25519PrivateKey.generate()
    value, headers = sign(answer(), impostor, "nld-2026-1")
    rejected(check(value, headers, registry), SignatureReason.BAD_SIGNATURE)


def test_garbled_signature_header_is_rejected(nld, registry) -> None:
    value, headers = sign(answer(), nld[0], "nld-2026-1")
    for bad in (b"!!!not base64!!!", b"AAAA", base64.urlsafe_b64encode(bytes(65))):
        r = check(value, [(HEADER_SIGNATURE, bad), headers[1]], registry)
        rejected(r, SignatureReason.BAD_SIGNATURE)


@pytest.mark.parametrize(
    "keep",
    [[], [HEADER_SIGNATURE], [HEADER_KEY_ID]],
    ids=["no headers", "no key id", "no signature"],
)
def test_missing_headers_are_rejected(nld, registry, keep) -> None:
    value, headers = sign(answer(), nld[0], "nld-2026-1")
    kept = [(n, v) for n, v in headers if n in keep]
    r = rejected(check(value, kept, registry), SignatureReason.MISSING_SIGNATURE)
    assert "0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c01" in r.detail
    rejected(check(value, None, registry), SignatureReason.MISSING_SIGNATURE)


def test_repeated_or_empty_headers_are_rejected(nld, registry) -> None:
    value, headers = sign(answer(), nld[0], "nld-2026-1")
    rejected(check(value, [*headers, headers[0]], registry), SignatureReason.MISSING_SIGNATURE)
    empty = [(HEADER_SIGNATURE, b""), headers[1]]
    rejected(check(value, empty, registry), SignatureReason.MISSING_SIGNATURE)


def test_unknown_key_id_is_rejected(nld, registry) -> None:
    value, headers = sign(answer(), nld[0], "nld-2099-9")
    r = rejected(check(value, headers, registry), SignatureReason.UNKNOWN_KEY)
    assert "nld-2099-9" in r.detail and r.key_id == "nld-2099-9"


def test_expired_key_is_rejected() -> None:
    private, entry = make_key("nld-2025-1", not_before=YEAR_START - timedelta(days=365))
    entry = entry.model_copy(update={"not_after": NOW - timedelta(days=1)})
    value, headers = sign(answer(), private, "nld-2025-1")
    r = rejected(check(value, headers, KeyRegistry(keys=[entry])), SignatureReason.KEY_NOT_VALID)
    assert "nld-2025-1" in r.detail and "0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c01" in r.detail


def test_not_yet_valid_key_is_rejected() -> None:
    private, entry = make_key("nld-2026-2", not_before=NOW + timedelta(days=1))
    value, headers = sign(answer(), private, "nld-2026-2")
    rejected(check(value, headers, KeyRegistry(keys=[entry])), SignatureReason.KEY_NOT_VALID)


def test_answer_dated_before_the_key_window_is_rejected() -> None:
    private, entry = make_key("nld-2026-3", not_before=NOW - timedelta(hours=1))
    value, headers = sign(answer(sent_at=NOW - timedelta(hours=2)), private, "nld-2026-3")
    r = rejected(check(value, headers, KeyRegistry(keys=[entry])), SignatureReason.KEY_NOT_VALID)
    assert "sent_at" in r.detail


def test_key_of_another_state_is_misaddressed() -> None:
    deu_private, deu = make_key("deu-2026-1", state="DEU")
    _, nld = make_key("nld-2026-1")
    keys = KeyRegistry(keys=[deu, nld])
    value, headers = sign(answer(state="NLD"), deu_private, "deu-2026-1")
    r = rejected(check(value, headers, keys), SignatureReason.MISADDRESSED)
    assert "DEU" in r.detail and "NLD" in r.detail and "deu-2026-1" in r.detail


def test_replayed_event_id_is_rejected(nld, registry) -> None:
    seen = ReplayGuard()
    sent = answer()
    value, headers = sign(sent, nld[0], "nld-2026-1")
    assert check(value, headers, registry, seen=seen) == sent
    r = rejected(check(value, headers, registry, seen=seen), SignatureReason.REPLAYED)
    assert "0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c01" in r.detail
    # the same event id in a freshly signed message is still a replay
    value2, headers2 = sign(answer(sent_at=NOW), nld[0], "nld-2026-1")
    rejected(check(value2, headers2, registry, seen=seen), SignatureReason.REPLAYED)


def test_redelivery_at_the_same_position_is_not_a_replay(nld, registry) -> None:
    seen = ReplayGuard()
    value, headers = sign(answer(), nld[0], "nld-2026-1")
    where = ("tracefreeze.state-answers", 3, 17)
    assert not isinstance(check(value, headers, registry, seen=seen, position=where), Rejection)
    assert not isinstance(check(value, headers, registry, seen=seen, position=where), Rejection)
    elsewhere = ("tracefreeze.state-answers", 3, 99)
    r = check(value, headers, registry, seen=seen, position=elsewhere)
    rejected(r, SignatureReason.REPLAYED)


def test_rejected_answers_are_not_remembered(nld, registry) -> None:
    seen = ReplayGuard()
    value, headers = sign(answer(sent_at=NOW + timedelta(hours=1)), nld[0], "nld-2026-1")
    rejected(check(value, headers, registry, seen=seen), SignatureReason.FROM_FUTURE)
    assert len(seen) == 0


def test_replay_guard_is_bounded_and_forgets() -> None:
    guard = ReplayGuard(max_entries=2, ttl=timedelta(hours=1))
    for i in range(3):
        guard.record("NLD", f"evt-{i}", NOW)
    assert "evt-0" not in guard and "evt-2" in guard and len(guard) == 2
    assert ("NLD", "evt-2") in guard and ("BEL", "evt-2") not in guard
    assert guard.replayed("NLD", "evt-2", NOW + timedelta(minutes=59))
    assert not guard.replayed("NLD", "evt-2", NOW + timedelta(hours=1))
    assert "evt-2" not in guard  # expired entries leave the event id index too
    guard.record("NLD", "evt-9", NOW)
    guard.record("BEL", "evt-9", NOW)
    guard.forget("evt-9", "BEL")
    assert ("NLD", "evt-9") in guard and ("BEL", "evt-9") not in guard
    guard.forget("evt-9")  # every State's
    assert "evt-9" not in guard and len(guard) == 0


def test_too_old_is_rejected(nld, registry) -> None:
    value, headers = sign(answer(sent_at=NOW - timedelta(days=8)), nld[0], "nld-2026-1")
    r = rejected(check(value, headers, registry), SignatureReason.TOO_OLD)
    assert "0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c01" in r.detail and "nld-2026-1" in r.detail
    late = Tolerance(max_age=timedelta(days=10))
    assert not isinstance(check(value, headers, registry, tolerance=late), Rejection)


def test_from_the_future_is_rejected(nld, registry) -> None:
    value, headers = sign(answer(sent_at=NOW + timedelta(minutes=6)), nld[0], "nld-2026-1")
    rejected(check(value, headers, registry), SignatureReason.FROM_FUTURE)
    value, headers = sign(answer(sent_at=NOW + timedelta(minutes=4)), nld[0], "nld-2026-1")
    assert not isinstance(check(value, headers, registry), Rejection)


def test_rotation_two_keys_of_one_state_both_verify_in_their_windows() -> None:
    switch = datetime(2026, 2, 1, tzinfo=UTC)
    old_private, old = make_key("nld-2026-1", not_after=switch + timedelta(days=14))
    new_private, new = make_key("nld-2026-2", not_before=switch)
    keys = KeyRegistry(keys=[old, new])
    assert keys.for_state("NLD") == (old, new)

    during = switch + timedelta(days=7)  # overlap: both valid
    v1, h1 = sign(
        answer("0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c11", sent_at=during), old_private, "nld-2026-1"
    )
    v2, h2 = sign(
        answer("0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c21", sent_at=during), new_private, "nld-2026-2"
    )
    seen = ReplayGuard()
    assert not isinstance(check(v1, h1, keys, now=during, seen=seen), Rejection)
    assert not isinstance(check(v2, h2, keys, now=during, seen=seen), Rejection)

    after = switch + timedelta(days=20)  # the old key's window has closed
    v3, h3 = sign(
        answer("0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c12", sent_at=after), old_private, "nld-2026-1"
    )
    v4, h4 = sign(
        answer("0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c22", sent_at=after), new_private, "nld-2026-2"
    )
    rejected(check(v3, h3, keys, now=after), SignatureReason.KEY_NOT_VALID)
    assert not isinstance(check(v4, h4, keys, now=after), Rejection)


def test_body_that_is_not_an_answer_keeps_the_routing_reason(nld, registry) -> None:
    body = answer().model_dump(mode="json") | {"authority": ""}
    value = canonical_bytes(body)
    headers = sign(answer(), nld[0], "nld-2026-1")[1]
    headers = [(HEADER_SIGNATURE, _sig(nld[0], value)), headers[1]]
    r = rejected(check(value, headers, registry), DeadLetterReason.INVALID)
    assert r.as_verdict() == Verdict(DeadLetterReason.INVALID, r.detail)
    rejected(check(b"not json", headers, registry), DeadLetterReason.MALFORMED)
    rejected(check(b"x" * 300_000, headers, registry), DeadLetterReason.OVERSIZE)
    rejected(check(None, headers, registry), DeadLetterReason.MALFORMED)


def test_duplicate_keys_are_malformed(nld, registry) -> None:
    value, headers = sign(answer(), nld[0], "nld-2026-1")
    doubled = value[:-1] + b',"state":"DEU"}'
    rejected(check(doubled, headers, registry), DeadLetterReason.MALFORMED)


def test_signature_reason_as_verdict_keeps_its_code(registry) -> None:
    r = check(b"{}", [], registry)
    verdict = rejected(r, SignatureReason.MISSING_SIGNATURE).as_verdict()
    assert verdict.reason is DeadLetterReason.MISSING_SIGNATURE
    assert verdict.detail == r.detail
    # every signature reason is a dead-letter reason of its own
    assert {r.value for r in SignatureReason} <= {r.value for r in DeadLetterReason}


def test_canonical_bytes_rules() -> None:
    doc = {"b": [1, True, None, "é\n\u001f"], "a": {"z": 0.5, "y": 1e21, "x": -0}, "tf_key_id": "k"}
    assert canonical_bytes(doc) == (
        '{"a":{"x":0,"y":1e+21,"z":0.5},"b":[1,true,null,"é\\n\\u001f"]}'.encode()
    )
    for bad in ({"x": float("nan")}, {1: "x"}, {"x": "\ud800"}, {"x": object()}):
        with pytest.raises(ValueError):
            canonical_bytes(bad)


def test_registry_rejects_bad_keys() -> None:
    _, entry = make_key("nld-2026-1")
    with pytest.raises(ValueError, match="unique"):
        KeyRegistry(keys=[entry, entry])
    with pytest.raises(ValueError, match="32 bytes"):
        StateKey(key_id="x1", state="NLD", public_key="AAAA", not_before=YEAR_START)
    with pytest.raises(ValueError, match="not_after"):
        StateKey.model_validate(entry.model_dump() | {"not_after": YEAR_START})


def test_keygen_writes_key_and_registry(tmp_path: Path, monkeypatch) -> None:
    registry_file = tmp_path / "keys" / "state-keys.toml"
    monkeypatch.setenv("TRACEFREEZE_STATE_KEYS_FILE", str(registry_file))
    out = tmp_path / "private"
    args = ["keygen", "--state", "NLD", "--key-id", "nld-demo-1", "--out-dir", str(out)]
    assert main(args) == 0
    assert main(["keygen", "--state", "DEU", "--key-id", "deu-demo-1", "--out-dir", str(out)]) == 0
    assert main(args) == 1  # the same key id again is refused

    pem = out / "nld-demo-1.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    keys = load_registry()
    assert [k.key_id for k in keys.keys] == ["nld-demo-1", "deu-demo-1"]
    sent = answer(sent_at=datetime.now(UTC))
    value, headers = sign(sent, load_private_key(pem), "nld-demo-1")
    assert verify(value, headers, keys, datetime.now(UTC), ReplayGuard()) == sent


def test_missing_registry_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TracefreezeError, match="no State key registry"):
        load_registry(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[keys]]\nkey_id = "x1"\nstate = "nl"\n')
    with pytest.raises(TracefreezeError, match=r"bad\.toml"):
        load_registry(bad)


def _sig(private: Ed25519PrivateKey, value: bytes) -> bytes:
    return base64.urlsafe_b64encode(private.sign(signed_message(value))).rstrip(b"=")
