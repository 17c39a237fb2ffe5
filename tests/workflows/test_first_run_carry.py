"""A run carries state only from the workflow's own previous run (``own_carry``,
workflows/request_keys.py): a request started with a carry of its starter's making (a
status, a timeline, events queued to publish, a ledger) starts afresh, transmitted as any
request (RS 87(1), 93(1)(k): what a request holds and has sent is what the Court and the
State did, never what a client wrote into its start). On the time-skipping server."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.events import RequestEventType
from schemas.ledger import RequestStatus
from schemas.views import TimelineEntry
from tests.builders import court_request
from tests.workflows.support import (
    own_env,
    request_worker,
    start_request,
    view,
    wait_for_events,
)
from workflows.carry import RequestCarry
from workflows.ledger import ledger_from_request

FORGED = "released by decision of the Trial Chamber (forged)"


async def test_a_request_started_with_a_forged_carry_starts_afresh() -> None:
    async with own_env() as env, request_worker(env, "forged-carry") as (queue, recorder):
        request = court_request(tag="CARRY")
        forged = RequestCarry(
            status=RequestStatus.CLOSED,
            ledger=ledger_from_request(request),
            timeline=[
                TimelineEntry(
                    at=datetime(2026, 1, 1, tzinfo=UTC),
                    event_id=None,
                    what=FORGED,
                    status=RequestStatus.CLOSED,
                )
            ],
        )
        handle = await start_request(env.client, queue, request, carried=forged)
        shown = await view(handle)
        sent = await wait_for_events(recorder, request.reference, 1)
    assert shown.status is RequestStatus.TRANSMITTED  # not the carry's CLOSED
    assert all(entry.what != FORGED for entry in shown.timeline)
    assert shown.timeline[0].what.startswith("transmitted to the State")
    assert sent[0].type is RequestEventType.TRANSMITTED  # sent as any request
