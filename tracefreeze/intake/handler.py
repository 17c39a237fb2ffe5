"""Handling one State's answer from Kafka until its outcome is final.

The outcome is final when the request took the answer (accepted or duplicate) or when the
broker acknowledged a dead-letter record for it. Until then the answer is retried with
backoff, within a retry budget: time spent retrying while Temporal answers and workers poll
(``Budget.counts``) adds up, and once it reaches the budget the request is taken to be unable
to take the answer (a request whose workflow task fails on every attempt, a request nobody
serves) and the answer is *parked*: written to the dead-letter topic with reason ``stuck`` and
its original coordinates, so that its partition moves on (``tracefreeze/intake/bridge.py``). Time
while Temporal or every worker is down does not count: an outage parks nothing. Only a stop or
a revocation of its partition abandons an answer, uncommitted, so that it is read again. Every
log line carries the answer's topic, partition, offset, event id, request reference and State.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from temporalio.client import Client

from schemas.deadletter import DeadLetterReason
from schemas.request import request_workflow_id
from schemas.views import AnswerReceipt
from tracefreeze.intake.deadletter import DeadLetters, Letter
from tracefreeze.intake.delivery import Accepted, TryAgain, deliver, deliver_batch
from tracefreeze.intake.gate import AnswerGate
from tracefreeze.intake.pipeline import ReceivedAnswer, behind
from tracefreeze.intake.routing import Answer, Verdict, route
from tracefreeze.ops.metrics import (
    ANSWERS_ACCEPTED,
    ANSWERS_PARKED,
    ANSWERS_REJECTED,
    DEAD_LETTERED,
)
from tracefreeze.security.verify import Rejection

log = structlog.get_logger(__name__)
T = TypeVar("T")

BACKOFF_S = (0.2, 30.0)
"""First and longest pause between attempts whose outcome was unknown."""


ONE_BY_ONE = {DeadLetterReason.REJECTED, DeadLetterReason.INVALID}
"""A batch refused whole for these reasons is delivered again one answer at a time, so that
only the answers at fault are dead-lettered (unknown or closed requests refuse them all)."""


class Abandoned(Exception):
    """Stop or revocation came while an answer's outcome was unknown; it stays uncommitted."""


class Stuck(Exception):
    """The request did not take the answer within the retry budget."""


@dataclass
class Budget:
    """The retry budget of one delivery, and what the bridge is retrying now.

    ``counts`` says whether a failed attempt is the request's own fault: Temporal answers and
    a worker polls the task queue (``Bridge.probe_temporal``). ``retrying`` holds the start of
    every delivery still being retried, for the oldest-stuck gauge and readiness."""

    seconds: float = 300.0
    counts: Callable[[], bool] = lambda: True
    retrying: dict[int, float] = field(default_factory=dict)

    def oldest_s(self) -> float:
        """Age of the oldest delivery still being retried; 0 when there is none."""
        return time.monotonic() - min(self.retrying.values()) if self.retrying else 0.0


