"""The deadline arithmetic is total (issue 11, §1): whatever dates the record holds — even
ones the contracts now refuse, carried by an older run — computing and firing the clocks never
raises; a sum past the calendar's end is clamped to ``NEVER`` and waits for ever. Pure, with
hypothesis over the whole range of aware date-times and periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.assets import Asset, AssetKind
from schemas.court import Stage
from schemas.ledger import AssetStatus, Ledger, LedgerEntry
from tests.workflows.support import court_request
from tracefreeze.policy import load_directory, load_policy, resolve
from workflows import deadlines as dl
from workflows.carry import Clocks, FreezeLimitConsultation

PROPERTIES = settings(database=None, deadline=None, max_examples=300)
ZONES = st.sampled_from([UTC, *(timezone(timedelta(hours=h)) for h in (-12, -1, 2, 14))])
ANY_TIME = st.datetimes(timezones=ZONES)
ANY_PERIOD = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3_000_000))
POLICY = resolve(load_policy(), load_directory(), court_request())


def _ledger(expires: datetime) -> Ledger:
    asset = Asset(asset_id="a-1", kind=AssetKind.BANK_ACCOUNT, description="An account")
    return Ledger(
        entries={
            "a-1": LedgerEntry(
                asset=asset, status=AssetStatus.FROZEN, national_order_expires_at=expires
            )
        }
    )


def test_the_reproduced_national_order_of_year_1_is_due_at_once_not_an_overflow() -> None:
    """Old code: ``expires - lead`` raised OverflowError in every workflow task."""
    now = datetime(2026, 11, 30, tzinfo=UTC)
    clocks = Clocks(policy=POLICY, started_at=now)
    ledger = _ledger(datetime(1, 1, 1, tzinfo=UTC))
    assert dl.next_deadline(clocks, ledger, now, urgent_pending=False) == dl.EVER
    [lapsing] = [f for f in dl.fire(clocks, ledger, now, False) if f.asset_id == "a-1"]
    assert lapsing.deadline == datetime(1, 1, 1, tzinfo=UTC)


def test_a_deadline_past_the_end_of_the_calendar_never_falls_due() -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    clocks = Clocks(
        policy=POLICY,
        started_at=now,
        extensions={Stage.ACKNOWLEDGEMENT: timedelta(days=3_000_000)},
        met=[],
    )
    assert dl.stage_deadline(clocks, Stage.ACKNOWLEDGEMENT, now) == dl.NEVER
    assert dl.shift(dl.NEVER, timedelta(days=1)) == dl.NEVER
    assert dl.shift(dl.EVER, -timedelta(days=1)) == dl.EVER


@PROPERTIES
@given(
    started=ANY_TIME,
    now=ANY_TIME,
    expires=ANY_TIME,
    until=ANY_TIME,
    paused_since=st.none() | ANY_TIME,
    paused_total=ANY_PERIOD,
    extension=ANY_PERIOD,
    reached=st.none() | ANY_TIME,
    rung=st.integers(min_value=0, max_value=2),
    urgent=st.booleans(),
)
def test_no_date_makes_the_clocks_raise(
    started: datetime,
    now: datetime,
    expires: datetime,
    until: datetime,
    paused_since: datetime | None,
    paused_total: timedelta,
    extension: timedelta,
    reached: datetime | None,
    rung: int,
    urgent: bool,
) -> None:
    clocks = Clocks(
        policy=POLICY,
        started_at=started,
        paused_since=paused_since,
        paused_total=paused_total,
        extensions={Stage.FIRST_REPORT: extension},
        freeze_limits=[
            FreezeLimitConsultation(asset_id="a-1", proposed_at=started, proposed_until=until),
            FreezeLimitConsultation(
                asset_id="a-1",
                proposed_at=started,
                proposed_until=until,
                decision="freeze_limited",
                lift_at=until,
            ),
        ],
    )
    clocks.ladder.rung, clocks.ladder.reached_at = rung, reached if rung else None
    ledger = _ledger(expires)
    for stage in Stage:
        assert dl.EVER <= dl.stage_deadline(clocks, stage, now) <= dl.NEVER
    dl.overdue(clocks, now)
    due = dl.next_deadline(clocks, ledger, now, urgent)
    assert due is None or due < dl.NEVER
    dl.fire(clocks, ledger, now, urgent)
    dl.on_status(clocks, paused_before=True, paused_after=False, now=now)
    dl.next_deadline(clocks, ledger, now, urgent)
