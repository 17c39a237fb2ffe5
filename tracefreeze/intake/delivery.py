"""Delivery: a routed answer becomes an update of its request, and its outcome becomes final.

Every outcome is one of three: the request took the answer (accepted, or a duplicate of an
answer it already has), the answer goes to the dead-letter topic with a reason (refused by the
gate, no such request, request closed, answer rejected by the request's rules), or the outcome
is not yet known (Temporal unreachable, a timeout) and the same answer is tried again
(``tracefreeze/intake/retry.py``). The outcome is final when the request took the answer or
when the broker acknowledged its dead-letter record (``tracefreeze/intake/deadletter.py``);
only then may the bridge commit its offset. A request that does not take an answer within the
retry budget gets it *parked*: written to the dead-letter topic with reason ``stuck`` and its
original coordinates, so that its partition moves on (``tracefreeze/intake/bridge.py``).

The update of an answer is the one its kind names (``routing.route``), its update id the
State's event id: a redelivered answer is a duplicate, never a second change. An operator's
authenticated replay has an update id of its own (``ReceivedAnswer.update_id``): Temporal would
give back the stored outcome of the failed first delivery otherwise. Several queued
answers to one request travel in one ``take_answers`` update. A request not found under its
plain id is tried once under the opaque id it has if it is ex parte (Rule 99(2)). Every log
line carries the answer's topic, partition, offset, event id, request reference and State.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from schemas.answers import AnswerBatch
from schemas.deadletter import DeadLetterReason
from schemas.request import OPAQUE_ID_PREFIX, opaque_request_workflow_id, request_workflow_id
from schemas.views import AnswerReceipt, BatchReceipt
from tracefreeze.intake.deadletter import DeadLetters, Letter
from tracefreeze.intake.gate import AnswerGate, ReceivedAnswer, where
from tracefreeze.intake.parking import behind
from tracefreeze.intake.retry import Retry, Stuck, TryAgain, no_handler, run_ended_first
from tracefreeze.intake.routing import Answer, Route, Verdict, route
from tracefreeze.ops.metrics import (
    ANSWERS_ACCEPTED,
    ANSWERS_PARKED,
    ANSWERS_REJECTED,
    DEAD_LETTERED,
)
from tracefreeze.security.request_ids import request_id_key
from tracefreeze.security.verify import Rejection
from tracefreeze.standing import Standing, standing
from tracefreeze.within import within
from workflows.catalog import BATCH_UPDATE

log = structlog.get_logger(__name__)
T = TypeVar("T")
R = TypeVar("R", Route, list[Route])

"""The request workflow's update that takes several answers to it, in order."""
DEFINITIVE_RPC = {RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.OUT_OF_RANGE}
"""RPC failures that retrying the same answer cannot cure (e.g. a payload over the limit)."""
ONE_BY_ONE = {DeadLetterReason.REJECTED, DeadLetterReason.INVALID}
"""A batch refused whole for these reasons is delivered again one answer at a time, so that
only the answers at fault are dead-lettered (unknown or closed requests refuse them all)."""


@dataclass(frozen=True)
class Accepted:
    receipt: AnswerReceipt


@dataclass(frozen=True)
class BatchAccepted:
    """The request took the batch: one receipt per answer (accepted, duplicate or refused)."""

    receipt: BatchReceipt


