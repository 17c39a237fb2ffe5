"""The request's outbox sends each Court action it takes, exactly as its organ signed it, for
the record store (``schemas/court_record.py``; RS 57(3)(e), 75(4), 77(2)(b), 93(1)(k)): one
signed original beside each Court action's event, with that event's id, the request and the
moment it was taken, which verifies as the request verified it. The event itself, on the
Court's shared topic, carries the audit and never the action's text."""

from __future__ import annotations

from schemas.court import request_address
from schemas.events import RequestEventType
from tests.decisions import conviction
from tests.organ_keys import KEYS
from tests.workflows.support import ACCOUNT, ORDER, forfeiture, in_execution, send
from tracefreeze.record.decisions import check_action
from tracefreeze.record.evidence import VERIFIED
from tracefreeze.security.organ_keys import signed

COURT = (RequestEventType.COURT_ACTION, RequestEventType.CLOSED)


async def test_each_court_action_leaves_its_signed_original_beside_its_event(worker) -> None:
    req, handle = await in_execution(worker)
    address = request_address(req.reference, "NLD")
    judgment, order = signed(conviction(), address), signed(forfeiture(ACCOUNT), address)
    await send(handle, judgment)
    await send(handle, order)
    originals = [s for r in worker.published.rounds for s in r.signed]
    # the State's answers leave none; each action with its signature
    assert [s.action for s in originals] == [judgment, order]
    events = {e.id: e for e in worker.published.events(req.reference) if e.type in COURT}
    assert [s.id for s in originals] == list(events)  # one beside each action's event
    for s in originals:
        event = events[s.id]
        assert (s.subject, s.requested_state, s.time) == (req.reference, "NLD", event.time)
        assert event.caused_by == s.action.event_id and event.audit is not None
        assert ORDER not in event.model_dump_json()  # the order's text stays off that topic
        found = check_action(s.model_dump_json().encode(), KEYS)
        assert found.verdict == VERIFIED, found.detail
