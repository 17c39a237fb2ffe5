"""Handling one State's answer from Kafka until its outcome is final.

The outcome is final when the request took the answer (accepted or duplicate) or when the
broker acknowledged a dead-letter record for it. Until then the answer is retried with
backoff; only a stop or a revocation of its partition abandons it, uncommitted, so that it is
read again. Every log line carries the answer's topic, partition, offset, event id, request
reference and State.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from temporalio.client import Client

from schemas.deadletter import DeadLetterReason
from schemas.request import request_workflow_id
from schemas.views import AnswerReceipt
from tracefreeze.deadletter import DeadLetters
from tracefreeze.delivery import Accepted, TryAgain, deliver, deliver_batch
from tracefreeze.gate import AnswerGate
from tracefreeze.metrics import ANSWERS_ACCEPTED, ANSWERS_REJECTED, DEAD_LETTERED
from tracefreeze.pipeline import ReceivedAnswer
from tracefreeze.routing import Answer, Verdict, route
from tracefreeze.signing import Rejection

log = structlog.get_logger(__name__)
T = TypeVar("T")

BACKOFF_S = (0.2, 30.0)
"""First and longest pause between attempts whose outcome was unknown."""


ONE_BY_ONE = {DeadLetterReason.REJECTED, DeadLetterReason.INVALID}
"""A batch refused whole for these reasons is delivered again one answer at a time, so that
only the answers at fault are dead-lettered (unknown or closed requests refuse them all)."""


class Abandoned(Exception):
    """Stop or revocation came while an answer's outcome was unknown; it stays uncommitted."""


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


class AnswerHandler:
    def __init__(
        self, client: Client, dead: DeadLetters, halt: Halt, timeout_s: float, gate: AnswerGate
    ) -> None:
        self.client, self.dead, self.halt, self.timeout_s = client, dead, halt, timeout_s
        self.gate = gate

    async def screen(self, record: ConsumerRecord) -> Answer | None:
        """The gate's checks: the verified answer, or None once it is dead-lettered."""
        with structlog.contextvars.bound_contextvars(**_where(record)):
            decoded = self.gate.check(record)
            if not isinstance(decoded, Rejection):
                return decoded
            ANSWERS_REJECTED.labels(decoded.reason_code).inc()
            with structlog.contextvars.bound_contextvars(
                event_id=decoded.event_id, key_id=decoded.key_id
            ):
                await self._dead_letter(record, decoded.as_verdict())
            return None

    async def deliver(self, items: list[ReceivedAnswer]) -> None:
        """Deliver answers to one request, in order: alone as their own update, several as
        one batch update. Each ends accepted, duplicate or dead-lettered; raises Abandoned if
        that was not final."""
        if len(items) == 1:
            record, answer = items[0].record, items[0].answer
            with structlog.contextvars.bound_contextvars(**_where(record), **_about(answer)):
                outcome = await self._retrying("delivering answer", lambda: self._deliver(answer))
                await self._conclude(record, answer, outcome)
            return
        routes = [route(i.answer) for i in items]
        with structlog.contextvars.bound_contextvars(
            **_about(items[0].answer), batch=len(items), first_offset=items[0].record.offset
        ):
            batch = await self._retrying(
                "delivering answers", lambda: self._guarded(deliver_batch, routes)
            )
        if isinstance(batch, Verdict) and batch.reason in ONE_BY_ONE:
            for item in items:  # refused whole: each answer gets its own verdict
                await self.deliver([item])
            return
        for i, item in enumerate(items):
            outcome = batch if isinstance(batch, Verdict) else batch.receipt.receipts[i]
            with structlog.contextvars.bound_contextvars(
                **_where(item.record), **_about(item.answer)
            ):
                await self._conclude(item.record, item.answer, outcome)

    async def _conclude(
        self, record: ConsumerRecord, answer: Answer, outcome: Accepted | AnswerReceipt | Verdict
    ) -> None:
        if isinstance(outcome, AnswerReceipt) and outcome.rejected is not None:
            outcome = Verdict(DeadLetterReason.REJECTED, outcome.rejected)
        if isinstance(outcome, Verdict):
            self.gate.guard.forget(answer.event_id)  # not taken: may be resent
            ANSWERS_REJECTED.labels(outcome.reason.value).inc()
            await self._dead_letter(record, outcome)
            return
        receipt = outcome.receipt if isinstance(outcome, Accepted) else outcome
        ANSWERS_ACCEPTED.labels(answer.answer_type).inc()
        log.info("answer accepted", duplicate=receipt.duplicate, status=receipt.status.value)

    async def _deliver(self, answer: Answer) -> Accepted | Verdict:
        return await self._guarded(deliver, route(answer))

    async def _guarded(self, call: Callable[..., Awaitable[T]], routed: Any) -> T | Verdict:
        """One attempt; an answer that cannot even be converted is its own fault (INVALID),
        anything else unexpected is retried."""
        try:
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
        await self._retrying(
            "writing dead-letter record",
            lambda: self.dead.write(record, verdict.reason, verdict.detail),
        )
        DEAD_LETTERED.labels(verdict.reason.value).inc()
        log.warning("answer dead-lettered", reason_code=verdict.reason.value, reason=verdict.detail)

    async def _retrying(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """Retry until the outcome is known; abandon (uncommitted) on stop or revocation."""
        delay = BACKOFF_S[0]
        while True:
            try:
                return await attempt()
            except (TryAgain, KafkaError, TimeoutError) as err:
                log.warning(f"{what} failed; will retry", error=repr(err), retry_in_s=delay)
            except Exception as err:
                log.exception(f"{what} failed unexpectedly; will retry", error=repr(err))
            await self.halt.pause(delay)
            if self.halt.is_set():
                raise Abandoned(what)
            delay = min(delay * 2, BACKOFF_S[1])


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