class AnswerDelivery:
    """Delivers one bridge process's answers and makes each outcome final."""

    def __init__(
        self,
        client: Client,
        dead: DeadLetters,
        retry: Retry,
        gate: AnswerGate,
        slots: asyncio.Semaphore | None = None,
    ) -> None:
        self.client, self.dead, self.retry, self.gate = client, dead, retry, gate
        self.slots = slots or asyncio.Semaphore(1)
        """Updates in flight at once; held for one attempt, never across a backoff."""

    async def refuse(self, refused: list[tuple[ConsumerRecord, Rejection]]) -> None:
        """Dead-letter the gate's rejections of a fetched batch: sent together, then
        acknowledged (``DeadLetters.write_many``), so that a flood of garbage is not cleared
        one round trip at a time."""
        letters = []
        for record, rejection in refused:
            ANSWERS_REJECTED.labels(rejection.reason_code).inc()
            verdict = rejection.as_verdict()
            letters.append(Letter(record, verdict.reason, verdict.detail, self._received(record)))
        await self._dead_letters(letters)

    async def deliver(self, items: list[ReceivedAnswer]) -> bool:
        """Deliver answers to one request, in order: alone as their own update, several as
        one batch update. Each ends accepted, duplicate or dead-lettered; raises Abandoned if
        that was not final. False when the request did not take them within the retry budget:
        they are parked (``stuck``), and so is every later answer of ``items``."""
        if len(items) == 1:
            record, answer = items[0].record, items[0].answer
            with structlog.contextvars.bound_contextvars(**where(record), **_about(answer)):
                try:
                    outcome = await self.retry.until_known(
                        "delivering answer",
                        lambda: self._guarded(deliver, self._route(items[0])),
                        budgeted=True,
                    )
                except Stuck as stuck:
                    await self.park(items, DeadLetterReason.STUCK, str(stuck))
                    return False
                await self._conclude(record, answer, outcome)
            return True
        routes = [self._route(i) for i in items]
        with structlog.contextvars.bound_contextvars(
            **_about(items[0].answer), batch=len(items), first_offset=items[0].record.offset
        ):
            try:
                batch = await self.retry.until_known(
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
                **where(item.record), **_about(item.answer)
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
                **where(item.record), **_about(item.answer)
            ):
                log.warning(
                    "answer parked", audit=True, reason_code=reason.value, reason=letter.detail
                )

    @staticmethod
    def _route(item: ReceivedAnswer) -> Route:
        return dataclasses.replace(route(item.answer), update_id=item.update_id)

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

    async def _guarded(
        self, call: Callable[[Client, R, float], Awaitable[T]], routed: R
    ) -> T | Verdict:
        """One attempt, holding an in-flight slot; an answer that fails its contract is its
        own fault (INVALID); anything else (a ``ValueError`` of a codec that lacks a key, a
        bug) is retried, then parked, never blamed on the State."""
        try:
            async with self.slots:
                return await call(self.client, routed, self.retry.timeout_s)
        except TryAgain:
            raise
        except ValidationError as err:  # only the answer's own contract blames the answer
            log.exception("answer could not be delivered")
            return Verdict(DeadLetterReason.INVALID, f"{type(err).__name__}: {err}")
        except Exception as err:  # a codec, a converter, a bug of ours: never the State's fault
            log.exception("unexpected error delivering answer")
            raise TryAgain(repr(err)) from err

    def _received(self, record: ConsumerRecord) -> int | None:
        """An authenticated replay's original broker timestamp (kept on its dead letter)."""
        return self.gate.replay(record).received_ms if self.gate is not None else None

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
                with structlog.contextvars.bound_contextvars(**where(letter.record)):
                    log.warning(
                        "answer dead-lettered",
                        reason_code=letter.reason.value,
                        reason=letter.detail,
                    )
            pending = [letter for letter, _ in failed]
            if failed:
                raise failed[0][1]

        if pending:
            await self.retry.until_known("writing dead-letter records", attempt)


# --- one update, and what Temporal said ------------------------------------------------------


async def deliver(client: Client, route: Route, timeout_s: float) -> Accepted | Verdict:
    """Execute the answer's update (update id = the State's event id) and classify the result.

    Raises TryAgain when the outcome is not known; the caller must not commit the offset.
    """

    def call(workflow_id: str) -> Awaitable[AnswerReceipt]:
        handle = client.get_workflow_handle(workflow_id)
        return handle.execute_update(
            route.update_name, route.answer, id=route.delivery_id, result_type=AnswerReceipt
        )

    outcome = await _outcome(client, route, call, timeout_s)
    return outcome if isinstance(outcome, Verdict) else Accepted(outcome)


async def deliver_batch(
    client: Client, routes: list[Route], timeout_s: float
) -> BatchAccepted | Verdict:
    """Execute one ``take_answers`` update with several answers to the same request, in order.

    The update id is derived from the answers' event ids (a redelivered batch is a duplicate);
    each answer is still deduplicated by its own event id. A Verdict refuses the whole batch
    (no such request, request closed, an answer not addressed to it)."""
    first = routes[0]
    batch = AnswerBatch(answers=[r.answer for r in routes])
    digest = hashlib.sha256("\n".join(r.delivery_id for r in routes).encode()).hexdigest()

    def call(workflow_id: str) -> Awaitable[BatchReceipt]:
        return client.get_workflow_handle(workflow_id).execute_update(
            BATCH_UPDATE,
            batch,
            id=f"batch-{len(routes)}-{digest[:32]}",
            result_type=BatchReceipt,
        )

    outcome = await _outcome(client, first, call, timeout_s, update_name=BATCH_UPDATE)
    return outcome if isinstance(outcome, Verdict) else BatchAccepted(outcome)


