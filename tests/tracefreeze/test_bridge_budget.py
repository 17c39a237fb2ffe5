"""The bridge's budgets: the retry budget after which an answer is parked, and the answer
budget per State (pure logic: no broker, no Temporal)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tracefreeze.bridge import Bridge
from tracefreeze.delivery import TryAgain
from tracefreeze.handler import Abandoned, AnswerHandler, Budget, Halt, Stuck
from tracefreeze.throttle import StateBudgets


def handler(budget: Budget, timeout_s: float = 0.05) -> AnswerHandler:
    halt = Halt(asyncio.Event())
    return AnswerHandler(None, None, halt, timeout_s, None, budget)  # type: ignore[arg-type]


async def never() -> None:
    raise TryAgain("no outcome from Temporal")


async def test_an_answer_its_request_never_takes_is_stuck_within_its_budget() -> None:
    budget = Budget(seconds=1.0)
    h = handler(budget)
    started = time.monotonic()
    with pytest.raises(Stuck, match="retry budget"):
        await h._retrying("delivering answer", never, budgeted=True)
    assert time.monotonic() - started <= budget.seconds
    assert budget.retrying == {}  # no longer counted as retrying


async def test_time_while_temporal_or_every_worker_is_down_does_not_count() -> None:
    """An outage parks nothing: only a stop ends the retries (the answer stays uncommitted)."""
    budget = Budget(seconds=0.3, counts=lambda: False)
    h = handler(budget)
    retrying = asyncio.create_task(h._retrying("delivering answer", never, budgeted=True))
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
    h = handler(budget)
    calls = 0

    async def third_time() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TimeoutError
        return "written"

    assert await h._retrying("writing dead-letter record", third_time) == "written"


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
    h = handler(budget, timeout_s=5.0)
    bridge = Bridge(None, h, h.halt, 5.0)  # type: ignore[arg-type]
    bridge.joined = bridge.temporal_ok = True
    assert bridge.ready()
    budget.retrying[1] = time.monotonic() - 35.0  # within budget + 2 timeouts
    assert bridge.ready()
    budget.retrying[2] = time.monotonic() - 45.0
    assert not bridge.ready()
    assert budget.oldest_s() >= 45.0
    bridge.workers_ok = False  # a failed delivery no longer counts against the budget
    assert not bridge.counting()
