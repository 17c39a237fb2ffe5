"""What a request's values are worth across currencies (docs/legal-process.md, 'Value as it
happens'): totals stay per currency, unconverted; a dated exchange rate the Registry records
adds converted figures beside them, with the rate and its date. Pure functions over the
ledger; deterministic.
"""

from __future__ import annotations

from datetime import datetime

from schemas.court import ExchangeRate
from schemas.ledger import MAX_RATES, RecordedRate
from schemas.request import CourtRequest
from workflows.carry import RequestCarry
from workflows.outcome import Outcome, Refusal


def pair(from_currency: str, to_currency: str) -> str:
    return f"{from_currency}/{to_currency}"


def check_exchange_rate(record: RequestCarry, _: CourtRequest, m: ExchangeRate) -> None:
    """A rate for a new pair is refused once ``MAX_RATES`` pairs are kept; one for a pair
    already kept replaces it (a later date, or a correction: the timeline keeps both)."""
    rates = record.ledger.rates
    if pair(m.from_currency, m.to_currency) not in rates and len(rates) >= MAX_RATES:
        raise Refusal(
            f"{len(rates)} currency pairs have a rate already: record a rate for one of them"
        )


def apply_exchange_rate(
    record: RequestCarry, _: CourtRequest, m: ExchangeRate, at: datetime
) -> Outcome:
    """Record the dated rate; the view's converted totals use it from now on, each figure
    shown with the rate, its date and source, never added to the unconverted totals."""
    key = pair(m.from_currency, m.to_currency)
    record.ledger.rates = {
        **record.ledger.rates,
        key: RecordedRate(
            from_currency=m.from_currency,
            to_currency=m.to_currency,
            rate=m.rate,
            rate_date=m.rate_date,
            source=m.source,
            event_id=m.event_id,
        ),
    }
    return Outcome(
        f"exchange rate recorded: 1 {m.from_currency} = {m.rate} {m.to_currency} "
        f"on {m.rate_date:%Y-%m-%d} ({m.source})"
    )
