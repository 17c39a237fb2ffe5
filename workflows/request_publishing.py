"""What a request tells its parent case (``ParentReports``), the Temporal UI (search
attributes and details) and the cooperation report (memo) (``Visibility``). Its Kafka events
go through ``workflows/request_outbox.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from schemas.case import RequestSummary
    from schemas.court import Stage
    from schemas.ledger import AssetStatus
    from schemas.request import CourtRequest
    from schemas.views import ReleaseTally
    from workflows import search_attributes as sa
    from workflows import state_machine as sm
    from workflows.carry import RequestCarry
    from workflows.catalog import Kind
    from workflows.details import current_details
    from workflows.ladder import level_of

PARENT_REPORT_INTERVAL = timedelta(seconds=2)
"""At most one report to the case per interval of workflow time (its closure goes at once)."""
PARENT_REPORT_ATTEMPTS = 3
"""Reports in a row the case may miss before it counts as gone (for the rest of the run)."""


class ParentReports:
    """A request started by a case tells the case where it stands (multi-State cases).

    What it sends is a small ``RequestSummary`` (status, totals, counts), never the whole view,
    and only when it changed since the last one; at most one per ``PARENT_REPORT_INTERVAL`` of
    workflow time (a timer brings the request back for the rest, ``arm``), except its closure,
    which goes at once. The case is signalled by its workflow id: it continues as new, and its
    run changes."""

    def __init__(self, stale: bool) -> None:
        self.stale = stale
        """A change the case has not been told."""
        self.told: RequestSummary | None = None
        self.told_at: datetime | None = None
        self.failures = 0
        self.gone = False
        """The case missed the last reports (terminated or closed): told nothing more."""
        self._timer: tuple[datetime, asyncio.Future[None]] | None = None

    def changed(self) -> None:
        """The request changed: its case, if it has one, is to be told."""
        self.stale = workflow.info().parent is not None

    def _due(self) -> datetime | None:
        """When the next report to the case may go; None: at once."""
        return None if self.told_at is None else self.told_at + PARENT_REPORT_INTERVAL

    def waiting(self, closed: bool) -> bool:
        """A change the case has not been told, and the time to tell it has come: at once, on
        closure, once the interval's timer fired — or no timer is armed for it yet (the run
        loop comes round to arm it, ``arm``).

        A wake-up condition, so it reads the request's state only, never the clock: the SDK
        re-evaluates it in every activation, and one that history does not hold (a workflow
        task whose only update the validator refused) would otherwise find the interval over
        and send a report that a replay never sends (a non-deterministic history)."""
        if not self.stale or self.gone:
            return self.stale
        due = self._due()
        if due is None or closed:
            return True
        armed = self._timer
        return armed is None or armed[0] != due or armed[1].done()

    def arm(self, closed: bool) -> None:
        """A timer for a report held back by the interval: the request wakes to send it.
        One timer, for the report now due; a timer armed for an earlier report is replaced
        (it would wake the request too early and never again). Called by the run loop, where
        reading the clock is deterministic; a report already due gets a timer already fired."""
        if not self.stale or self.gone or closed:
            return
        due, armed = self._due(), self._timer
        if due is None or (armed is not None and armed[0] == due):
            return
        if armed is not None and not armed[1].done():
            armed[1].cancel()
        if due <= workflow.now():
            fired: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            fired.set_result(None)
            self._timer = (due, fired)
            return
        timer = asyncio.ensure_future(
            workflow.sleep(due - workflow.now(), summary="report to the case")
        )
        self._timer = (due, timer)

    def _fired(self, due: datetime) -> bool:
        armed = self._timer
        return armed is not None and armed[0] == due and armed[1].done()

    async def inform(
        self, summary_at: Callable[[datetime], RequestSummary], closed: bool, reference: str
    ) -> None:
        """Signal the case the request's summary if it changed and the interval allows."""
        parent = workflow.info().parent
        if not self.stale or parent is None or self.gone:
            self.stale = False
            return
        now = workflow.now()
        due = self._due()
        if not closed and due is not None and now < due and not self._fired(due):
            return
        self.stale = False
        summary = summary_at(now)
        if summary.same_as(self.told):
            return
        self.told, self.told_at = summary, now
        handle = workflow.get_external_workflow_handle(parent.workflow_id)
        while True:
            try:
                await handle.signal("request_changed", summary)
            except FailureError as err:
                self._failed(parent.workflow_id, reference, err)
            else:
                self.failures = 0
                return
            if not closed or self.gone:
                return  # a change is tried again after the interval (``arm``)
            # The closure is the last report, and the case cannot close without it.
            await workflow.sleep(PARENT_REPORT_INTERVAL, summary="closure to the case, again")
            self.stale = False

    def _failed(self, case_workflow_id: str, reference: str, err: FailureError) -> None:
        """A report the case did not get: tried again after the interval (a signal can miss
        a case in the middle of continuing as new); after ``PARENT_REPORT_ATTEMPTS`` misses in
        a row the case is gone (terminated, or closed without this request) and is told
        nothing more in this run. The request stands on its own: it never fails for that."""
        self.told = None
        self.stale = True
        self.failures += 1
        self.gone = self.failures >= PARENT_REPORT_ATTEMPTS
        workflow.logger.warning(
            "a report to the case failed",
            extra={
                "case_workflow_id": case_workflow_id,
                "request_reference": reference,
                "attempt": self.failures,
                "gone": self.gone,
                "error": type(err).__name__,
            },
        )


