"""Drill: a State over its answer budget waits, is parked as ``throttled`` in order, and slows
no other State (RS 93(1), 96(1); Rule 176(2): each State's request is its own); an operator's
replay brings its parked answers back and does not count against it.
"""

from __future__ import annotations

import asyncio

import pytest

from schemas.deadletter import (
    HEADER_REASON_CODE,
)
from tests.builders import acknowledgement, court_request, now, to
from tests.faults.drill import RESULTS
from tests.faults.flow import (
    EventTally,
    check_exact,
    freeze_report,
    valuation,
)
from tests.faults.isolation import (
    BEL,
    BEL_FLOOD,
    THROTTLE,
    UPDATE_TIMEOUT_S,
    Isolation,
    every_answer_settled,
    metric,
    on_partition_of,
)
from tracefreeze.cli.dlq import run_replay
from tracefreeze.intake.dlq import Selection

pytestmark = [pytest.mark.stack, pytest.mark.faults]


async def test_a_state_over_its_answer_budget_waits_and_slows_no_other_state(
    isolation: Isolation,
) -> None:
    """BEL floods one of its requests (120 answers at once, twelve times its burst); NLD
    answers meanwhile. BEL's answers beyond its budget wait, then are parked as
    ``throttled`` in order; NLD's are applied at once; nothing is lost, and a replay brings
    BEL's parked answers back (an operator's replay does not count against BEL)."""
    d = isolation
    bel_ref = on_partition_of(d.flow.refs[0], 6, "ICC-FAULT-BEL")
    await d.flow.client.submit(court_request(reference=bel_ref, requested_state=BEL))
    for answer in (acknowledgement(to(bel_ref, BEL), sent_at=now()), freeze_report(bel_ref, BEL)):
        await d.flow.send(answer)
    await d.flow.wait_view(bel_ref, lambda v: v.answers_seen == 2, state=BEL)
    flood = [valuation(bel_ref, i).model_copy(update={"state": BEL}) for i in range(BEL_FLOOD)]
    d.flow.answers = {ref: [valuation(ref, i) for i in range(2)] for ref in d.flow.refs}
    await asyncio.gather(*(d.flow.send(a) for a in flood))  # at once, in order per key
    await d.flow.produce(rate_per_s=8.0)  # NLD within its own budget
    nld_ids = {a.event_id for answers in d.flow.answers.values() for a in answers}
    async with EventTally(d.s) as tally:
        await tally.until(nld_ids, 60)
    delays = [(tally.applied_at[i] - d.flow.acked_at[i]).total_seconds() for i in nld_ids]
    count = await d.flow.count()
    check_exact(count)

    bel_ids = [a.event_id for a in flood]
    view, dead = await every_answer_settled(d, bel_ref, 2 + BEL_FLOOD)
    parked = [dict(r.headers)[HEADER_REASON_CODE].decode() for r in dead]
    applied = view.answers_seen - 2  # the ledger keeps only the latest valuations in full
    parked_ids = [dict(r.headers)["ce_id"].decode() for r in dead]
    assert set(parked) == {"throttled"}, parked
    assert parked_ids == bel_ids[applied:]  # every one, once: the first applied, the rest parked
    assert 0 < len(parked_ids) < BEL_FLOOD
    counted = "tracefreeze_answers_parked_total", '{reason="throttled"}'
    assert await d.counted(*counted, len(dead)) == len(dead)
    assert metric(d.metrics(), "tracefreeze_answers_throttled_total", '{state="BEL"}') >= 1
    assert not nld_ids & set(parked_ids)  # NLD's answers are never parked for BEL's flood

    summary = await run_replay(
        d.s, Selection.of(["throttled"]), group_id=f"{d.s.task_queue}-r", operator="drill"
    )
    assert summary.replayed == len(parked_ids)
    view = await d.flow.wait_view(
        bel_ref, lambda v: v.answers_seen == 2 + BEL_FLOOD, timeout_s=60, state=BEL
    )
    async with EventTally(d.s) as taken:  # the request's own account, in the order it took them
        await taken.until(set(bel_ids), 60)
    assert [i for i in taken.order if i in set(bel_ids)] == bel_ids
    line = (
        f"per-State budget drill (burst {THROTTLE['bridge_state_burst']:g}, "
        f"{THROTTLE['bridge_state_rate']:g}/s, wait {THROTTLE['bridge_throttle_wait_s']:g}s): "
        f"BEL flooded {BEL_FLOOD}, {applied} applied, {len(parked_ids)} parked as "
        f"throttled then replayed, all {BEL_FLOOD} in order; NLD {count.applied}/{count.sent} "
        f"applied, max delay {max(delays):.1f}s"
    )
    RESULTS.append(line)
    print(f"\n{line}")
    assert max(delays) <= THROTTLE["bridge_throttle_wait_s"] + UPDATE_TIMEOUT_S
