"""Every value a party sends has a bound, checked by the contract (issue 11, §1 and §6).

Systematic: each inbound contract is taken from a valid instance of every kind (each State
answer, each Court action, the request, the case order), and every date-time, text and list
found in it is replaced by a hostile value in turn; the contract must refuse each one at that
field. Amounts are strict decimal strings, event ids random UUIDs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas import answers as a
from schemas import clocks as k
from schemas import court as c
from schemas.case import AddState, CaseOrder, CloseCase
from schemas.common import AMOUNT_PATTERN, EARLIEST, LATEST, Money
from schemas.deadletter import DeadLetterReason
from schemas.request import CourtRequest
from tests import builders as s
from tracefreeze.security.signing import (
    KeyRegistry,
    Rejection,
    ReplayGuard,
    StateKey,
    canonical_bytes,
    public_key_b64,
    sign,
    sign_bytes,
    verify,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
PROPERTIES = settings(database=None, deadline=None, max_examples=300)
ZONES = [UTC, *(timezone(timedelta(hours=h)) for h in (-12, -1, 2, 14))]


def _req() -> CourtRequest:
    return s.court_request(reference="ICC-01/22-REQ-0007")


def _inbound() -> list[tuple[str, BaseModel]]:
    """A valid instance of every inbound contract, with every optional date-time set."""
    req = _req()
    ids = {"asset_ids": [s.ACCOUNT]}
    return [
        ("acknowledgement", s.acknowledgement(req)),
        ("consultation", s.consultation(req)),
        ("postponement", s.postponement(req)),
        ("denial", s.denial(req)),
        (
            "execution_report",
            s.execution_report(
                req,
                [
                    s.result(
                        s.ACCOUNT,
                        "identify",
                        "freeze",
                        value=("398214.37", "EUR"),
                        location="Amsterdam",
                        registry_reference="NL00TEST0123456789",
                        executing_authority="Public Prosecution Service",
                        national_order_expires_at="2027-01-01T00:00:00Z",
                    )
                ],
            ),
        ),
        ("no_assets", s.no_assets(req, registers_searched=["Kadaster", "KvK"])),
        ("third_party_claim", s.third_party_claim(req, s.ACCOUNT)),
        ("domestic_challenge", s.domestic_challenge(req, s.ACCOUNT)),
        ("asset_management", s.asset_management(req, s.ACCOUNT, "1.00")),
        ("freeze_limit_proposal", s.freeze_limit(req, s.ACCOUNT)),
        (
            "channel_change",
            s.state_answer(a.ChannelChangeNotice, req, channel="diplomatic", language="fr"),
        ),
        (
            "consultation_response",
            s.court_action(
                c.ConsultationResponse,
                resolution="request_modified",
                modified_request=req.model_dump(mode="json"),
            ),
        ),
        (
            "postponement_decision",
            s.court_action(
                c.PostponementDecision, agreed=True, until="2027-01-01T00:00:00Z", **s.reasons()
            ),
        ),
        ("resume_execution", s.court_action(c.ResumeExecution, **s.reasons())),
        ("urgent_confirmation", s.court_action(c.UrgentConfirmation, channel="note verbale")),
        ("rule99_notification", s.court_action(c.Rule99Notification, notified_party_ids=["p-x"])),
        (
            "rule99_decision",
            s.court_action(c.Rule99Decision, outcome="revoked", **ids, **s.reasons()),
        ),
        ("withdrawal", s.court_action(c.Withdrawal, **s.reasons())),
        ("forfeiture_order", s.court_action(c.ForfeitureOrder, order_reference="F-1", **ids)),
        (
            "third_party_claim_decision",
            s.court_action(
                c.ThirdPartyClaimDecision, claim_id="claim-1", upheld=False, **s.reasons()
            ),
        ),
        (
            "transfer_to_court",
            s.court_action(c.TransferToCourt, asset_id=s.ACCOUNT, amount=s.money("5.00")),
        ),
        (
            "allocation",
            s.court_action(
                c.Allocation,
                asset_id=s.ACCOUNT,
                shares=[{"destination": "reparations", "amount": s.money("5.00")}],
            ),
        ),
        ("release", s.court_action(c.Release, ground="acquittal", **ids, **s.reasons())),
        ("close", s.close_action()),
        (
            "deadline_extension",
            s.court_action(k.DeadlineExtension, stage="first_report", by="P7D", **s.reasons()),
        ),
        (
            "escalation_decision",
            s.court_action(
                k.EscalationDecision, step="chamber_report", proceed=True, **s.reasons()
            ),
        ),
        ("add_state", s.court_action(AddState, request=req.model_dump(mode="json"))),
        ("close_case", s.court_action(CloseCase, reason="Every request is closed.")),
        ("court_request", req),
        (
            "case_order",
            CaseOrder.model_validate_json((EXAMPLES / "case-order.json").read_bytes()),
        ),
    ]


INBOUND = _inbound()
STRUCTURAL = {"answer_type", "specversion"}
"""Fields whose value is fixed by the contract (a literal): not texts a party writes."""


def _leaves(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, doc
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _leaves(value, (*path, i))


def _with(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    doc = json.loads(json.dumps(doc))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _mutations() -> Iterator[Any]:
    """(kind, path, hostile value) for every date-time, text and list of every contract."""
    for kind, model in INBOUND:
        doc = model.model_dump(mode="json")
        for path, value in _leaves(doc):
            if not path or path[-1] in STRUCTURAL:
                continue
            where = ".".join(map(str, path))
            if _is_datetime(value):
                for hostile in (
                    "0001-01-01T00:00:00Z",
                    "2002-06-30T23:59:59Z",
                    "9999-12-31T23:59:59Z",
                    "2200-01-01T00:00:00+00:00",
                ):
                    yield pytest.param(kind, path, hostile, id=f"{kind}:{where}={hostile[:10]}")
            elif isinstance(value, str) and not (isinstance(path[-1], int) and len(path) > 1):
                yield pytest.param(kind, path, "x" * 100_001, id=f"{kind}:{where}=long")
            elif isinstance(value, list):
                item = value[0] if value else "x"
                yield pytest.param(kind, path, [item] * 10_001, id=f"{kind}:{where}=10001")
            elif isinstance(value, str):  # an item of a list of texts or ids
                yield pytest.param(kind, path, "x" * 100_001, id=f"{kind}:{where}=long")


def _validate(kind: str, doc: Any) -> None:
    model = dict(INBOUND)[kind]
    if isinstance(model, a.AnswerBase):
        a.STATE_ANSWER.validate_json(json.dumps(doc))
    else:
        type(model).model_validate_json(json.dumps(doc))


@pytest.mark.parametrize(("kind", "path", "hostile"), list(_mutations()))
def test_every_date_text_and_list_is_bounded(
    kind: str, path: tuple[Any, ...], hostile: Any
) -> None:
    original = dict(INBOUND)[kind].model_dump(mode="json")
    _validate(kind, original)  # the instance itself is valid
    with pytest.raises(ValidationError):
        _validate(kind, _with(original, path, hostile))


def test_the_mutations_cover_every_kind_of_field() -> None:
    """Guard for the test above: it did find date-times, texts and lists in every contract."""
    kinds = {p.values[0] for p in _mutations()}
    assert kinds == {kind for kind, _ in INBOUND}
    hostile = [p.values[2] for p in _mutations()]
    assert sum(v == "0001-01-01T00:00:00Z" for v in hostile) >= 20
    assert sum(isinstance(v, list) for v in hostile) >= 20


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
    money = MONEY.validate_json(json.dumps({"amount": amount, "currency": "EUR"}))
    assert money.amount == Decimal(amount)
    assert money.model_dump(mode="json")["amount"] == amount


@PROPERTIES
@given(st.text(alphabet="0123456789.-+eE_ ", max_size=24))
def test_any_text_is_an_amount_only_if_it_has_the_one_spelling(text: str) -> None:
    """Accepted amounts serialise back to the very text sent: one value, one spelling."""
    try:
        money = MONEY.validate_json(json.dumps({"amount": text, "currency": "EUR"}))
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
