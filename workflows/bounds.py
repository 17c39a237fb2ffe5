"""Bounds an answer or action must keep relative to the request it reaches, checked by every
update's validator before its own rule (``workflows/catalog.py``), again in its handler.

The contracts (``schemas/common.py``) bound every value on its own: texts, lists, amounts,
periods, and date-times between 2002-07-01 (entry into force of the Rome Statute, RS 126) and
a fixed outer limit. Here the window narrows to the request: nothing may look more than
``HORIZON`` (100 years) past the request's transmission, a national order made to execute the
request cannot have lapsed before it was transmitted, a period proposed in an answer ends
after the answer is sent, the ledger holds at most ``MAX_ASSETS`` assets, and no list of the
record grows past its cap (``workflows/list_bounds.py``). Every date-time
the message carries is found by walking it, so a field added later is bounded too. Pure
functions; deterministic (no clock: the anchor is the request's transmission).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import BaseModel

from schemas.answers import ExecutionReport, Postponement
from schemas.common import EARLIEST, HORIZON, MAX_ASSETS
from schemas.court import ConsultationResponse
from schemas.request import CourtRequest
from workflows.carry import RequestCarry
from workflows.list_bounds import check_list_bounds
from workflows.outcome import Refusal


def anchor(record: RequestCarry, request: CourtRequest) -> datetime:
    """When the request was transmitted (its issue, for a record carried without the time)."""
    return record.report.transmitted_at or request.issued_at


def instants(value: object, path: str = "") -> Iterator[tuple[str, datetime]]:
    """Every date-time in a message, with where it sits (``results[0].national_order...``)."""
    if isinstance(value, datetime):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from instants(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from instants(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from instants(item, f"{path}[{key}]")


def check_bounds(record: RequestCarry, request: CourtRequest, m: BaseModel) -> None:
    """Refuse, with the field and the reason, a value outside the request's plausible window."""
    start = anchor(record, request)
    latest = start + HORIZON
    for path, at in instants(m):
        if at < EARLIEST:
            raise Refusal(
                f"{path} {at.isoformat()} is before {EARLIEST:%Y-%m-%d}, the entry into force "
                "of the Rome Statute (RS 126)"
            )
        if at > latest:
            raise Refusal(
                f"{path} {at.isoformat()} is more than 100 years after the request was "
                f"transmitted ({start:%Y-%m-%d})"
            )
    check_list_bounds(record, m)
    if isinstance(m, ExecutionReport):
        _check_report(record, start, m)
        _check_ledger_size(record, {r.asset_id for r in m.results})
    if isinstance(m, ConsultationResponse) and m.modified_request is not None:
        _check_ledger_size(record, {a.asset_id for a in m.modified_request.known_assets})
    if isinstance(m, Postponement) and m.proposed_until is not None:
        if m.proposed_until <= m.sent_at:
            raise Refusal("proposed_until: a postponement period ends after it is proposed")


def _check_report(record: RequestCarry, start: datetime, m: ExecutionReport) -> None:
    for i, result in enumerate(m.results):
        expires = result.national_order_expires_at
        if expires is not None and expires <= start:
            raise Refusal(
                f"results[{i}].national_order_expires_at {expires.isoformat()} is not after the "
                f"request was transmitted ({start:%Y-%m-%d}): an order made to execute it "
                "cannot have lapsed before"
            )


def _check_ledger_size(record: RequestCarry, asset_ids: set[str]) -> None:
    new = asset_ids - set(record.ledger.entries)
    if len(record.ledger.entries) + len(new) > MAX_ASSETS:
        raise Refusal(
            f"the request's ledger holds at most {MAX_ASSETS} assets; this would add "
            f"{len(new)} to {len(record.ledger.entries)}"
        )
