"""The request's outbox: lifecycle and escalation events are queued in the request's carried
state as they happen, with ids made here (deterministic, so a retried publish repeats them),
then published in order by an activity at each round of the main loop.

A Court action's event carries its audit; the action's signed original goes beside it to the
Court-internal topic the record store keeps (``schemas/court_record.py``; the Registrar keeps
the Court's records, Rule 15: its decisions stay re-verifiable after Temporal forgets them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from schemas.common import Confidentiality
    from schemas.completeness import CompletenessOverride
    from schemas.court_record import SignedCourtAction
    from schemas.events import AssetEventData, CourtActionAudit, RequestEvent, RequestEventType
    from schemas.ledger import LedgerEntry
    from schemas.organ_keys import OrganKeys
    from schemas.outbox import (
        MAX_OUTBOX_ROUND,
        PUBLISH_OUTBOX,
        PublishedRound,
        PublishOutbox,
        carries_request,
        carries_text,
    )
    from schemas.request import CourtRequest
    from workflows import state_machine as sm
    from workflows.carry import RequestCarry
    from workflows.catalog import Kind
    from workflows.court_audit import audit_of
    from workflows.outcome import Outcome


PUBLISH_TIMEOUT = timedelta(seconds=30)
MAX_SIGNED_ROUND = 10
"""Signed originals per round; one that holds a version of the request goes alone."""
PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)
FIRST_TRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=2)
FIRST_TRY_WITHIN = timedelta(minutes=2)
"""Every round's first try (``publish``'s ``on_outage``: what answers and firings changed waits
to be shown): two attempts, and never longer than ``FIRST_TRY_WITHIN`` from its scheduling (a
wave of requests during an outage queues their attempts behind each other), then the request
learns the broker is not taking its events."""


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

    async def publish(
        self,
        rec: RequestCarry,
        req: CourtRequest,
        read_keys: bool,
        on_outage: Callable[[], None],
        owed: Callable[[], bool],
    ) -> OrganKeys | None:
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
        message of the round carries it, and at most one text of the request in all (an
        original holding a new version goes in a round of its own). Rounds are cut by kinds
        and counts only, never by measured sizes, so the same code cuts a history the same way
        whatever the serializer's version; and never inside the events one answer or action
        caused (the State's message of a decision names its assets).

        ``read_keys``: the first round also reads the organ key registry, returned (None if no
        round went): a first run's transmission so brings the registry in with it
        (``request_keys.py``).

        ``on_outage``: what the request does after the rounds but must not leave undone while
        the broker is down (what answers and firings changed, shown in the Web UI: status,
        overdue flag, level). Rounds are then tried with ``FIRST_TRY`` until one fails;
        ``on_outage`` then runs and that round is tried again, the same events under the same
        ids, without a bound; while the broker stays down, ``on_outage`` runs again whenever
        ``owed()`` says an answer taken meanwhile changed what is shown. A cancellation or a
        failure marked non-retryable ends the publish as before."""
        events, escalations = len(rec.outbox), len(rec.escalation_outbox)
        signed = len(rec.signed_outbox)
        read: OrganKeys | None = None
        down = False  # a round's first try failed: the broker is taken to be down
        while events or escalations or signed:
            n_ev = whole_groups(rec.outbox, MAX_OUTBOX_ROUND, events)
            n_esc = min(escalations, max(0, MAX_OUTBOX_ROUND - n_ev))
            carried = any(carries_request(e) for e in rec.outbox[:n_ev])
            n_sig = originals(rec.signed_outbox, carried, signed)
            batch = PublishOutbox(
                events_topic=self.events_topic,
                events=rec.outbox[:n_ev],
                escalations_topic=self.escalations_topic,
                escalations=rec.escalation_outbox[:n_esc],
                signed=rec.signed_outbox[:n_sig],
                confidentiality=req.confidentiality,
                request=req if carried else None,
                read_organ_keys=read_keys,
            )
            first_try = not down
            round_ = workflow.start_activity(
                PUBLISH_OUTBOX,
                batch,
                result_type=PublishedRound,
                start_to_close_timeout=PUBLISH_TIMEOUT,
                schedule_to_close_timeout=FIRST_TRY_WITHIN if first_try else None,
                retry_policy=FIRST_TRY if first_try else PUBLISH_RETRY,
                summary=_round_summary(batch),
            )
            try:
                done = await (_showing(round_, on_outage, owed) if down else round_)
            except ActivityError as err:
                final = isinstance(err.cause, ApplicationError) and err.cause.non_retryable
                if not first_try or final or is_cancelled_exception(err):
                    raise
                on_outage()
                down = True
                continue  # the same round again: nothing was taken off the outbox
            del rec.outbox[:n_ev], rec.escalation_outbox[:n_esc], rec.signed_outbox[:n_sig]
            events, escalations, signed = events - n_ev, escalations - n_esc, signed - n_sig
            if batch.read_organ_keys:  # only the round that was asked brings a registry
                read, read_keys = done.organ_keys, False
        return read


async def _showing(
    round_: workflow.ActivityHandle[PublishedRound],
    show: Callable[[], None],
    owed: Callable[[], bool],
) -> PublishedRound:
    """``round_``'s result, retried while the broker is down; meanwhile ``show`` runs whenever
    ``owed()``: an answer taken during an outage is shown without waiting for the broker."""
    try:
        while not round_.done():
            await workflow.wait_condition(lambda: round_.done() or owed())
            if owed() and not round_.done():
                show()
    except asyncio.CancelledError:
        round_.cancel()  # as an awaited activity would be
        raise
    return await round_


def whole_groups(events: list[RequestEvent], most: int, queued: int | None = None) -> int:
    """How many of the first ``queued`` of ``events`` (all by default), in order, a round
    takes: up to ``most``, never splitting the events one answer or action caused; a group
    larger than ``most`` goes whole, alone (``schemas/outbox.py`` MAX_GROUP bounds it). Reads
    in place: a backlog after a long broker outage is not copied once per round."""
    count = len(events) if queued is None else min(queued, len(events))
    if count <= most:
        return count
    n = most
    while n > 0 and _same_cause(events[n - 1], events[n]):
        n -= 1
    if n == 0:  # the first group alone is larger than a round
        n = 1
        while n < count and _same_cause(events[n - 1], events[n]):
            n += 1
    return n


def _same_cause(a: RequestEvent, b: RequestEvent) -> bool:
    return a.caused_by is not None and a.caused_by == b.caused_by


def originals(
    signed: list[SignedCourtAction], text_in_round: bool, queued: int | None = None
) -> int:
    """How many of the first ``queued`` signed originals (all by default) a round takes, in
    order: up to ``MAX_SIGNED_ROUND``; one holding a version of the request (RS 93(3), 97)
    goes first and alone, and never beside the request's own text (``text_in_round``; such a
    round moves its events anyway, so the outbox still moves), so no round holds two copies
    of a request."""
    most = MAX_SIGNED_ROUND if queued is None else min(queued, MAX_SIGNED_ROUND)
    n = 0
    for original in signed[:most]:
        if carries_text(original):
            return 1 if n == 0 and not text_in_round else n
        n += 1
    return n


def _round_summary(batch: PublishOutbox) -> str:
    """What the Web UI shows for one publishing round: the kinds, never the contents."""
    kinds = [e.type.value.split(".")[-2] for e in batch.events]
    kinds += [f"escalation: {e.kind.value} {e.step or ''}".strip() for e in batch.escalations]
    shown = ", ".join(kinds[:4]) + (f" and {len(kinds) - 4} more" if len(kinds) > 4 else "")
    return f"publish {shown}"
