"""Retrying an answer's delivery until its outcome is known, within the request's retry budget.

An answer's outcome is final when the request took it (accepted or duplicate) or when the
broker acknowledged a dead-letter record for it. Until then it is retried with backoff
(``Retry.until_known``). A delivery is retried within a retry budget: time spent failing
while Temporal answers and a worker polls the task queue (``TemporalProbe``) adds up, and once
it reaches the budget the request is taken to be unable to take the answer (a request whose
workflow task fails on every attempt, a request nobody serves): ``Stuck`` is raised and
delivery parks the answer (``tracefreeze/intake/delivery.py``). Time while Temporal or every
worker is down does not count: an outage parks nothing. Only a stop or a revocation of the
answer's partition (``Halt``) abandons it, uncommitted, so that it is read again.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

import structlog
from aiokafka.errors import KafkaError
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from tracefreeze.ops.metrics import OLDEST_STUCK

log = structlog.get_logger(__name__)
T = TypeVar("T")

BACKOFF_S = (0.2, 30.0)
"""First and longest pause between attempts whose outcome was unknown."""
PROBE_S = 5.0
"""How often the probe re-checks that Temporal answers and a worker polls."""
POLLER_FRESH_S = 90.0
"""A worker counts as polling if it polled the task queue this recently (a poll waits up to
a minute)."""


class TryAgain(Exception):
    """The outcome is unknown (Temporal unreachable, a timeout): keep the answer, retry it."""


NO_HANDLER = re.compile(r"update handler for \S+ expected but not found|unknown update", re.I)
"""How a worker refuses an update it has no handler for (the Python SDK: "Update handler for
'<name>' expected but not found"; other SDKs: "unknown update")."""
REFUSALS = frozenset({"AnswerRejected", "AnswerNotApplied"})
"""The request's own refusals, whose message may quote the answer: never read as the above."""


def no_handler(cause: BaseException | None) -> bool:
    """The request's worker does not know the update: during a rolling deploy, a new kind of
    answer reached a worker with the old code. Transient, the answer's fault never: retried
    and, past the retry budget, parked (``stuck``) to be replayed once the deploy is done."""
    return (
        isinstance(cause, ApplicationError)
        and cause.type not in REFUSALS
        and NO_HANDLER.search(cause.message or "") is not None
    )


RUN_ENDED_FIRST = "AcceptedUpdateCompletedWorkflow"
"""The server's failure type for an update accepted by a run that ended (closed, or continued
as new) before the update completed: whether the answer took effect is not known here."""


def run_ended_first(cause: BaseException | None) -> bool:
    """The answer's update was accepted, then its run ended before answering: transient, never
    the answer's fault. Delivered again: the next run takes it, or knows it (its event id is
    carried, a repeat is a no-op), or the request is closed (dead-lettered as such)."""
    return isinstance(cause, ApplicationError) and cause.type == RUN_ENDED_FIRST


class Abandoned(Exception):
    """Stop or revocation came while an answer's outcome was unknown; it stays uncommitted."""


class Stuck(Exception):
    """The request did not take the answer within the retry budget."""


@dataclass
class Budget:
    """The retry budget of one delivery, and what the bridge is retrying now.

    ``counts`` says whether a failed attempt is the request's own fault: Temporal answers and
    a worker polls the task queue (``TemporalProbe.up``). ``retrying`` holds the start of
    every delivery still being retried, for the oldest-stuck gauge and readiness."""

    seconds: float = 300.0
    counts: Callable[[], bool] = lambda: True
    retrying: dict[int, float] = field(default_factory=dict)

    def oldest_s(self) -> float:
        """Age of the oldest delivery still being retried; 0 when there is none."""
        return time.monotonic() - min(self.retrying.values()) if self.retrying else 0.0


class Halt:
    """The bridge's stop, the partitions' revocation and the bridge's cancellation, any of
    which ends retrying. ``stop`` is the caller's; ``cancelled`` the bridge's own, set when
    its loop is cancelled rather than stopped (the caller's event is never set for it)."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.revoking = asyncio.Event()
        self.cancelled = asyncio.Event()

    def is_set(self) -> bool:
        return self.stop.is_set() or self.revoking.is_set() or self.cancelled.is_set()

    async def pause(self, delay: float) -> None:
        """Sleep, but wake at once on stop, revocation or cancellation."""
        events = (self.stop, self.revoking, self.cancelled)
        waiters = [asyncio.ensure_future(e.wait()) for e in events]
        await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()


class TemporalProbe:
    """Whether Temporal answers and a worker polls the task queue: the bridge's readiness, and
    whether a failed delivery counts against the retry budget (``budget.counts``)."""

    def __init__(
        self, client: Client | None, task_queue: str | None, budget: Budget, timeout_s: float
    ) -> None:
        self.client, self.task_queue, self.budget = client, task_queue, budget
        self.timeout_s = min(timeout_s, PROBE_S)
        self.temporal_ok = client is not None
        self.workers_ok = True
        """A worker polled the task queue lately (unknown counts as yes)."""
        budget.counts = self.up

    def up(self) -> bool:
        """A failed delivery is the request's own fault: Temporal and a worker are up."""
        return self.temporal_ok and self.workers_ok

    async def run(self) -> None:
        """Keep ``temporal_ok`` and ``workers_ok`` current (the HTTP thread cannot await)."""
        while self.client is not None:
            try:
                self.temporal_ok = await self.client.service_client.check_health(
                    timeout=timedelta(seconds=self.timeout_s)
                )
            except Exception:
                self.temporal_ok = False
            if self.temporal_ok and self.task_queue:
                self.workers_ok = await self._workers_polling()
            OLDEST_STUCK.set(self.budget.oldest_s())
            await asyncio.sleep(PROBE_S)

    async def _workers_polling(self) -> bool:
        assert self.client is not None and self.task_queue is not None
        request = DescribeTaskQueueRequest(
            namespace=self.client.namespace,
            task_queue=TaskQueue(name=self.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        try:
            found = await self.client.workflow_service.describe_task_queue(
                request, timeout=timedelta(seconds=self.timeout_s)
            )
        except Exception:
            return self.workers_ok  # unknown: keep what we knew
        now = time.time()
        return any(now - p.last_access_time.ToSeconds() < POLLER_FRESH_S for p in found.pollers)


_ids = itertools.count()


@dataclass
class Retry:
    """Retrying attempts of one bridge process: its halt, its budget, the update timeout."""

    halt: Halt
    budget: Budget
    timeout_s: float

    async def until_known(
        self, what: str, attempt: Callable[[], Awaitable[T]], budgeted: bool = False
    ) -> T:
        """Retry until the outcome is known; abandon (uncommitted) on stop or revocation.

        ``budgeted``: the time spent failing while ``Budget.counts`` (Temporal and a worker
        up) adds up; pauses are cut so that the last attempt (which lasts at most the update
        timeout) ends within the budget, and ``Stuck`` is raised once no further attempt
        would: an answer is parked within its budget, never after it."""
        delay, spent, me = BACKOFF_S[0], 0.0, next(_ids)
        since = time.monotonic()
        budget = self.budget

        def count() -> None:
            nonlocal spent, since
            now = time.monotonic()
            if budgeted and budget.counts():
                spent += now - since
            since = now

        try:
            while True:
                try:
                    return await attempt()
                except (TryAgain, KafkaError, TimeoutError) as err:
                    error = repr(err)
                    budget.retrying.setdefault(me, since)
                    log.warning(f"{what} failed; will retry", error=error, retry_in_s=delay)
                except Exception as err:
                    error = repr(err)
                    budget.retrying.setdefault(me, since)
                    log.exception(f"{what} failed unexpectedly; will retry", error=error)
                count()
                pause = delay
                if budgeted and budget.counts():
                    room = budget.seconds - spent - self.timeout_s
                    if room <= 0:  # no further attempt would end within the budget
                        raise Stuck(
                            f"the request did not take the answer within the retry budget "
                            f"({budget.seconds:g}s while Temporal and a worker were up, "
                            f"{spent:.1f}s spent); last error: {error}"
                        )
                    pause = min(delay, room)
                await self.halt.pause(pause)
                if self.halt.is_set():
                    raise Abandoned(what)
                count()
                delay = min(delay * 2, BACKOFF_S[1])
        finally:
            budget.retrying.pop(me, None)
