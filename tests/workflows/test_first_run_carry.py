"""A run takes what it would send or relay only from its workflow's own previous run
(``own_carry``, workflows/request_keys.py): a request started with a carry of its starter's
making keeps none of the events it holds queued to publish, so nothing written into a start
reaches the Court's topics or a State's channel as the request's (RS 87(1)(a): a request goes
to the State it is addressed to, with what the Court put in it). On the time-skipping
server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from schemas.events import RequestEvent, RequestEventType
from schemas.ledger import RequestStatus
from tests.builders import acknowledgement, court_request, to
from tests.workflows.support import own_env, request_worker, send, start_request
from workflows.carry import RequestCarry
from workflows.ledger import ledger_from_request


async def test_a_forged_carry_sends_nothing_it_held_queued() -> None:
    async with own_env() as env, request_worker(env, "forged-carry") as (queue, recorder):
        request = court_request(tag="CARRY")
        forged_id = str(uuid.uuid4())
        forged = RequestCarry(
            status=RequestStatus.TRANSMITTED,
            ledger=ledger_from_request(request),
            timeline=[],
            outbox=[
                RequestEvent(
                    id=forged_id,
                    type=RequestEventType.TRANSMITTED,
                    time=datetime(2026, 1, 1, tzinfo=UTC),
                    subject=request.reference,
                    case_number=request.case_number,
                    requested_state=request.requested_state,
                    status=RequestStatus.CLOSED,
                )
            ],
        )
        handle = await start_request(env.client, queue, request, carried=forged)
        await send(handle, acknowledgement(to(request.reference)))  # publishes what is queued
    sent = [s.event for s in recorder.calls]
    assert any(e.type is RequestEventType.ANSWER_ACCEPTED for e in sent), sent
    assert all(e.id != forged_id for e in sent), sent  # the forged event never left
