"""Drill: one request that cannot take its answers stalls no other State.

A State's request is its own (RS art. 93(1), 96(1); Rule 176(2)): whatever one State sends,
and whatever becomes of one request, another State's answers are still applied. Here State
BEL's request cannot take any answer (its workflow runs on a task queue no worker polls, so
every update to it times out: the class of fault "a request that cannot accept", whatever its
cause), while NLD sends 100 answers to its own requests, one of them on BEL's partition. Every
NLD answer must be applied within one retry budget of being produced, BEL's answers parked
(reason ``stuck``, original coordinates, in order), nothing lost; then, once BEL's request is
served, ``tracefreeze dlq replay`` brings BEL's answers back, in order.

On the bridge before per-partition lanes and the retry budget, BEL's answer was retried
forever and no partition was fetched or committed again: NLD's answers were never applied.
"""

from __future__ import annotations

import time

import pytest

from schemas.answers import AnswerBase
from schemas.deadletter import (
    HEADER_OFFSET,
    HEADER_PARTITION,
    HEADER_REASON,
    HEADER_REASON_CODE,
    HEADER_TOPIC,
)
from tests.builders import acknowledgement, court_request, now, to
from tests.faults.drill import RESULTS, drill_app
from tests.faults.flow import (
    EventTally,
    check_exact,
    freeze_report,
    valuation,
)
from tests.faults.isolation import (
    BEL,
    BUDGET_S,
    NLD_ANSWERS,
    Isolation,
    metric,
    on_partition_of,
    retried,
    split,
    until_true,
)
from tests.faults.topic_reads import read_topic
from tests.signed import signed_record
from tracefreeze.cli.dlq import run_replay
from tracefreeze.client import RequestClient
from tracefreeze.intake.dlq import Selection

pytestmark = [pytest.mark.stack, pytest.mark.faults]


async def test_a_request_that_cannot_take_answers_stalls_no_other_state(
    isolation: Isolation,
) -> None:
    d = isolation
    partitions = d.s.topics.partitions()[d.s.topics.state_answers]

    # BEL's request runs on a task queue no worker polls: no update to it can complete.
    nobody = d.s.model_copy(update={"task_queue": f"{d.s.task_queue}-nobody"})
    bel_ref = on_partition_of(d.flow.refs[0], partitions, "ICC-FAULT-BEL")
    bel_client = await RequestClient.connect(nobody)
    await bel_client.submit(court_request(reference=bel_ref, requested_state=BEL))
    bel: list[AnswerBase] = [
        acknowledgement(to(bel_ref, BEL), sent_at=now()),
        freeze_report(bel_ref, BEL),
    ]
    for answer in bel:
        await d.flow.send(answer)
    bel_ids = [a.event_id for a in bel]

    # The precondition, constructed: the bridge is retrying BEL's answer, and says so.
    await until_true(lambda: retried(d.bridge, bel_ids[0]), 60, "BEL's answer never retried")
    await until_true(
        lambda: metric(d.metrics(), "tracefreeze_oldest_stuck_answer_seconds") > 0,
        30,
        "the oldest-stuck gauge never rose",
    )
    assert d.ready() == 200  # within its budget: the bridge is working as it should

    # NLD: 100 answers to its own requests, one of which shares BEL's partition.
    plan = split(NLD_ANSWERS, d.flow.refs)
    d.flow.answers = {ref: [valuation(ref, i) for i in range(n)] for ref, n in plan.items()}
    produced_from = time.monotonic()
    await d.flow.produce()
    producing_s = time.monotonic() - produced_from
    nld_ids = {a.event_id for answers in d.flow.answers.values() for a in answers}
    async with EventTally(d.s) as tally:
        await tally.until(nld_ids, 3 * BUDGET_S)
    missing = nld_ids - tally.applied_at.keys()
    assert not missing, (
        f"{len(missing)}/{NLD_ANSWERS} NLD answers not applied {3 * BUDGET_S:g}s after "
        "being produced: one State's stuck request stalled another State"
    )
    delays = {i: (tally.applied_at[i] - d.flow.acked_at[i]).total_seconds() for i in nld_ids}
    shared = {a.event_id for a in d.flow.answers[d.flow.refs[0]]}
    worst, worst_shared = max(delays.values()), max(delays[i] for i in shared)

    count = await d.flow.count()
    check_exact(count)

    # BEL's two answers are parked, in order, with their coordinates and original bytes.
    dead = await read_topic(d.s, d.s.topics.dead_letter)
    assert len(dead) == 2, [dict(r.headers) for r in dead]
    for record, answer, why in zip(dead, bel, ("retry budget", "behind parked"), strict=True):
        headers = dict(record.headers)
        position = d.flow.positions[answer.event_id]
        assert headers[HEADER_REASON_CODE] == b"stuck"
        assert why in headers[HEADER_REASON].decode(), headers[HEADER_REASON]
        assert headers[HEADER_TOPIC] == d.s.topics.state_answers.encode()
        assert (int(headers[HEADER_PARTITION]), int(headers[HEADER_OFFSET])) == position
        assert headers["ce_id"] == answer.event_id.encode()
        assert record.key == bel_ref.encode()
        assert record.value == signed_record(answer, d.s.state_dir)[0]
    assert bel_ids[0] in dict(dead[1].headers)[HEADER_REASON].decode()
    assert await d.counted("tracefreeze_answers_parked_total", '{reason="stuck"}', 2) == 2
    assert d.ready() == 200

    # Fixed: a worker serves BEL's request's queue. The replay brings both back, in order.
    bel_worker = drill_app(nobody, "worker", name="worker-bel").start()
    try:
        summary = await run_replay(
            d.s, Selection.of(["stuck"]), group_id=f"{d.s.task_queue}-r", operator="drill"
        )
        assert (summary.selected, summary.replayed) == (2, 2)
        view = await d.flow.wait_view(
            bel_ref, lambda v: v.answers_seen == 2, timeout_s=60, state=BEL
        )
        assert view.answers_seen == 2
        assert [e.event_id for e in view.timeline if e.event_id in bel_ids] == bel_ids
    finally:
        await bel_worker.stop()
    assert len(await read_topic(d.s, d.s.topics.dead_letter)) == 2  # none dead-lettered again

    line = (
        f"isolation drill, BEL's request cannot take answers: NLD sent {count.sent} / applied "
        f"{count.applied} / duplicated {count.duplicated} / lost {count.lost}; max delay from "
        f"produced to applied {worst:.1f}s ({worst_shared:.1f}s on BEL's partition; retry "
        f"budget {BUDGET_S:g}s); BEL parked 2 (stuck), replayed and applied 2 in order; "
        f"NLD's 100 produced in {producing_s:.1f}s"
    )
    RESULTS.append(line)
    print(f"\n{line}")
    assert worst <= BUDGET_S, delays
