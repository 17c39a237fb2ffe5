"""Value as it happens (docs/legal-process.md, 'Value as it happens'), on the time-skipping
test server: the manager values a restrained asset (RS 93(1)(k)) in local currency, in that
currency's ISO 4217 minor units; management costs are recorded per asset and in the totals
(they reduce what may reach victims, RS 75(2), 79(2)); totals stay per currency, unconverted,
until the Registry records a dated rate - then a converted figure with the rate and its date
stands beside them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from schemas import court as c
from schemas.ledger import MAX_RATES, CurrencyTotals, RequestStatus
from tests.workflows.support import (
    ACCOUNT,
    ACCOUNT_EUR,
    APARTMENT,
    APARTMENT_EUR,
    assert_rejected,
    asset_management,
    court_action,
    in_execution,
    send,
    view,
)
from workflows.request import RequestWorkflow

S = RequestStatus
VESSEL_EUR = Decimal("1150000.00")


def rate(from_currency: str = "LYD", to_currency: str = "EUR", value: str = "0.1912", **f):
    return court_action(
        c.ExchangeRate,
        from_currency=from_currency,
        to_currency=to_currency,
        rate=value,
        rate_date=f.pop("rate_date", "2026-03-02"),
        source=f.pop("source", "Central Bank of Libya, official rate"),
        **f,
    )


async def test_rs_93_1_k_the_manager_values_in_local_currency_in_its_minor_units(worker) -> None:
    """A frozen account first valued in EUR is valued by the Libyan manager in LYD, to the
    dirham (three decimals, ISO 4217): taken (old code refused any currency but the first);
    the asset's value is the latest with its date, the history keeps both, and the totals
    count the asset in LYD, not converted into EUR."""
    req, handle = await in_execution(worker)
    local = asset_management(req, ACCOUNT, "2082145.125", "LYD")
    assert (await send(handle, local)).status is S.IN_EXECUTION
    v = await view(handle)
    account = v.ledger.entries[ACCOUNT]
    assert (account.value.amount, account.value.currency) == (Decimal("2082145.125"), "LYD")
    assert account.valued_at == local.sent_at
    assert [(h.value.amount, h.value.currency) for h in account.history] == [
        (ACCOUNT_EUR, "EUR"),
        (Decimal("2082145.125"), "LYD"),
    ]
    assert account.history[-1].note.endswith("(valued in LYD, before in EUR)")
    assert v.totals["LYD"] == CurrencyTotals(
        identified=Decimal("2082145.125"), frozen=Decimal("2082145.125")
    )
    assert v.totals["EUR"].frozen == APARTMENT_EUR
    assert v.converted_totals == []  # no rate recorded: nothing converted


async def test_rs_75_2_management_costs_are_kept_per_asset_and_in_the_totals(worker) -> None:
    """Management costs (Bemba's aircraft: parking fees while frozen) reduce what may reach
    victims (RS 75(2), 79(2)): each is added to the asset's costs in its currency, shown in
    its history and the totals, and never netted from the value; a costs-only report leaves
    the value as it was."""
    req, handle = await in_execution(worker)
    fees = asset_management(
        req,
        APARTMENT,
        "1.00",
        kind="management_costs",
        costs={"amount": "700000.00", "currency": "EUR"},
    )
    fees = fees.model_copy(update={"value": None})
    await send(handle, fees)
    more = asset_management(
        req, APARTMENT, "820000.00", costs={"amount": "12500.50", "currency": "CHF"}
    )
    await send(handle, more)
    await send(
        handle,
        asset_management(
            req, APARTMENT, "815000.00", costs={"amount": "300.00", "currency": "EUR"}
        ),
    )
    v = await view(handle)
    apartment = v.ledger.entries[APARTMENT]
    assert apartment.management_costs == {
        "EUR": Decimal("700300.00"),
        "CHF": Decimal("12500.50"),
    }
    assert apartment.value.amount == Decimal("815000.00")
    assert apartment.history[1].value.amount == APARTMENT_EUR  # costs alone: value unchanged
    assert [h.costs.amount for h in apartment.history[1:]] == [
        Decimal("700000.00"),
        Decimal("12500.50"),
        Decimal("300.00"),
    ]
    assert v.totals["EUR"].management_costs == Decimal("700300.00")
    assert v.totals["EUR"].frozen == ACCOUNT_EUR + Decimal("815000.00")  # not netted
    assert v.totals["CHF"] == CurrencyTotals(management_costs=Decimal("12500.50"))
    assert v.timeline[-3].what == f"management_costs of {APARTMENT}: costs 700000.00 EUR"


async def test_totals_are_converted_only_at_a_recorded_dated_rate(worker) -> None:
    """Per-currency totals stay unconverted; once the Registry records a dated LYD/EUR rate,
    the LYD totals are also shown in EUR, each figure rounded to the cent, with the rate, its
    date and source, and never added to the EUR totals. A later rate for the pair replaces
    it; a rate for a currency with no totals shows nothing."""
    req, handle = await in_execution(worker)
    await send(handle, asset_management(req, ACCOUNT, "2082145.125", "LYD"))
    eur_before = (await view(handle)).totals["EUR"]
    first = rate()
    await send(handle, first)
    await send(handle, rate("JPY", "EUR", "0.0061", source="ECB reference rate"))
    v = await view(handle)
    assert v.totals["EUR"] == eur_before  # the EUR totals are what they were
    [lyd] = v.converted_totals
    assert (lyd.from_currency, lyd.to_currency, lyd.rate, lyd.rate_date, lyd.source) == (
        "LYD",
        "EUR",
        Decimal("0.1912"),
        date(2026, 3, 2),
        "Central Bank of Libya, official rate",
    )
    assert lyd.event_id == first.event_id
    assert lyd.totals.frozen == Decimal("398106.15")  # 2,082,145.125 x 0.1912 = 398,106.1479
    assert "exchange rate recorded: 1 LYD = 0.1912 EUR on 2026-03-02" in v.timeline[-2].what

    later = rate(value="0.1900", rate_date="2026-03-10")
    await send(handle, later)
    [lyd] = (await view(handle)).converted_totals
    assert (lyd.rate, lyd.rate_date, lyd.totals.frozen) == (
        Decimal("0.1900"),
        date(2026, 3, 10),
        Decimal("395607.57"),
    )


async def test_exchange_rates_are_bounded_per_request(worker) -> None:
    """Hostile or careless volume: at most ``MAX_RATES`` currency pairs are kept; a rate for a
    further pair is refused with the reason, one for a pair kept is still taken."""
    _, handle = await in_execution(worker)
    codes = ["USD", "GBP", "CHF", "JPY", "LYD", "KWD", "BHD", "CAD", "AUD", "SEK", "NOK"]
    pairs = [(a, b) for a in codes for b in codes if a != b][:MAX_RATES]
    for a, b in pairs:
        await send(handle, rate(a, b, "1.5"))
    await assert_rejected(
        handle,
        worker.published,
        rate("EUR", "USD", "1.08"),
        f"{MAX_RATES} currency pairs have a rate already",
    )
    await send(handle, rate(*pairs[0], "1.6"))
    assert len((await view(handle)).ledger.rates) == MAX_RATES


async def test_an_assets_costs_stay_below_what_its_request_can_report_to_its_case(worker) -> None:
    """A State that reports management costs without end (each amount valid alone) would have
    pushed its request's totals past what its summary to the case may carry, failing the
    request's workflow task on every retry and holding up the Court's release and closure. The
    costs of one asset in one currency stay below the largest amount a State may report: the
    report past that is refused with the reason, and the request goes on and reports."""
    req, handle = await in_execution(worker)
    huge = {"amount": "999999999999999999.00", "currency": "EUR"}
    first = asset_management(req, APARTMENT, "1.00", kind="management_costs", costs=huge)
    await send(handle, first.model_copy(update={"value": None}))
    again = asset_management(req, APARTMENT, "1.00", kind="management_costs", costs=huge)
    again = again.model_copy(update={"value": None})
    await assert_rejected(handle, worker.published, again, "exceed what one asset's costs can be")
    assert (await view(handle)).ledger.entries[APARTMENT].management_costs == {
        "EUR": Decimal("999999999999999999.00")
    }
    assert (await handle.query(RequestWorkflow.case_summary)).totals["EUR"].management_costs
