"""The scale benchmark's start pacing (``bench/settled.py``) on a real broker: a submission
waits while too many started workflows have published nothing, and fails with the reason
when none does within its bound, instead of waiting for ever (as a run did on the cluster
whose bare worker's sends were all refused)."""

from __future__ import annotations

import pytest

from bench.baselines import engine_topic
from bench.common import producer
from bench.settled import MAX_UNSETTLED, Settled
from tracefreeze.config import Settings
from tracefreeze.kafka import make_admin, start_with_timeout, stop_with_timeout


async def test_a_run_whose_workflows_publish_nothing_fails_with_the_reason(
    stack: Settings,
) -> None:
    topic = await engine_topic(stack, 1)
    try:
        await _paced(stack, topic)
    finally:
        admin = make_admin(stack, client_id="test-settled")
        await start_with_timeout(admin, stack.kafka_timeout_s)
        try:
            await admin.delete_topics([topic])
        finally:
            await stop_with_timeout(admin, stack.kafka_timeout_s)


async def _paced(stack: Settings, topic: str) -> None:
    started = [f"bench-{i}" for i in range(MAX_UNSETTLED)]
    async with Settled(stack, 0, topic) as settled:
        await settled.room(started[:-1], stall_s=1)  # one short of the limit: room at once
        with pytest.raises(RuntimeError, match=rf"{MAX_UNSETTLED} of the {MAX_UNSETTLED} started"):
            await settled.room(started, stall_s=1)

        prod = await producer(stack, "bench-settled-test")
        try:
            await prod.send_and_wait(topic, b"first message", key=b"bench-0")
        finally:
            await prod.stop()
        await settled.room(started, stall_s=60)  # one published: room again
        assert settled.count == 1
