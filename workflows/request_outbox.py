"""The request's outbox: lifecycle and escalation events are queued in the request's carried
state as they happen, with ids made here (deterministic, so a retried publish repeats them),
then published in order by an activity at each round of the main loop.

A Court action's event carries its audit; the action's signed original goes beside it to the
Court-internal topic the record store keeps (``schemas/court_record.py``; RS 93(1)(k),
57(3)(e), 75(4): the Court's decisions are re-verifiable after Temporal forgets them).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schemas.common import Confidentiality
    from schemas.completeness import CompletenessOverride
    from schemas.court_record import SignedCourtAction
    from schemas.events import AssetEventData, CourtActionAudit, RequestEvent, RequestEventType
    from schemas.ledger import LedgerEntry
    from schemas.outbox import (
        MAX_OUTBOX_ROUND,
        PUBLISH_OUTBOX,
        ROUND_BYTES,
        PublishOutbox,
        carries_request,
    )
    from schemas.request import CourtRequest
    from workflows import state_machine as sm
    from workflows.carry import RequestCarry
    from workflows.catalog import Kind
    from workflows.court_audit import audit_of
    from workflows.outcome import Outcome


PUBLISH_TIMEOUT = timedelta(seconds=30)
PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)


class Outbox:
    """Queues a request's events in its carry (``rec.outbox``, ``rec.escalation_outbox``) and
    publishes them to the topics the request was started with."""

    def __init__(self, events_topic: str, escalations_topic: str) -> None:
        self.events_topic = events_topic
        self.escalations_topic = escalations_topic

    def announce(
        self, rec: RequestCarry, req: CourtRequest, m: Any, kind: Kind, outcome: Outcome
    ) -> None:
        """The events of one accepted answer or action: what it was (a Court action's with its
        audit: ``court_audit.py``), then its assets."""
        event_id, audit = m.event_id, audit_of(m) if kind.party == "court" else None
        if kind.party == "court":
            closed = kind.name == sm.CLOSE
            court = RequestEventType.CLOSED if closed else RequestEventType.COURT_ACTION
            self.emit(rec, req, court, event_id, action=kind.name, audit=audit)
            rec.signed_outbox.append(
                SignedCourtAction(
                    id=rec.outbox[-1].id,
                    time=rec.outbox[-1].time,
                    subject=req.reference,
                    requested_state=req.requested_state,
                    action=m,
                )
            )
        else:
            self.emit(rec, req, RequestEventType.ANSWER_ACCEPTED, event_id, answer_type=kind.name)
        for entry in outcome.contested:
            self.emit_asset(rec, req, RequestEventType.ASSET_CONTESTED, entry, event_id)
        for entry in outcome.assets:
            self.emit_asset(rec, req, RequestEventType.for_asset(entry.status), entry, event_id)

    def emit(
        self,
        rec: RequestCarry,
        req: CourtRequest,
        type_: RequestEventType,
        caused_by: str | None,
        answer_type: str | None = None,
        action: str | None = None,
        asset: AssetEventData | None = None,
        override: CompletenessOverride | None = None,
        audit: CourtActionAudit | None = None,
    ) -> None:
        """Queue one event; ``override`` only on transmission (an incomplete request sent by a
        named person's decision), which also names the request it supplements, if any."""
        transmitted = type_ is RequestEventType.TRANSMITTED
        ex_parte = req.confidentiality is Confidentiality.EX_PARTE
        rec.outbox.append(
            RequestEvent(
                id=str(workflow.uuid4()),
                type=type_,
                time=workflow.now(),
                subject=req.reference,
                case_number=req.case_number,
                requested_state=req.requested_state,
                status=rec.status,
                caused_by=caused_by,
                answer_type=answer_type,
                action=action,
                confidentiality=req.confidentiality,
                origin=req.origin,
                asset=None if ex_parte else asset,
                totals={} if ex_parte else rec.ledger.totals(),
                supplements=req.supplements if transmitted else None,
                completeness_override=(
                    None
                    if override is None or not transmitted
                    else override.withheld()
                    if ex_parte
                    else override
                ),
                audit=audit,
            )
        )

    def emit_asset(
        self,
        rec: RequestCarry,
        req: CourtRequest,
        type_: RequestEventType,
        entry: LedgerEntry,
        caused_by: str | None,
    ) -> None:
        data = AssetEventData(
            asset_id=entry.asset.asset_id,
            kind=entry.asset.kind,
            status=entry.status,
            value=entry.value,
            held_up_to=entry.held_up_to,
        )
        self.emit(rec, req, type_, caused_by, asset=data)

    async def publish(self, rec: RequestCarry, req: CourtRequest) -> None:
        """Publish, in order, what is queued now; what arrives meanwhile waits for the next
        round, so answers arriving without pause cannot keep the run from moving on.

        A round is one activity carrying up to ``MAX_OUTBOX_ROUND`` events, scheduled in the
        workflow task that queued them (the server hands it back to this worker eagerly where
        it allows). Not a local activity: its completion is then an event of history, so a
        replay meets it exactly where the live run did, whatever answer arrived meanwhile (a
        local activity's result can reach the workflow with an update live and alone on
        replay, and the commands after it would change order). The update that caused the
        events returns once they are accepted in history; the events follow. A broker outage
        retries the round with the same event ids (backoff up to 5 minutes).

        The round's input is written to history, so it holds the request's text only when a
        message of the round carries it, and signed originals up to ``ROUND_BYTES``."""
        events, escalations = len(rec.outbox), len(rec.escalation_outbox)
        signed = len(rec.signed_outbox)
        while events or escalations or signed:
            n_ev = min(events, MAX_OUTBOX_ROUND)
            n_esc = min(escalations, MAX_OUTBOX_ROUND - n_ev)
            carried = any(carries_request(e) for e in rec.outbox[:n_ev])
            spent = _json_bytes(req) if carried else 0
            n_sig = _within(rec.signed_outbox[: min(signed, MAX_OUTBOX_ROUND)], spent)
            batch = PublishOutbox(
                events_topic=self.events_topic,
                events=rec.outbox[:n_ev],
                escalations_topic=self.escalations_topic,
                escalations=rec.escalation_outbox[:n_esc],
                signed=rec.signed_outbox[:n_sig],
                confidentiality=req.confidentiality,
                request=req if carried else None,
            )
            await workflow.execute_activity(
                PUBLISH_OUTBOX,
                batch,
                start_to_close_timeout=PUBLISH_TIMEOUT,
                retry_policy=PUBLISH_RETRY,
                summary=_round_summary(batch),
            )
            del rec.outbox[:n_ev], rec.escalation_outbox[:n_esc], rec.signed_outbox[:n_sig]
            events, escalations, signed = events - n_ev, escalations - n_esc, signed - n_sig


def _json_bytes(item: Any) -> int:
    return len(item.model_dump_json())


def _within(signed: list[SignedCourtAction], spent: int) -> int:
    """How many of ``signed``, in order, a round takes beside ``spent`` bytes: at least one,
    then as many as stay within ``ROUND_BYTES``."""
    n = 0
    for original in signed:
        spent += _json_bytes(original)
        if n and spent > ROUND_BYTES:
            break
        n += 1
    return n


def _round_summary(batch: PublishOutbox) -> str:
    """What the Web UI shows for one publishing round: the kinds, never the contents."""
    kinds = [e.type.value.split(".")[-2] for e in batch.events]
    kinds += [f"escalation: {e.kind.value} {e.step or ''}".strip() for e in batch.escalations]
    shown = ", ".join(kinds[:4]) + (f" and {len(kinds) - 4} more" if len(kinds) > 4 else "")
    return f"publish {shown}"