async def _outcome(
    client: Client,
    route: Route,
    call: Callable[[str], Awaitable[T]],
    timeout_s: float,
    update_name: str | None = None,
) -> T | Verdict:
    """The outcome of ``call`` on the route's request; a request not found under its plain id
    is tried once under the opaque id it has if it is ex parte (Rule 99(2))."""
    try:
        return await within(timeout_s, call(route.workflow_id))
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if no_handler(cause):  # a worker of a deploy that does not know it yet: retried
            raise TryAgain(f"the request has no handler for this answer (yet): {cause}") from err
        if run_ended_first(cause):  # accepted, then the run ended: the outcome is not known
            raise TryAgain(f"the request's run ended before the answer's outcome: {cause}") from err
        if isinstance(cause, ApplicationError) and cause.type == "AnswerRejected":
            return Verdict(DeadLetterReason.REJECTED, cause.message)
        kind = type(cause).__name__ + (
            f" {cause.type}" if isinstance(cause, ApplicationError) else ""
        )
        name = update_name or route.update_name
        return Verdict(DeadLetterReason.REJECTED, f"update {name} failed: {kind}: {cause}")
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            ex_parte = _ex_parte_route(route)
            if ex_parte is not None:
                outcome = await _outcome(client, ex_parte, call, timeout_s, update_name)
                if not _unknown(outcome):
                    return outcome
            return await _not_running(client, route, err)
        if err.status in DEFINITIVE_RPC:
            return Verdict(DeadLetterReason.REJECTED, f"Temporal refused the answer: {err.message}")
        raise TryAgain(f"Temporal error {err.status.name}: {err.message}") from err
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
        raise TryAgain(f"no outcome from Temporal within {timeout_s:g}s") from err


def _ex_parte_route(route: Route) -> Route | None:
    """The route to the opaque id of the answer's request, were it ex parte (needs the key)."""
    key = request_id_key()
    if key is None or route.workflow_id.startswith(OPAQUE_ID_PREFIX):
        return None
    answer = route.answer
    opaque = opaque_request_workflow_id(answer.request_reference, answer.state, key)
    return dataclasses.replace(route, workflow_id=opaque)


def _unknown(outcome: object) -> bool:
    """No request under the opaque id either: the plain id's verdict stands."""
    return isinstance(outcome, Verdict) and outcome.reason is DeadLetterReason.UNKNOWN_REQUEST


async def _not_running(client: Client, route: Route, err: RPCError) -> Verdict:
    """No running request took the update: as the server describes the request
    (``tracefreeze.standing``), it never existed (or is gone from the namespace), the Court
    closed it (never reopened), or it was stopped outside the Court's process (terminated,
    failed, timed out: the answer is kept for a replay once the request is restored, its
    measures standing meanwhile). A request still running, or a description that fails (a
    namespace not found is an error, never an absence), is tried again."""
    answer = route.answer
    try:
        where, status = await standing(client.get_workflow_handle(route.workflow_id))
    except RPCError as describe_err:
        raise TryAgain(
            f"Temporal error {describe_err.status.name}: {describe_err.message}"
        ) from describe_err
    about = f"request {answer.request_reference} to {answer.state}"
    if where is Standing.ABSENT:
        return Verdict(
            DeadLetterReason.UNKNOWN_REQUEST,
            f"no request {answer.request_reference} addressed to {answer.state} "
            f"(workflow {route.workflow_id} does not exist)",
        )
    if where is Standing.CLOSED:
        return Verdict(
            DeadLetterReason.REQUEST_CLOSED,
            f"{about} is closed; a closed request is never reopened",
        )
    if where is Standing.STOPPED:
        return Verdict(
            DeadLetterReason.REQUEST_STOPPED,
            f"{about} was {status} outside the Court's process, not closed; "
            "kept for replay once the request is restored",
        )
    raise TryAgain(f"request workflow is running but the update was not found: {err.message}")


def _about(answer: Answer) -> dict[str, str]:
    return {
        "event_id": answer.event_id,
        "request_reference": answer.request_reference,
        "state": answer.state,
        "answer_type": answer.answer_type,
        "workflow_id": request_workflow_id(answer.request_reference, answer.state),
    }
