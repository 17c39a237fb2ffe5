"""Money as ISO 4217 writes it (docs/legal-process.md, 'Value as it happens'): an amount has
no more decimal places than its currency's minor units (JPY 0, EUR 2, LYD/KWD/BHD 3), the
currency is one amounts are counted in, and this is checked where a value enters - the State's
answer, the Court's action. Also the contracts of a management update (costs, RS 75(2)) and of
a dated exchange rate.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import TypeAdapter, ValidationError

from schemas import court as c
from schemas.answers import STATE_ANSWER, AssetManagementUpdate
from schemas.common import Money
from schemas.currencies import MINOR_UNITS, minor_units
from schemas.deadletter import DeadLetterReason
from schemas.ledger import convert
from tests.builders import asset_management, court_action, court_request, to
from tracefreeze.security.canonical import canonical_bytes
from tracefreeze.security.key_registry import KeyRegistry, StateKey
from tracefreeze.security.replay_guard import ReplayGuard
from tracefreeze.security.signing import public_key_b64, sign, sign_bytes
from tracefreeze.security.verify import Rejection, verify

MONEY = TypeAdapter(Money)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("1000", "JPY"),
        ("1250000", "KRW"),
        ("5000", "XOF"),
        ("1250.50", "EUR"),
        ("1250.5", "USD"),
        ("1250.125", "LYD"),
        ("0.001", "KWD"),
        ("12.345", "BHD"),
        ("7.5", "TND"),
        ("10", "EUR"),
    ],
)
def test_iso_4217_an_amount_within_its_minor_units_is_taken(amount: str, currency: str) -> None:
    money = MONEY.validate_json(json.dumps({"amount": amount, "currency": currency}))
    assert (money.amount, money.currency) == (Decimal(amount), currency)


@pytest.mark.parametrize(
    ("amount", "currency", "places"),
    [
        ("1000.5", "JPY", "JPY has 0 decimal places"),
        ("1000.0", "JPY", "JPY has 0 decimal places"),
        ("100.00", "KRW", "KRW has 0 decimal places"),
        ("1250.005", "EUR", "EUR has 2 decimal places"),
        ("0.001", "USD", "USD has 2 decimal places"),
    ],
)
def test_iso_4217_an_amount_beyond_its_minor_units_is_refused(
    amount: str, currency: str, places: str
) -> None:
    """Refused, not rounded: JPY 1000.5 or EUR 1250.005 is no amount of that currency."""
    with pytest.raises(ValidationError, match=places):
        MONEY.validate_json(json.dumps({"amount": amount, "currency": currency}))


@pytest.mark.parametrize("currency", ["XAU", "XDR", "XXX", "XTS", "ZZZ", "EUX"])
def test_iso_4217_a_code_without_minor_units_or_unknown_is_refused(currency: str) -> None:
    """Metals, the SDR and test codes have no minor unit: an asset in gold is valued in a
    currency. An unknown code is no currency."""
    with pytest.raises(ValidationError, match="not an ISO 4217 currency"):
        MONEY.validate_json(json.dumps({"amount": "1", "currency": currency}))


def test_iso_4217_minor_units_of_the_currencies_the_court_meets() -> None:
    assert {c: minor_units(c) for c in ("EUR", "USD", "JPY", "LYD", "KWD", "BHD", "CLF")} == {
        "EUR": 2,
        "USD": 2,
        "JPY": 0,
        "LYD": 3,
        "KWD": 3,
        "BHD": 3,
        "CLF": 4,
    }
    assert all(len(code) == 3 and code.isupper() for code in MINOR_UNITS)


def test_iso_4217_minor_units_are_checked_at_the_edge_in_a_state_answer() -> None:
    """A State's answer with an amount beyond its currency's minor units does not decode: the
    intake dead-letters it with the reason, before any workflow sees it."""
    good = asset_management(court_request(), "a-account-1", "1250.125", "LYD")
    body = good.model_dump(mode="json")
    body["value"] = {"amount": "1250.125", "currency": "EUR"}
    with pytest.raises(ValidationError, match="EUR has 2 decimal places"):
        STATE_ANSWER.validate_python(body)


def test_iso_4217_a_signed_answer_beyond_minor_units_is_dead_lettered_as_invalid() -> None:
    """At the intake: a correctly signed answer whose amount has more decimals than its
    currency allows is rejected as invalid (the dead-letter reason) with the currency's rule
    in the detail, before any workflow sees it; the same answer in LYD verifies."""
    private = Ed25519PrivateKey.generate()
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    key = StateKey(
        key_id="nld-2026-1",
        state="NLD",
        public_key=public_key_b64(private),
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
    )
    registry = KeyRegistry(keys=[key])
    answer = asset_management(
        to("ICC-01/22-REQ-0007"),
        "a-account-1",
        "1250.125",
        "LYD",
        event_id="0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c71",
        sent_at=(now - timedelta(minutes=1)).isoformat(),
    )
    body = answer.model_dump(mode="json")
    assert verify(*sign(answer, private, "nld-2026-1"), registry, now, ReplayGuard()) == answer
    body["value"]["currency"] = "EUR"
    body["event_id"] = "0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c72"
    value = canonical_bytes(body)
    verdict = verify(value, sign_bytes(value, private, "nld-2026-1"), registry, now, ReplayGuard())
    assert isinstance(verdict, Rejection), verdict
    assert verdict.reason == DeadLetterReason.INVALID.value
    assert "EUR has 2 decimal places" in verdict.detail


# --- Management costs (they reduce what reaches victims: RS 75(2), 79(2)) --------------------


def test_management_costs_update_states_costs_and_a_valuation_states_a_value() -> None:
    req = court_request()
    costs = asset_management(
        req,
        "a-account-1",
        "1.00",
        kind="management_costs",
        costs={"amount": "700000.00", "currency": "EUR"},
    )
    assert costs.costs.amount == Decimal("700000.00")
    body = costs.model_dump(mode="json") | {"value": None}
    assert AssetManagementUpdate.model_validate(body).value is None  # costs alone
    with pytest.raises(ValidationError, match="a management_costs update states the costs"):
        AssetManagementUpdate.model_validate(body | {"costs": None})
    with pytest.raises(ValidationError, match="a valuation states the asset's value"):
        AssetManagementUpdate.model_validate(body | {"kind": "valuation"})
    with pytest.raises(ValidationError, match="state costs incurred"):
        AssetManagementUpdate.model_validate(body | {"costs": {"amount": "0", "currency": "EUR"}})
    with pytest.raises(ValidationError, match="JPY has 0 decimal places"):
        AssetManagementUpdate.model_validate(body | {"costs": {"amount": "5.5", "currency": "JPY"}})


# --- A dated exchange rate -------------------------------------------------------------------


def rate(**fields: object) -> c.ExchangeRate:
    data = {
        "from_currency": "LYD",
        "to_currency": "EUR",
        "rate": "0.1912",
        "rate_date": "2026-03-02",
        "source": "Central Bank of Libya, official rate",
        **fields,
    }
    return court_action(c.ExchangeRate, **data)


def test_an_exchange_rate_is_dated_positive_and_between_two_currencies() -> None:
    recorded = rate()
    assert (recorded.rate, recorded.rate_date) == (Decimal("0.1912"), date(2026, 3, 2))
    for bad, match in (
        ({"rate": "0"}, "a rate is positive"),
        ({"rate": "0.0"}, "a rate is positive"),
        ({"rate": 0.19}, "a rate is a plain decimal string"),
        ({"rate": "-1"}, "a rate is a plain decimal string"),
        ({"rate": "1e3"}, "a rate is a plain decimal string"),
        ({"to_currency": "LYD"}, "converts between two currencies"),
        ({"to_currency": "XAU"}, "not an ISO 4217 currency"),
        ({"rate_date": "2031-01-01"}, "rate_date"),
        ({"rate_date": "2001-12-31"}, "rate_date"),
        ({"source": ""}, "source"),
    ):
        with pytest.raises(ValidationError, match=match):
            rate(**bad)


def test_a_converted_figure_is_rounded_half_even_to_the_target_minor_units() -> None:
    assert convert(Decimal("1250.125"), Decimal("0.1912"), "EUR") == Decimal("239.02")
    assert convert(Decimal("0.125"), Decimal("1"), "EUR") == Decimal("0.12")  # half-even
    assert convert(Decimal("1000.00"), Decimal("161.2345"), "JPY") == Decimal("161234")
    big = Decimal("9" * 24)
    assert convert(big, Decimal("999999999999.999999999999"), "KWD") > big  # never overflows