class Halt:
    """The bridge's stop and the partitions' revocation, either of which ends retrying."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.revoking = asyncio.Event()

    def is_set(self) -> bool:
        return self.stop.is_set() or self.revoking.is_set()

    async def pause(self, delay: float) -> None:
        """Sleep, but wake at once on stop or revocation."""
        waiters = [asyncio.ensure_future(e.wait()) for e in (self.stop, self.revoking)]
        await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()


_ids = itertools.count()


class AnswerHandler:
    def __init__(
        self,
        client: Client,
        dead: DeadLetters,
        halt: Halt,
        timeout_s: float,
        gate: AnswerGate,
        budget: Budget | None = None,
        slots: asyncio.Semaphore | None = None,
    ) -> None:
        self.client, self.dead, self.halt, self.timeout_s = client, dead, halt, timeout_s
        self.gate = gate
        self.budget = budget or Budget()
        self.slots = slots or asyncio.Semaphore(1)
        """Updates in flight at once; held for one attempt, never across a backoff."""

    async def screen(self, records: list[ConsumerRecord]) -> list[ReceivedAnswer | None]:
        """The gate's checks on a partition's fetched records, in order: each verified answer
        (marked if it is an operator's authenticated replay), or None once it is
        dead-lettered. The refused ones' dead letters are sent together, then acknowledged
        (``DeadLetters.write_many``): a flood of garbage is not cleared one round trip at a
        time."""
        out: list[ReceivedAnswer | None] = []
        refused: list[Letter] = []
        for record in records:
            with structlog.contextvars.bound_contextvars(**_where(record)):
                decoded = self.gate.check(record)
            if isinstance(decoded, Rejection):
                ANSWERS_REJECTED.labels(decoded.reason_code).inc()
                verdict = decoded.as_verdict()
                refused.append(
                    Letter(record, verdict.reason, verdict.detail, self._received(record))
                )
                out.append(None)
            else:
                replay = self.gate.replay(record).authentic
                out.append(ReceivedAnswer(record, decoded, replayed=replay))
        await self._dead_letters(refused)
        return out

    def _received(self, record: ConsumerRecord) -> int | None:
        """An authenticated replay's original broker timestamp (kept on its dead letter)."""
        return self.gate.replay(record).received_ms if self.gate is not None else None

    async def deliver(self, items: list[ReceivedAnswer]) -> bool:
        """Deliver answers to one request, in order: alone as their own update, several as
        one batch update. Each ends accepted, duplicate or dead-lettered; raises Abandoned if
        that was not final. False when the request did not take them within the retry budget:
        they are parked (``stuck``), and so is every later answer of ``items``."""
        if len(items) == 1:
            record, answer = items[0].record, items[0].answer
            with structlog.contextvars.bound_contextvars(**_where(record), **_about(answer)):
                try:
                    outcome = await self._retrying(
                        "delivering answer", lambda: self._deliver(answer), budgeted=True
                    )
                except Stuck as stuck:
                    await self.park(items, DeadLetterReason.STUCK, str(stuck))
                    return False
                await self._conclude(record, answer, outcome)
            return True
        routes = [route(i.answer) for i in items]
        with structlog.contextvars.bound_contextvars(
            **_about(items[0].answer), batch=len(items), first_offset=items[0].record.offset
        ):
            try:
                batch = await self._retrying(
                    "delivering answers",
                    lambda: self._guarded(deliver_batch, routes),
                    budgeted=True,
                )
            except Stuck as stuck:
                await self.park(items, DeadLetterReason.STUCK, str(stuck))
                return False
        if isinstance(batch, Verdict) and batch.reason in ONE_BY_ONE:
            for i, item in enumerate(items):  # refused whole: each answer gets its own verdict
                if not await self.deliver([item]):
                    await self.park(items[i + 1 :], DeadLetterReason.STUCK, behind(item))
                    return False
            return True
        for i, item in enumerate(items):
            taken = batch if isinstance(batch, Verdict) else batch.receipt.receipts[i]
            with structlog.contextvars.bound_contextvars(
                **_where(item.record), **_about(item.answer)
            ):
                await self._conclude(item.record, item.answer, taken)
        return True

    async def park(
        self, items: list[ReceivedAnswer], reason: DeadLetterReason, detail: str
    ) -> None:
        """Set answers aside in the dead-letter topic (``stuck`` or ``throttled``), in order,
        with their original coordinates, so that their partition moves on. The first gets
        ``detail``; each later one is parked behind the first (an answer to one request is
        never applied before an earlier one)."""
        letters = []
        for i, item in enumerate(items):
            why = detail if i == 0 else behind(items[0])
            self.gate.guard.forget(item.answer.event_id, item.answer.state)  # may be resent
            ANSWERS_REJECTED.labels(reason.value).inc()
            letters.append(Letter(item.record, reason, why, self._received(item.record)))
        await self._dead_letters(letters)
        for letter, item in zip(letters, items, strict=True):
            ANSWERS_PARKED.labels(reason.value).inc()
            with structlog.contextvars.bound_contextvars(
                **_where(item.record), **_about(item.answer)
            ):
                log.warning(
                    "answer parked", audit=True, reason_code=reason.value, reason=letter.detail
                )

    async def _conclude(
        self, record: ConsumerRecord, answer: Answer, outcome: Accepted | AnswerReceipt | Verdict
    ) -> None:
        if isinstance(outcome, AnswerReceipt) and outcome.rejected is not None:
            outcome = Verdict(DeadLetterReason.REJECTED, outcome.rejected)
        if isinstance(outcome, Verdict):
            self.gate.guard.forget(answer.event_id, answer.state)  # not taken: may be resent
            ANSWERS_REJECTED.labels(outcome.reason.value).inc()
            await self._dead_letter(record, outcome)
            return
        receipt = outcome.receipt if isinstance(outcome, Accepted) else outcome
        ANSWERS_ACCEPTED.labels(answer.answer_type).inc()
        log.info("answer accepted", duplicate=receipt.duplicate, status=receipt.status.value)

    async def _deliver(self, answer: Answer) -> Accepted | Verdict:
        return await self._guarded(deliver, route(answer))

    async def _guarded(self, call: Callable[..., Awaitable[T]], routed: Any) -> T | Verdict:
        """One attempt, holding an in-flight slot; an answer that cannot even be converted is
        its own fault (INVALID), anything else unexpected is retried."""
        try:
            async with self.slots:
                return await call(self.client, routed, self.timeout_s)
        except TryAgain:
            raise
        except (ValueError, TypeError) as err:
            log.exception("answer could not be delivered")
            return Verdict(DeadLetterReason.INVALID, f"{type(err).__name__}: {err}")
        except Exception as err:
            log.exception("unexpected error delivering answer")
            raise TryAgain(repr(err)) from err

    async def _dead_letter(self, record: ConsumerRecord, verdict: Verdict) -> None:
        await self._dead_letters(
            [Letter(record, verdict.reason, verdict.detail, self._received(record))]
        )

    async def _dead_letters(self, letters: list[Letter]) -> None:
        """Write the letters (sent together, in order), retrying those not acknowledged
        until every one is; returns only then (or raises Abandoned on stop/revocation)."""
        pending = list(letters)

        async def attempt() -> None:
            nonlocal pending
            results = await self.dead.write_many(pending)
            failed = []
            for letter, result in zip(pending, results, strict=True):
                if isinstance(result, BaseException):
                    failed.append((letter, result))
                    continue
                DEAD_LETTERED.labels(letter.reason.value).inc()
                with structlog.contextvars.bound_contextvars(**_where(letter.record)):
                    log.warning(
                        "answer dead-lettered",
                        reason_code=letter.reason.value,
                        reason=letter.detail,
                    )
            pending = [letter for letter, _ in failed]
            if failed:
                raise failed[0][1]

        if pending:
            await self._retrying("writing dead-letter records", attempt)

    async def _retrying(
        self, what: str, attempt: Callable[[], Awaitable[T]], budgeted: bool = False
    ) -> T:
        """Retry until the outcome is known; abandon (uncommitted) on stop or revocation.

        ``budgeted``: the time spent failing while ``Budget.counts`` (Temporal and a worker
        up) adds up; pauses are cut so that the last attempt (which lasts at most the update
        timeout) ends within the budget, and ``Stuck`` is raised once no further attempt
        would: an answer is parked within its budget, never after it."""
        delay, spent, me = BACKOFF_S[0], 0.0, next(_ids)
        since = time.monotonic()
        self_budget = self.budget

        def count() -> None:
            nonlocal spent, since
            now = time.monotonic()
            if budgeted and self_budget.counts():
                spent += now - since
            since = now

        try:
            while True:
                try:
                    return await attempt()
                except (TryAgain, KafkaError, TimeoutError) as err:
                    error = repr(err)
                    self_budget.retrying.setdefault(me, since)
                    log.warning(f"{what} failed; will retry", error=error, retry_in_s=delay)
                except Exception as err:
                    error = repr(err)
                    self_budget.retrying.setdefault(me, since)
                    log.exception(f"{what} failed unexpectedly; will retry", error=error)
                count()
                pause = delay
                if budgeted and self_budget.counts():
                    room = self_budget.seconds - spent - self.timeout_s
                    if room <= 0:  # no further attempt would end within the budget
                        raise Stuck(
                            f"the request did not take the answer within the retry budget "
                            f"({self_budget.seconds:g}s while Temporal and a worker were up, "
                            f"{spent:.1f}s spent); last error: {error}"
                        )
                    pause = min(delay, room)
                await self.halt.pause(pause)
                if self.halt.is_set():
                    raise Abandoned(what)
                count()
                delay = min(delay * 2, BACKOFF_S[1])
        finally:
            self_budget.retrying.pop(me, None)


def _where(record: ConsumerRecord) -> dict[str, Any]:
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}


def _about(answer: Answer) -> dict[str, Any]:
    return {
        "event_id": answer.event_id,
        "request_reference": answer.request_reference,
        "state": answer.state,
        "answer_type": answer.answer_type,
        "workflow_id": request_workflow_id(answer.request_reference, answer.state),
    }
