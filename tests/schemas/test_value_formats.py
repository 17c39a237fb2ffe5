"""Date-times, amounts and event ids have one plausible form (issue 11, §1 and §6): a date-time
inside the window that starts when the Rome Statute entered into force, an amount as a strict
decimal string (two spellings of one amount never verify under one signature), an event id a
random (version 4) or time-ordered (version 7) UUID.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from schemas import answers as a
from schemas import court as c
from schemas.common import AMOUNT_PATTERN, EARLIEST, LATEST, Money
from schemas.deadletter import DeadLetterReason
from tests.schemas.inbound import EXAMPLES, INBOUND, PROPERTIES, ZONES
from tracefreeze.security.canonical import canonical_bytes
from tracefreeze.security.key_registry import KeyRegistry, StateKey
from tracefreeze.security.replay_guard import ReplayGuard
from tracefreeze.security.signing import public_key_b64, sign, sign_bytes
from tracefreeze.security.verify import Rejection, verify

# --- Date-times: the plausible window ---------------------------------------------------


@pytest.mark.parametrize(
    "when",
    ["0001-01-01T00:00:00Z", "2002-06-30T23:59:59+00:00", "2002-07-01T01:00:00+02:00"],
)
def test_before_the_rome_statute_entered_into_force_is_refused(when: str) -> None:
    doc = json.loads((EXAMPLES / "acknowledgement.json").read_text(encoding="utf-8"))
    with pytest.raises(ValidationError, match="entry into force of the Rome Statute"):
        a.STATE_ANSWER.validate_python({**doc, "sent_at": when})


def test_the_window_ends_are_accepted() -> None:
    doc = json.loads((EXAMPLES / "acknowledgement.json").read_text(encoding="utf-8"))
    for when in (EARLIEST, LATEST):
        assert a.STATE_ANSWER.validate_python({**doc, "sent_at": when.isoformat()}).sent_at == when


@PROPERTIES
@given(st.datetimes(timezones=st.sampled_from(ZONES)))
def test_any_datetime_is_refused_outside_the_window_and_kept_inside(when: datetime) -> None:
    doc = json.loads((EXAMPLES / "acknowledgement.json").read_text(encoding="utf-8"))
    try:
        answer = a.STATE_ANSWER.validate_json(json.dumps({**doc, "sent_at": when.isoformat()}))
    except ValidationError as err:
        assert not EARLIEST <= when <= LATEST, err
    else:
        assert EARLIEST <= answer.sent_at <= LATEST and answer.sent_at == when


# --- Amounts: strict decimal strings ------------------------------------------------------

MONEY = TypeAdapter(Money)


@pytest.mark.parametrize(
    "amount",
    [
        "-0.00",
        "-1",
        "+1",
        "1E+2",
        "1e2",
        "1_000",
        "01",
        "00.5",
        "1.",
        ".5",
        "1.2345",
        " 1",
        "1 000",
        "1,000.00",
        "NaN",
        "Infinity",
        "0x10",
        "١٢",  # Arabic-Indic digits
        "1000000000000000000",  # 19 integer digits
        "12\n",
        "",
        1000,
        10.5,
        True,
        None,
    ],
)
def test_an_amount_that_is_not_a_plain_decimal_string_is_refused(amount: Any) -> None:
    with pytest.raises(ValidationError, match="amount"):
        MONEY.validate_json(json.dumps({"amount": amount, "currency": "EUR"}))


@pytest.mark.parametrize("amount", ["0", "0.5", "1250.00", "12.345", "999999999999999999.999"])
def test_a_plain_decimal_string_is_kept_exactly(amount: str) -> None:
    """Kept exactly in a currency of three minor units (KWD, ISO 4217)."""
    money = MONEY.validate_json(json.dumps({"amount": amount, "currency": "KWD"}))
    assert money.amount == Decimal(amount)
    assert money.model_dump(mode="json")["amount"] == amount


@PROPERTIES
@given(st.text(alphabet="0123456789.-+eE_ ", max_size=24))
def test_any_text_is_an_amount_only_if_it_has_the_one_spelling(text: str) -> None:
    """Accepted amounts serialise back to the very text sent: one value, one spelling."""
    try:
        money = MONEY.validate_json(json.dumps({"amount": text, "currency": "LYD"}))
    except ValidationError:
        assert not re.fullmatch(AMOUNT_PATTERN.strip("^$"), text)
    else:
        assert money.model_dump(mode="json")["amount"] == text


def test_two_amounts_never_verify_under_one_signature() -> None:
    """The finding: a JSON *number* amount was parsed as a float for the canonical form (so
    ...00.01 and ...00.02 had the same signed bytes) but as an exact Decimal by the contract.
    Now a number is no amount: the look-alike is refused as invalid, whatever its signature."""
    private = Ed25519PrivateKey.generate()
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    key = StateKey(
        key_id="nld-2026-1",
        state="NLD",
        public_key=public_key_b64(private),
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
    )
    body = {
        "answer_type": "asset_management",
        "event_id": "0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c51",
        "request_reference": "ICC-01/22-REQ-0007",
        "state": "NLD",
        "sent_at": (now - timedelta(minutes=1)).isoformat(),
        "asset_id": "a-account-1",
        "kind": "valuation",
        "asset_manager": "Asset Management Office",
    }
    one = b'"value": {"amount": 100000000000000000.01, "currency": "EUR"}'
    two = b'"value": {"amount": 100000000000000000.02, "currency": "EUR"}'
    head = json.dumps(body)[:-1].encode() + b", "
    signed, forged = head + one + b"}", head + two + b"}"
    # Why: both numbers parse to one float, hence one canonical form and one signature.
    assert canonical_bytes(json.loads(signed)) == canonical_bytes(json.loads(forged))
    headers = sign_bytes(canonical_bytes(json.loads(signed)), private, "nld-2026-1")
    registry = KeyRegistry(keys=[key])
    for value in (signed, forged):
        verdict = verify(value, headers, registry, now, ReplayGuard())
        assert isinstance(verdict, Rejection), verdict
        assert verdict.reason == DeadLetterReason.INVALID.value
        assert "amount" in verdict.detail
    # As strings, the two amounts are two signed texts: the forged one does not verify.
    ok = a.AssetManagementUpdate.model_validate(
        {**body, "value": {"amount": "1000000000000000.01", "currency": "EUR"}}
    )
    value, sig_headers = sign(ok, private, "nld-2026-1")
    tampered = value.replace(b"1000000000000000.01", b"1000000000000000.02")
    assert verify(value, sig_headers, registry, now, ReplayGuard()) == ok
    verdict = verify(tampered, sig_headers, registry, now, ReplayGuard())
    assert isinstance(verdict, Rejection) and verdict.reason == "bad_signature"


# --- Event ids: random UUIDs ------------------------------------------------------------


@pytest.mark.parametrize(
    "event_id",
    [
        "nld-answer-000042",  # predictable: another State could send it first
        "6F1C2A9E-3B47-4D0A-9E51-0C2F7D8B1A01",  # a second spelling of a valid id
        "6f1c2a9e3b474d0a9e510c2f7d8b1a01",  # no hyphens
        "6f1c2a9e-3b47-1d0a-9e51-0c2f7d8b1a01",  # version 1: time and host, guessable
        "00000000-0000-0000-0000-000000000000",
        "{6f1c2a9e-3b47-4d0a-9e51-0c2f7d8b1a01}",
    ],
)
def test_an_event_id_that_is_not_a_random_uuid_is_refused(event_id: str) -> None:
    doc = json.loads((EXAMPLES / "acknowledgement.json").read_text(encoding="utf-8"))
    with pytest.raises(ValidationError, match="event_id"):
        a.STATE_ANSWER.validate_python({**doc, "event_id": event_id})
    close = json.loads((EXAMPLES / "close-request.json").read_text(encoding="utf-8"))
    with pytest.raises(ValidationError, match="event_id"):
        c.CloseRequest.model_validate({**close, "event_id": event_id})


@pytest.mark.parametrize(
    "event_id", ["6f1c2a9e-3b47-4d0a-9e51-0c2f7d8b1a01", "01936b2e-7c4d-7a1b-8c9d-0e1f2a3b4c5d"]
)
def test_a_version_4_or_7_uuid_is_an_event_id(event_id: str) -> None:
    doc = json.loads((EXAMPLES / "acknowledgement.json").read_text(encoding="utf-8"))
    assert a.STATE_ANSWER.validate_python({**doc, "event_id": event_id}).event_id == event_id


def test_every_example_and_builder_makes_uuid_event_ids() -> None:
    for name in ("acknowledgement", "execution-report", "execution-report-final", "no-assets"):
        a.STATE_ANSWER.validate_json((EXAMPLES / f"{name}.json").read_bytes())
    for _, model in INBOUND:
        event_id = getattr(model, "event_id", None)
        assert event_id is None or len(event_id) == 36