class Visibility:
    """Search attributes, current details and the report memo, written only when what they
    show changed: each write is a history event and a visibility store write, and most answers
    (a valuation, an acknowledgement twice) change neither."""

    def __init__(self) -> None:
        self.shown: dict[str, Any] = {}
        """Search attributes and memo as last written."""
        self.owed = False
        """An answer or a firing changed what is shown, not written yet: the request writes
        it after the round in flight, so on the normal path an update's workflow task carries
        no visibility write (it measured a fifth of an answer's time to be seen); with the
        broker down, once the round's first try failed, then in each answer's own task."""

    def owe(self) -> None:
        self.owed = True

    def forget(self) -> None:
        """What the server shows is unknown: the next write restates everything."""
        self.shown = {}

    def refresh(self, req: CourtRequest, rec: RequestCarry, clocks: dict[str, Any]) -> None:
        """Write what changed, from the request's state and its clock view (``clocks``)."""
        self.owed = False
        eur = rec.ledger.totals().get("EUR")
        frozen_eur = float(eur.frozen + eur.seized) if eur else 0.0
        kind = rec.clocks.policy.party_kind.value if rec.clocks is not None else None
        attributes = sa.request_attributes(req, rec.status.value, frozen_eur, kind)
        clock_attributes: list[SearchAttributeUpdate[Any]] = []
        if rec.clocks is not None:
            clock_attributes = [
                sa.ESCALATION_LEVEL.value_set(clocks["escalation_level"]),
                sa.OVERDUE.value_set(clocks["overdue"]),
                sa.NEXT_DEADLINE.value_set(clocks["next_deadline"])
                if clocks["next_deadline"]
                else sa.NEXT_DEADLINE.value_unset(),
            ]
        workflow.set_current_details(current_details(req, rec.status, rec.ledger))
        shown = self.shown
        memo = report_memo(rec, req)
        level = clocks.get("escalation_level") or 0
        memo["report"]["max_escalation_level"] = memo_level(memo, level, shown.get("memo"))
        changed = [u for u in attributes + clock_attributes if shown.get(u.key.name) != u.value]
        if changed:
            workflow.upsert_search_attributes(changed)
        if shown.get("memo") != memo:
            workflow.upsert_memo(memo)
        self.shown = {u.key.name: u.value for u in attributes + clock_attributes}
        self.shown["memo"] = memo

    def refresh_safely(self, write: Callable[[], None]) -> None:
        """``write`` (a refresh), which must not fail the request: on a fault, what is shown
        is forgotten so the next write restates it, and nothing is owed until a change."""
        try:
            write()
        except Exception as fault:
            self.forget()
            self.owed = False
            workflow.logger.warning("visibility not written", extra={"fault": type(fault).__name__})


def memo_level(memo: dict[str, Any], level: int, shown: dict[str, Any] | None) -> int:
    """The highest escalation level the memo shows: the highest the request reached when the
    level now in force (the ``EscalationLevel`` attribute) is lower, or else what it showed
    before. The report reads the greater of the two (``tracefreeze/report``), so a ladder step
    taken by a clock changes the attribute alone and the memo is written only when the level
    comes down (a de-escalation): a firing writes one visibility event, not two."""
    highest = memo["report"]["max_escalation_level"]
    if highest > level:
        return highest
    before = shown["report"]["max_escalation_level"] if shown is not None else 0
    return min(before, highest)


def report_memo(rec: RequestCarry, req: CourtRequest | None = None) -> dict[str, Any]:
    """The memo the cooperation report reads: what the report may disclose of the request
    (RS 87(3), Rule 99(2)), what the Assembly asks about (legal basis, origin, party kind,
    releases by ground) and the values; the memo passes through the payload codec."""
    rec.report.totals = rec.ledger.totals()
    rec.report.released = released_by_ground(rec)
    if req is not None:
        rec.report.confidentiality = req.confidentiality
        rec.report.legal_basis = req.legal_basis
        rec.report.origin = req.origin
    if rec.clocks is not None:
        rec.report.party_kind = rec.clocks.policy.party_kind
        level = level_of(rec.clocks.policy, rec.clocks.ladder.rung)
        rec.report.max_escalation_level = max(rec.report.max_escalation_level, level)
    return {"report": rec.report.model_dump(mode="json")}


def released_by_ground(rec: RequestCarry) -> dict[str, ReleaseTally]:
    """The request's released assets by recorded ground (acquittal, withdrawal, ...)."""
    out: dict[str, ReleaseTally] = {}
    for entry in rec.ledger.entries.values():
        if entry.status is not AssetStatus.RELEASED or not entry.release_ground:
            continue
        tally = out.setdefault(entry.release_ground, ReleaseTally())
        tally.assets += 1
        if entry.value is not None:
            currency = entry.value.currency
            tally.values[currency] = tally.values.get(currency, Decimal(0)) + entry.value.amount
    return out


def note_for_report(rec: RequestCarry, kind: Kind, now: datetime) -> None:
    """Times the cooperation report measures: receipt (any answer that shows it), first
    report, end of execution."""
    report = rec.report
    if Stage.ACKNOWLEDGEMENT in kind.meets:
        report.acknowledged_at = report.acknowledged_at or now
    if Stage.FIRST_REPORT in kind.meets:
        report.first_report_at = report.first_report_at or now
    if rec.status in sm.ENDED:
        report.ended_at = report.ended_at or now
