"""Every update handler of a request takes its answer or action through
``RequestWorkflow._take_guarded``, which uses the mark and restore here:
whatever goes wrong after validation is rolled back and refused, never left to fail the
workflow task.

A validator refuses what the request cannot take before anything is written
(``workflows/catalog.py``, ``workflows/bounds.py``). Should applying an answer still raise —
a fault in a rule, an arithmetic error no bound foresaw — the exception must not escape the
handler: the SDK would fail the workflow task, the server would retry it for ever, and the
update (with every answer queued behind it) would never complete. So the handler marks the
request's state first, applies the answer, and on an unexpected error puts the state back as
it was and refuses the answer with a non-retryable ``ApplicationError`` of type
``AnswerNotApplied``: the request keeps running and takes the next answer.

The mark is cheap: scalars, the clocks and the report are copied, each ledger entry shallowly
with copies of its lists (its contests deeply, as rules change them in place), and the
request's lists (timeline, outbox, versions) as lists of the same, never-changed items.
Only the carried state is marked: the workflow counts an answer as seen, taken and worth
telling the case only once all of it was applied, after anything that could fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from schemas.ledger import LedgerEntry, State
    from schemas.views import ReportMemo
    from workflows.carry import Clocks, RequestCarry

REJECTED = "AnswerRejected"
"""The ``ApplicationError`` type of an answer or action the request's validator refused: a
real refusal (the same however often it is sent)."""
NOT_APPLIED = "AnswerNotApplied"
"""The ``ApplicationError`` type of an answer or action refused because applying it failed."""

LISTS = (
    "timeline",
    "outbox",
    "escalation_outbox",
    "signed_outbox",
    "versions",
    "directory_outbox",
    "supplementary_assets",
    "admissibility_rulings",
    "national_security_consultations",
    "denials",
    "met_before_clocks",
)
SCALARS = (
    "status",
    "resume_status",
    "consultation_ground",
    "postponed_until",
    "postponement_challenge",
    "urgent_confirmed_at",
    "rule99_notified_at",
    "judgment",
)
KEPT_APART = frozenset({"ledger", "clocks", "report"})
"""Restored by ``restore`` itself (entries, rates, clocks and memo copied whole)."""
NOT_TAKEN = frozenset(
    {
        "answers_taken",
        "seen",
        "court_ids",
        "seen_event_ids",
        "timeline_dropped",
        "supplemented_told",
        "organ_keys",
    }
)
"""Written only when a run hands over (``_carry``), by the run itself at its start
(``request_links.tell_supplemented``, ``request_keys.organ_keys_at_start``), by its first
publishing round (``request_keys.keys_from_round``) or by the refresh of the organ keys
(``request_keys.register_refresh``), never by an answer's rule."""


@dataclass
class Mark:
    """The request's state before an answer is applied, enough to put it back."""

    scalars: dict[str, Any]
    lists: dict[str, list[Any]]
    entries: dict[str, LedgerEntry]
    clocks: Clocks | None
    report: ReportMemo
    rates: dict[str, Any] = field(default_factory=dict)
    """The ledger's recorded exchange rates (each record immutable once recorded)."""


def mark(rec: RequestCarry) -> Mark:
    return Mark(
        scalars={name: getattr(rec, name) for name in SCALARS},
        lists={name: list(getattr(rec, name)) for name in LISTS},
        entries={asset_id: _entry_copy(entry) for asset_id, entry in rec.ledger.entries.items()},
        clocks=_own(rec.clocks) if rec.clocks is not None else None,
        report=_own(rec.report),
        rates=dict(rec.ledger.rates),
    )


def restore(rec: RequestCarry, m: Mark) -> None:
    for name, value in m.scalars.items():
        setattr(rec, name, value)
    for name, items in m.lists.items():
        setattr(rec, name, items)
    rec.ledger.entries = m.entries
    rec.ledger.rates = m.rates
    rec.clocks, rec.report = m.clocks, m.report


def not_applied(kind: str, event_id: str, fault: Exception) -> ApplicationError:
    """The refusal of an answer or action whose applying failed (nothing was recorded)."""
    return ApplicationError(
        f"{kind} {event_id} could not be applied ({_describe(fault)}); "
        "nothing was recorded and the request goes on",
        type=NOT_APPLIED,
        non_retryable=True,
    )


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
            "allocation_decisions": list(entry.allocation_decisions),
            "management_costs": dict(entry.management_costs),
            "history": list(entry.history),
        }
    )
