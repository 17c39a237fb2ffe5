"""Drill: a flood of unsigned records on one partition is dead-lettered in bulk
(``missing_signature``, each at its own offset, once, in order) and another State's answer
behind it on that partition is then applied (RS 93(1), 96(1); Rule 176(2)).
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from schemas.deadletter import (
    HEADER_OFFSET,
    HEADER_REASON_CODE,
)
from tests.faults.drill import RESULTS
from tests.faults.flow import (
    EventTally,
    valuation,
)
from tests.faults.isolation import (
    BEL,
    Isolation,
)
from tests.faults.topic_reads import read_topic

pytestmark = [pytest.mark.stack, pytest.mark.faults]


GARBAGE = 2000


async def test_a_flood_of_unsigned_records_on_one_partition_is_dead_lettered_in_bulk(
    isolation: Isolation,
) -> None:
    """M1: one principal sends 2,000 unsigned answers to one partition at once. Each is
    dead-lettered (``missing_signature``) at its own offset, once, in order; an NLD answer
    behind them on that partition is then applied. The dead letters of one fetch are sent
    together and acknowledged together (no figure is asserted: the machine is shared; the
    throughput is reported)."""
    d = isolation
    ref = d.flow.refs[0]
    template = valuation(ref, 0).model_copy(update={"state": BEL})
    values = [
        template.model_copy(update={"event_id": str(uuid.uuid4())}).model_dump_json().encode()
        for _ in range(GARBAGE)
    ]
    started = time.monotonic()
    futures = [
        await d.flow.producer.send(d.s.topics.state_answers, value=v, key=ref.encode())
        for v in values
    ]
    metas = await asyncio.gather(*futures)
    produced_s = time.monotonic() - started
    assert len({m.partition for m in metas}) == 1
    nld = valuation(ref, 1)
    d.flow.answers = {ref: [nld]}
    await d.flow.send(nld)
    async with EventTally(d.s) as tally:
        await tally.until({nld.event_id}, 300)
    cleared_s = time.monotonic() - started
    assert nld.event_id in tally.applied_at, "the answer behind the flood was never applied"
    dead = await read_topic(d.s, d.s.topics.dead_letter)
    assert len(dead) == GARBAGE
    assert {dict(r.headers)[HEADER_REASON_CODE] for r in dead} == {b"missing_signature"}
    offsets = [int(dict(r.headers)[HEADER_OFFSET]) for r in dead]
    assert offsets == sorted(offsets) == [m.offset for m in metas]  # each once, in order
    line = (
        f"dead-letter flood: {GARBAGE} unsigned records on one partition produced in "
        f"{produced_s:.1f}s, all dead-lettered and the answer behind them applied "
        f"{cleared_s:.1f}s after the first was sent ({GARBAGE / cleared_s:.0f} records/s)"
    )
    RESULTS.append(line)
    print(f"\n{line}")
