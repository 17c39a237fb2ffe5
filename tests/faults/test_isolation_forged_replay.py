"""Drill: a forged replay header neither jumps the parking of a stuck request's answers nor
holds the partition for another State's answer (RS 93(1), 96(1); Rule 176(2)): the forged
claims are refused, logged and counted, the forged answers parked behind the first in order.
"""

from __future__ import annotations

import pytest

from schemas.deadletter import (
    HEADER_REASON,
    HEADER_REASON_CODE,
    HEADER_REPLAYED_FROM,
)
from tests.builders import acknowledgement, court_request, now, to
from tests.faults.drill import RESULTS
from tests.faults.flow import (
    EventTally,
    valuation,
)
from tests.faults.isolation import (
    BEL,
    BUDGET_S,
    UPDATE_TIMEOUT_S,
    Isolation,
    metric,
    on_partition_of,
    parked,
    retried,
    until_true,
)
from tests.faults.topic_reads import read_topic
from tests.signed import signed_record
from tracefreeze.client import RequestClient
from tracefreeze.intake.replay_auth import HEADER_REPLAY_MAC, HEADER_REPLAY_RECEIVED

pytestmark = [pytest.mark.stack, pytest.mark.faults]


FORGED = 4
"""BEL's answers with a forged replay header, sent behind its stuck answer."""


async def test_a_forged_replay_header_neither_jumps_parking_nor_holds_the_partition(
    isolation: Isolation,
) -> None:
    """H2: BEL's request cannot take answers; BEL sends its acknowledgement, then ``FORGED``
    answers each carrying replay headers it wrote itself (``tf_replayed_from``, a made-up
    MAC). The bridge before the replay MAC took each for an operator's replay: delivered
    alone past the parking, each retried for a whole retry budget while NLD's answer on the
    same partition, fetched after them, waited FORGED budgets. Now the claims are refused
    (logged, counted) and the forged answers are parked behind the first at once: NLD's
    answer is applied within one budget, BEL's five answers are parked in order, nothing
    lost."""
    d = isolation
    partitions = d.s.topics.partitions()[d.s.topics.state_answers]
    nobody = d.s.model_copy(update={"task_queue": f"{d.s.task_queue}-nobody"})
    bel_ref = on_partition_of(d.flow.refs[0], partitions, "ICC-FAULT-BEL")
    await (await RequestClient.connect(nobody)).submit(
        court_request(reference=bel_ref, requested_state=BEL)
    )
    first = acknowledgement(to(bel_ref, BEL), sent_at=now())
    await d.flow.send(first)
    await until_true(lambda: retried(d.bridge, first.event_id), 60, "BEL's answer never retried")
    forged = [valuation(bel_ref, i).model_copy(update={"state": BEL}) for i in range(FORGED)]
    for answer in forged:
        value, headers = signed_record(answer, d.s.state_dir)
        claim = [
            (HEADER_REPLAYED_FROM, b"0:1"),
            (HEADER_REPLAY_RECEIVED, b"1"),
            ("tf_replayed_by", b"registry-officer-7"),
            (HEADER_REPLAY_MAC, b"A" * 43),
        ]
        await d.flow.producer.send_and_wait(
            d.s.topics.state_answers, value=value, key=bel_ref.encode(), headers=headers + claim
        )
    # The precondition, constructed: the bridge has fetched the forged answers (it retries
    # the first of them, as the old bridge did, or has parked it).
    await until_true(
        lambda: retried(d.bridge, forged[0].event_id) or parked(d.bridge, forged[0].event_id),
        3 * BUDGET_S,
        "the forged answers were never fetched",
    )
    nld = valuation(d.flow.refs[0], 0)  # on BEL's partition, fetched after the forged ones
    d.flow.answers = {d.flow.refs[0]: [nld]}
    await d.flow.send(nld)
    async with EventTally(d.s) as tally:
        await tally.until({nld.event_id}, 3 * BUDGET_S + FORGED * BUDGET_S)
    assert nld.event_id in tally.applied_at, "NLD's answer never applied"
    delay = (tally.applied_at[nld.event_id] - d.flow.acked_at[nld.event_id]).total_seconds()

    dead = await read_topic(d.s, d.s.topics.dead_letter)
    ids = [dict(r.headers)["ce_id"].decode() for r in dead]
    assert ids == [first.event_id, *(a.event_id for a in forged)]  # in order, once each
    assert {dict(r.headers)[HEADER_REASON_CODE] for r in dead} == {b"stuck"}
    assert all("behind parked" in dict(r.headers)[HEADER_REASON].decode() for r in dead[1:])
    text = d.metrics()
    assert metric(text, "tracefreeze_forged_replays_total", '{state="BEL"}') == FORGED
    refused = [
        e for e in d.bridge.lines(len(d.bridge.logs) - 1)
        if e.get("event") == "replay claim refused; handled as a fresh answer"
    ]  # fmt: skip
    assert len(refused) == FORGED and all(e.get("audit") for e in refused)
    line = (
        f"forged replay drill: BEL stuck + {FORGED} answers with forged replay headers: "
        f"{len(dead)} parked in order (stuck), {FORGED} claims refused; NLD's answer on the "
        f"same partition applied {delay:.1f}s after produced (retry budget {BUDGET_S:g}s; "
        f"the old bridge: about {FORGED} budgets)"
    )
    RESULTS.append(line)
    print(f"\n{line}")
    assert delay <= BUDGET_S + 2 * UPDATE_TIMEOUT_S, delay
