"""Every update handler of a request takes its answer or action through ``_take_guarded``:
whatever goes wrong after validation is rolled back and refused, never left to fail the
workflow task.

A validator refuses what the request cannot take before anything is written
(``workflows/rules.py``, ``workflows/bounds.py``). Should applying an answer still raise —
a fault in a rule, an arithmetic error no bound foresaw — the exception must not escape the
handler: the SDK would fail the workflow task, the server would retry it for ever, and the
update (with every answer queued behind it) would never complete. So the handler marks the
request's state first, applies the answer, and on an unexpected error puts the state back as
it was and refuses the answer with a non-retryable ``ApplicationError`` of type
``AnswerNotApplied``: the request keeps running and takes the next answer.

The mark is cheap: scalars, the clocks and the report are copied, each ledger entry shallowly
with copies of its lists (its contests deeply, as rules change them in place), and the
request's lists (timeline, outbox, versions) as lists of the same, never-changed items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.request_parts import RequestParts

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from schemas.clocks import Clocks
    from schemas.ledger import LedgerEntry, State
    from schemas.views import AnswerReceipt, ReportMemo, RequestCarry

NOT_APPLIED = "AnswerNotApplied"
"""The ``ApplicationError`` type of an answer or action refused because applying it failed."""

_LISTS = ("timeline", "outbox", "escalation_outbox", "versions")
_SCALARS = (
    "status",
    "resume_status",
    "consultation_ground",
    "postponed_until",
    "urgent_confirmed_at",
    "rule99_notified_at",
)


@dataclass
class Mark:
    """The request's state before an answer is applied, enough to put it back."""

    scalars: dict[str, Any]
    lists: dict[str, list[Any]]
    entries: dict[str, LedgerEntry]
    clocks: Clocks | None
    report: ReportMemo
    seen: bool
    accepted: int
    parent_stale: bool
    shown: dict[str, Any]


def mark(workflow_state: Any, event_id: str) -> Mark:
    rec: RequestCarry = workflow_state._rec
    return Mark(
        scalars={name: getattr(rec, name) for name in _SCALARS},
        lists={name: list(getattr(rec, name)) for name in _LISTS},
        entries={asset_id: _entry_copy(entry) for asset_id, entry in rec.ledger.entries.items()},
        clocks=_own(rec.clocks) if rec.clocks is not None else None,
        report=_own(rec.report),
        seen=event_id in workflow_state._seen,
        accepted=workflow_state._accepted_this_run,
        parent_stale=workflow_state._parent_stale,
        shown=dict(workflow_state._shown),
    )


def restore(workflow_state: Any, event_id: str, m: Mark) -> None:
    rec: RequestCarry = workflow_state._rec
    for name, value in m.scalars.items():
        setattr(rec, name, value)
    for name, items in m.lists.items():
        setattr(rec, name, items)
    rec.ledger.entries = m.entries
    rec.clocks, rec.report = m.clocks, m.report
    if not m.seen:
        workflow_state._seen.discard(event_id)
    workflow_state._accepted_this_run = m.accepted
    workflow_state._parent_stale = m.parent_stale
    workflow_state._shown = m.shown


def _describe(fault: Exception) -> str:
    """The fault's type and a short reason, never the input it was given (no personal data)."""
    if isinstance(fault, ValidationError):
        parts = [
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in fault.errors(include_url=False, include_input=False)[:3]
        ]
        return f"ValidationError: {'; '.join(parts)}"[:300]
    return f"{type(fault).__name__}: {fault}"[:300]


def _own(model: Any) -> Any:
    """A copy of a small mutable record whose lists, dicts and sub-records are its own (frozen
    contracts such as the policy are shared): for the clocks, whatever fields they gain."""
    update: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, list):
            update[name] = [_own(v) if isinstance(v, State) else v for v in value]
        elif isinstance(value, dict):
            update[name] = {k: _own(v) if isinstance(v, State) else v for k, v in value.items()}
        elif isinstance(value, State):
            update[name] = _own(value)
    return model.model_copy(update=update)


def _entry_copy(entry: LedgerEntry) -> LedgerEntry:
    return entry.model_copy(
        update={
            "contests": [c.model_copy() for c in entry.contests],
            "measures_executed": list(entry.measures_executed),
            "allocations": list(entry.allocations),
            "history": list(entry.history),
        }
    )


class Guarded(RequestParts):
    """``_take_guarded``; mixed into the update mixins of RequestWorkflow."""

    def _refresh_visibility_safely(self) -> None:
        """``_refresh_visibility`` (request_publishing.py), which must not fail an update
        handler either: on a fault, what is shown is forgotten so the next write restates it."""
        try:
            self._refresh_visibility()
        except Exception as fault:
            self._shown = {}
            workflow.logger.warning("visibility not written", extra={"fault": type(fault).__name__})

    def _take_guarded(
        self, m: Any, action: str | None = None, refresh: bool = True
    ) -> AnswerReceipt:
        """``_take`` (request.py), refusing instead of failing the task on any fault."""
        before = mark(self, m.event_id)
        try:
            return self._take(m, action, refresh)
        except ApplicationError:
            raise  # a refusal by the answer's rule: nothing was written
        except Exception as fault:  # every fault becomes a refusal
            restore(self, m.event_id, before)
            if refresh:
                # The fault may have come while visibility was being written: what the server
                # shows is unknown, so forget it and restate it from the restored state.
                self._shown = {}
                self._refresh_visibility_safely()
            kind = action or getattr(m, "answer_type", type(m).__name__)
            workflow.logger.warning(  # ids and the fault's type only: never the answer's body
                "answer not applied",
                extra={"event_id": m.event_id, "action": kind, "fault": type(fault).__name__},
            )
            raise ApplicationError(
                f"{kind} {m.event_id} could not be applied ({_describe(fault)}); "
                "nothing was recorded and the request goes on",
                type=NOT_APPLIED,
                non_retryable=True,
            ) from None
