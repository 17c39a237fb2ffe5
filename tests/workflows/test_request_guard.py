"""The guard's mark puts back everything a rule may change in place (workflows/request_guard.py):
the request's scalars and lists, every ledger entry (contests changed in place, history grown),
new entries, the clocks (ladder, lists, freeze-limit clocks changed in place) and the report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.court import Stage
from schemas.ledger import AssetStatus, Contest, LedgerChange, LedgerEntry, RequestStatus
from schemas.views import TimelineEntry
from tests.workflows.support import ACCOUNT, court_request, vessel_asset
from tracefreeze.policy import load_directory, load_policy, resolve
from workflows import request_guard
from workflows.carry import Clocks, FreezeLimitConsultation, RequestCarry
from workflows.ledger import ledger_from_request
from workflows.request_guard import mark, restore

NOW = datetime(2026, 11, 30, tzinfo=UTC)
EVENT = "0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c61"


def test_restore_undoes_every_change_in_place() -> None:
    req = court_request()
    rec = RequestCarry(
        status=RequestStatus.IN_EXECUTION,
        ledger=ledger_from_request(req),
        timeline=[
            TimelineEntry(at=NOW, event_id=None, what="sent", status=RequestStatus.TRANSMITTED)
        ],
        seen_event_ids=[],
        clocks=Clocks(
            policy=resolve(load_policy(), load_directory(), req),
            started_at=NOW,
            freeze_limits=[
                FreezeLimitConsultation(asset_id=ACCOUNT, proposed_at=NOW, proposed_until=NOW)
            ],
        ),
    )
    account = rec.ledger.entries[ACCOUNT]
    account.contests.append(
        Contest(contest_id="c-1", kind="third_party_claim", lodged_by_event=EVENT)
    )
    before = rec.model_dump()

    m = mark(rec)
    rec.status, rec.postponed_until = RequestStatus.POSTPONED, NOW
    rec.timeline.clear()
    rec.outbox.clear()
    account.status = AssetStatus.FROZEN
    account.contests[0].pending = False
    account.history.append(LedgerChange(at=NOW, event_id=EVENT, status=AssetStatus.FROZEN))
    account.measures_executed.append("freeze")
    rec.ledger.entries["a-vessel-1"] = LedgerEntry.model_validate({"asset": vessel_asset()})
    clocks = rec.clocks
    assert clocks is not None
    clocks.ladder.rung = 2
    clocks.met.append(Stage.ACKNOWLEDGEMENT)
    clocks.extensions[Stage.FIRST_REPORT] = timedelta(days=3)
    clocks.freeze_limits[0].decision = "freeze_maintained"
    clocks.lapse_reminded.append(ACCOUNT)
    rec.report.max_escalation_level = 4

    restore(rec, m)
    assert rec.model_dump() == before


def test_restore_takes_back_the_assets_a_supplementary_report_recorded() -> None:
    """A supplementary execution report (RS 93(1)(k), 99) that faults half-way leaves no asset
    id behind in ``supplementary_assets``: a retry would otherwise grow it each time."""
    request = court_request()
    record = RequestCarry(
        status=RequestStatus.EXECUTED,
        ledger=ledger_from_request(request),
        timeline=[],
        seen_event_ids=[],
    )
    before = mark(record)
    record.supplementary_assets.append("a-found-later-1")
    restore(record, before)
    assert record.supplementary_assets == []


def test_the_guard_puts_back_every_field_a_rule_may_write() -> None:
    """Every field of the request's carried state is put back when applying an answer fails
    (nothing recorded, the request goes on), or is never written by an answer's rule. A field
    added without being listed fails here: the judgment of the case (RS 74, 77(2)(b)) once
    stayed recorded on a request whose judgment action was refused."""
    fields = set(RequestCarry.model_fields)
    listed = set(request_guard.SCALARS) | set(request_guard.LISTS)
    assert fields == listed | request_guard.KEPT_APART | request_guard.NOT_TAKEN
    assert "judgment" in request_guard.SCALARS
