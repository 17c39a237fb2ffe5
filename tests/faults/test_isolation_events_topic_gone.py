"""Drill: the request-events topic is deleted while answers flow, and what holds.

Publishing is the request's own outbox, retried by Temporal apart from its update handlers: a
State's answers are still taken and applied (RS 93(1), 96(1); Rule 176(2)) while no event can
be written, the bridge does not stall, and once the topic is back every answer taken meanwhile
is announced, each exactly once.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.drill import RESULTS, WAIT_S
from tests.faults.flow import (
    SETUP_ANSWERS,
    EventTally,
)
from tests.faults.isolation import (
    Isolation,
    delete_topic,
    list_topics,
)
from tests.faults.topic_reads import read_topic

pytestmark = [pytest.mark.stack, pytest.mark.faults]


async def test_request_events_topic_gone_while_answers_flow(isolation: Isolation) -> None:
    """The request-events topic (where each request's publishing activity writes) is deleted
    while answers flow: what holds.

    Publishing is the request's own outbox, retried by Temporal, apart from its update
    handlers; so answers are still taken and applied while no event can be written, the
    bridge (which writes nothing there) does not stall, and once the topic is back every
    answer taken meanwhile is announced, each exactly once."""
    d = isolation
    topic = d.s.topics.request_events
    per_request = len(d.flow.answers[d.flow.refs[0]])
    before, during = slice(0, per_request // 4), slice(per_request // 4, None)
    await d.flow.produce(part=before)
    await d.flow.until_accepted(len(d.flow.refs))
    await delete_topic(d.s, topic)
    gone = time.monotonic()
    await d.flow.produce(part=during)
    produced = time.monotonic()
    want = {ref: SETUP_ANSWERS + len(d.flow.answers[ref]) for ref in d.flow.refs}
    for ref in d.flow.refs:  # applied with the topic still gone
        view = await d.flow.wait_view(ref, lambda v, n=want[ref]: v.answers_seen >= n)
        assert view.answers_seen == want[ref], (ref, view.answers_seen, want[ref])
    applied_after = time.monotonic() - produced
    assert topic not in await list_topics(d.s), "the topic came back by itself"
    assert d.ready() == 200 and d.bridge.running and d.worker.running

    await d.flow.prepare_topics()  # the operator restores the topic
    outage = time.monotonic() - gone
    in_outage = {a.event_id for ref in d.flow.refs for a in d.flow.answers[ref][during]}
    async with EventTally(d.s) as tally:
        await tally.until(in_outage, WAIT_S)
    announced = {i for i in in_outage if tally.per_cause[i] >= 1}
    twice = {i for i in in_outage if tally.per_cause[i] > 1}
    dead = await read_topic(d.s, d.s.topics.dead_letter)
    line = (
        f"request-events topic deleted while answers flowed: {len(in_outage)} answers produced "
        f"with it gone, all applied {applied_after:.1f}s after the last was produced (topic "
        f"still gone); topic restored after "
        f"{outage:.1f}s, then {len(announced)}/{len(in_outage)} announced, {len(twice)} twice; "
        f"dead-lettered {len(dead)}"
    )
    RESULTS.append(line)
    print(f"\n{line}")
    assert announced == in_outage and not twice
    assert not dead
