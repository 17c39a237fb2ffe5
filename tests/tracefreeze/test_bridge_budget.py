"""The bridge's budgets: the retry budget after which an answer is parked, and the answer
budget per State (pure logic: no broker, no Temporal)."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka.structs import ConsumerRecord

from schemas.deadletter import DeadLetterReason
from tests.builders import acknowledgement, court_request
from tracefreeze.intake.bridge import Bridge
from tracefreeze.intake.gate import ReceivedAnswer
from tracefreeze.intake.retry import Abandoned, Budget, Halt, Retry, Stuck, TemporalProbe, TryAgain
from tracefreeze.intake.throttle import StateBudgets


def retry(budget: Budget, timeout_s: float = 0.05) -> Retry:
    return Retry(Halt(asyncio.Event()), budget, timeout_s)


async def never() -> None:
    raise TryAgain("no outcome from Temporal")


async def test_an_answer_its_request_never_takes_is_stuck_within_its_budget() -> None:
    budget = Budget(seconds=1.0)
    h = retry(budget)
    started = time.monotonic()
    with pytest.raises(Stuck, match="retry budget"):
        await h.until_known("delivering answer", never, budgeted=True)
    assert time.monotonic() - started <= budget.seconds
    assert budget.retrying == {}  # no longer counted as retrying


async def test_time_while_temporal_or_every_worker_is_down_does_not_count() -> None:
    """An outage parks nothing: only a stop ends the retries (the answer stays uncommitted)."""
    budget = Budget(seconds=0.3, counts=lambda: False)
    h = retry(budget)
    retrying = asyncio.create_task(h.until_known("delivering answer", never, budgeted=True))
    async with asyncio.timeout(10):
        while not budget.retrying:  # noqa: ASYNC110 (waits for the first failure)
            await asyncio.sleep(0.01)
        while budget.oldest_s() < 3 * budget.seconds:  # noqa: ASYNC110 (outlasts the budget)
            await asyncio.sleep(0.05)
    assert not retrying.done()
    h.halt.stop.set()
    with pytest.raises(Abandoned):
        await retrying


async def test_unbudgeted_retries_such_as_dead_letter_writes_are_never_stuck() -> None:
    budget = Budget(seconds=0.1)
    h = retry(budget)
    calls = 0

    async def third_time() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TimeoutError
        return "written"

    assert await h.until_known("writing dead-letter record", third_time) == "written"


def test_a_state_over_its_budget_waits_and_other_states_do_not() -> None:
    now = [0.0]
    budgets = StateBudgets(rate=10.0, burst=5, clock=lambda: now[0])
    assert budgets.reserve("BEL", 5, max_wait=1.0) == 0.0  # the burst
    assert budgets.reserve("BEL", 2, max_wait=1.0) == pytest.approx(0.2)
    assert budgets.reserve("NLD", 5, max_wait=0.0) == 0.0  # its own bucket, full
    assert budgets.reserve("BEL", 100, max_wait=0.5) is None  # too long: nothing taken
    now[0] = 10.0  # refilled, never above the burst
    assert budgets.reserve("BEL", 5, max_wait=0.0) == 0.0
    assert budgets.reserve("BEL", 1, max_wait=0.0) is None


def test_readiness_says_when_an_answer_outlives_its_budget() -> None:
    """Readiness stays truthful: an answer retried for longer than its budget (plus two
    update timeouts) means parking fails or Temporal or every worker is down."""
    budget = Budget(seconds=30.0)
    h = retry(budget, timeout_s=5.0)
    probe = TemporalProbe(None, None, budget, 5.0)
    bridge = Bridge(None, None, None, h, probe)  # type: ignore[arg-type]
    bridge.joined = probe.temporal_ok = True
    assert bridge.ready()
    budget.retrying[1] = time.monotonic() - 35.0  # within budget + 2 timeouts
    assert bridge.ready()
    budget.retrying[2] = time.monotonic() - 45.0
    assert not bridge.ready()
    assert budget.oldest_s() >= 45.0
    probe.workers_ok = False  # a failed delivery no longer counts against the budget
    assert not budget.counts()


class FakeHalt(Halt):
    """A halt whose pauses pass on a fake clock at once (no real sleep)."""

    def __init__(self, now: list[float]) -> None:
        super().__init__(asyncio.Event())
        self.now = now

    async def pause(self, delay: float) -> None:
        self.now[0] += delay


class Lane:
    """The gate and delivery as the bridge sees them, recording deliveries and parkings."""

    def __init__(self, items: list[ReceivedAnswer]) -> None:
        self.items = {i.record.offset: i for i in items}
        self.delivered: list[int] = []
        self.parked: list[tuple[int, str]] = []

    def screen(self, records: list[ConsumerRecord]) -> list[ReceivedAnswer]:
        return [self.items[r.offset] for r in records]

    async def refuse(self, refused: list) -> None:  # type: ignore[type-arg]
        assert not refused  # every answer here passes the gate

    async def deliver(self, batch: list[ReceivedAnswer]) -> bool:
        self.delivered += [i.record.offset for i in batch]
        return True

    async def park(self, batch: list[ReceivedAnswer], reason: DeadLetterReason, _: str) -> None:
        self.parked += [(i.record.offset, reason.value) for i in batch]


def received(n: int, requests: int) -> list[ReceivedAnswer]:
    refs = [court_request() for _ in range(requests)]
    return [
        ReceivedAnswer(
            ConsumerRecord(
                topic="answers",
                partition=0,
                offset=i,
                timestamp=0,
                timestamp_type=0,
                key=None,
                value=b"{}",
                checksum=None,
                serialized_key_size=0,
                serialized_value_size=2,
                headers=(),
            ),
            acknowledgement(refs[i % requests]),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("requests", [1, 3])
async def test_a_state_over_its_budget_holds_its_lane_at_most_the_wait_per_fetch(
    requests: int,
) -> None:
    """H3: rate 5/s, burst 5, wait 2 s, 60 answers in one fetch. The old bridge waited up to
    2 s *per batch*, so the lane slept batch after batch (11 s), holding the partition for
    every other State, and parked nothing. Now the lane waits at most 2 s in all; the answers
    whose turn would come later are parked as throttled at once, in order per request."""
    now = [0.0]
    items = received(60, requests)
    lane = Lane(items)
    halt = FakeHalt(now)
    budgets = StateBudgets(rate=5.0, burst=5, clock=lambda: now[0])
    bridge = Bridge(
        None,  # type: ignore[arg-type]
        lane,  # type: ignore[arg-type]
        lane,  # type: ignore[arg-type]
        Retry(halt, Budget(), 5.0),
        throttle=budgets,
        throttle_wait_s=2.0,
    )
    done = await bridge._partition([i.record for i in items])
    assert done == 60  # every outcome final: the partition moves on
    assert now[0] <= 2.0  # the lane waited at most the bound
    assert lane.parked and {r for _, r in lane.parked} == {"throttled"}
    assert len(lane.delivered) + len(lane.parked) == 60
    assert len(lane.delivered) <= 5 + 2.0 * 5  # the burst plus what the wait refilled
    for k in range(requests):  # per request: delivered ones all precede the parked ones
        mine = {i.record.offset for i in items[k::requests]}
        last_delivered = max((o for o in lane.delivered if o in mine), default=-1)
        assert all(o > last_delivered for o, _ in lane.parked if o in mine)
