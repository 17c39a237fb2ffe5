"""The Court actions a case delivers to its requests: a judgment recorded for the case (RS 74,
83(2); RS 61), the case's release (RS 74, 81(3)(c), 83(2)) and the close that follows it.

Each action is queued per request and update under a fresh event id of its own (each request
dedupes on it; a retry sends the same id), then delivered by an activity
(``activities/case.py``), each request on its own: one request that refuses or cannot be
reached never stalls another. An action that could not be delivered is sent again; so is
one its request did not take because its workflow was stopped outside the Court's process
(``stopped``: terminated, failed, timed out), until the request is restored and takes it, or
is closed. Nothing is ever dropped for failing (RS 93(1)(k), 75(4): a release not delivered
leaves the assets frozen): the waits back off from an hour, doubling, to a day at most
(``retry_after``), each at its own instant. What is still queued is carried to the case's
next run, compact: each action by its event id, rebuilt from the case's judgments and release
(``compact``, ``rebuild``), with its failures and the instant of its next try.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from schemas.case import (
        DELIVER_TO_REQUEST,
        CarriedDelivery,
        CaseReleaseRecord,
        Delivery,
        DeliveryResult,
        RequestDelivery,
        RequestSummary,
        RequestUpdate,
    )
    from schemas.court import CaseRelease, CloseRequest, CourtAction, Judgment
    from schemas.ledger import RequestStatus
    from workflows.case_release import close_of
    from workflows.case_rules import judgment_of

A = TypeVar("A", bound=CourtAction)
Slot = tuple[str, str]
"""Where an action waits: its request (``REFERENCE/PARTY``) and the update it is sent as."""
Delivered = Callable[[Delivery, DeliveryResult], DeliveryResult]
"""What the case does with a request's answer to an action it delivered: the answer as the
case reads it (a request gone from the server is ended or stopped, ``as_known``)."""
NOT_TAKEN = {
    "refused": "a request refused the case's Court action",
    "ended": "a Court action was not delivered: its request was closed by the Court",
    "stopped": "a Court action was not taken: its request was stopped outside the Court's "
    "process (its measures stand); sent again until it is restored or closed",
}
"""The case's log line for each outcome of a delivery other than ``taken``."""
CLOSED = RequestStatus.CLOSED
WHERE_AND_HOW_OFTEN = ("key", "update", "failures", "retry_at")
"""What a carried delivery keeps as it was: its request and update, its failures and next try."""
RETRY_FIRST = timedelta(hours=1)
"""How soon a Court action that did not reach its request, or was not taken there, is sent
again the first time."""
RETRY_LONGEST = timedelta(days=1)
"""The longest wait between two tries: a request restored after weeks takes its action within
a day even if it never reports."""
GONE = (
    "no such workflow, and the case never saw the request closed (stopped, then deleted by "
    "the namespace's retention?): its measures stand; restore it under its workflow id"
)


def not_taken(
    delivery: Delivery, result: DeliveryResult, summary: RequestSummary | None
) -> DeliveryResult:
    """``result`` as the case records it (``as_known``), logged unless taken: the reason only
    where it is the server's (a request's refusal may quote what its record keeps
    confidential)."""
    result = as_known(result, summary)
    if result.outcome != "taken":
        reason = None if result.outcome == "refused" else result.reason
        workflow.logger.warning(
            NOT_TAKEN[result.outcome],
            extra={"request": delivery.key, "update": delivery.update, "reason": reason},
        )
    return result


def as_known(result: DeliveryResult, summary: RequestSummary | None) -> DeliveryResult:
    """A request the server no longer knows (``gone``) ended if the case saw it closed; if
    not, it was stopped and its history deleted: ``stopped``, its measures standing (RS
    93(1)(k)), never ``already_closed``, and the action kept and sent again (until the
    request is restored under its workflow id and takes it)."""
    if result.outcome != "gone":
        return result
    if summary is not None and summary.status is CLOSED:
        return result.model_copy(update={"outcome": "ended"})
    return result.model_copy(update={"outcome": "stopped", "reason": GONE})


def retry_after(failures: int) -> timedelta:
    """The wait before the next try of an action that failed ``failures`` times in a row:
    ``RETRY_FIRST``, doubling, at most ``RETRY_LONGEST``."""
    return min(RETRY_FIRST * 2 ** min(max(failures, 1) - 1, 16), RETRY_LONGEST)


class Deliveries:
    """The case's Court actions on their way to its requests."""

    def __init__(
        self,
        carried: Iterable[Delivery | CarriedDelivery],
        judgments: list[Judgment],
        release: CaseReleaseRecord | None,
    ) -> None:
        rebuilt = (rebuild(d, judgments, release) for d in carried)
        self.queued: dict[Slot, Delivery] = {(d.key, d.update): d for d in rebuilt if d}
        self.judgments = judgments
        """The case's judgments, in order (the case's own list, appended to as it records)."""
        """Court actions for the requests not yet taken or refused, per request and update."""
        self.in_flight: set[Slot] = set()
        self.armed: datetime | None = None
        """The next try the case's wait was armed for (``arm``)."""
        self.starting: set[str] = set()
        """The requests whose start as a child the case has not yet seen confirmed: nothing is
        sent to one before it exists (the server would answer that no such workflow runs, and
        the request would be taken for one that has ended)."""

    def send(
        self, key: str, update: RequestUpdate, action: Judgment | CaseRelease | CloseRequest
    ) -> None:
        """Queue a Court action for one request under a fresh event id of its own (each request
        dedupes on it; a retry sends the same id), replacing one of the same update not yet
        sent (a newer judgment supersedes an older one on its way). The organ's signature
        covered the case's event id and address, so the workers' relay key signs what is
        relayed (``activities/case.py``), and the organ's act as signed goes inside it
        (``original``: the judgment itself; the release of the case, set by ``case_release``)
        for the request to verify (``decision_signatures.check_relayed``)."""
        action = relay_copy(action, str(workflow.uuid4()))
        self.queued[(key, update)] = Delivery(key=key, update=update, action=action)

    def due(self) -> bool:
        """Whether an action waits to be sent (neither on its way nor failed, nor for a request
        still ``starting``)."""
        return any(self._sendable(k, d) for k, d in self.queued.items())

    def _sendable(self, slot: Slot, delivery: Delivery) -> bool:
        return slot not in self.in_flight and not delivery.failed and slot[0] not in self.starting

    def next_try(self) -> datetime | None:
        """When the first action waiting to be sent again is due."""
        return min((d.retry_at for d in self.queued.values() if d.retry_at), default=None)

    def arm(self) -> datetime | None:
        """The next try, as the case arms its wait for it."""
        self.armed = self.next_try()
        return self.armed

    def newly_undelivered(self) -> bool:
        """An action failed while the case waited, due before what its wait was armed for:
        the case comes round to arm it (else the try would wait for the later instant)."""
        due = self.next_try()
        return due is not None and (self.armed is None or due < self.armed)

    def retry_due(self, now: datetime) -> None:
        """The actions whose next try has come are sent again (their failures kept)."""
        for slot, delivery in list(self.queued.items()):
            if delivery.retry_at is not None and delivery.retry_at <= now:
                self.queued[slot] = delivery.model_copy(update={"retry_at": None})

    def _failed(self, slot: Slot, delivery: Delivery) -> None:
        """``delivery`` failed once more: kept, its next try backed off (``retry_after``)."""
        failures = delivery.failures + 1
        retry_at = workflow.now() + retry_after(failures)
        self.queued[slot] = delivery.model_copy(update={"failures": failures, "retry_at": retry_at})

    def drop(self, key: str) -> None:
        """Forget every action for a request not in the case after all (its start refused)."""
        for slot in [s for s in self.queued if s[0] == key]:
            del self.queued[slot]

    def carried(self) -> tuple[CarriedDelivery, ...]:
        """What is queued, compact: each action by its event id (``CarriedDelivery``)."""
        return tuple(compact(d, self.judgments) for d in self.queued.values())

    def dispatch(
        self, workflow_ids: dict[str, str], delivered: Delivered
    ) -> list[asyncio.Task[None]]:
        """Send every queued action not on its way yet, each request on its own: one request
        that refuses or cannot be reached never stalls another. An action for a request the
        case cannot reach by id is dropped; one for a request still ``starting`` waits until
        its start is confirmed. Returns the deliveries started, to follow."""
        started: list[asyncio.Task[None]] = []
        for slot, delivery in list(self.queued.items()):
            if not self._sendable(slot, delivery):
                continue
            workflow_id = workflow_ids.get(delivery.key)
            if workflow_id is None:
                del self.queued[slot]
                continue
            self.in_flight.add(slot)
            started.append(
                asyncio.create_task(self._deliver(slot, delivery, workflow_id, delivered))
            )
        return started

    async def _deliver(
        self, slot: Slot, delivery: Delivery, workflow_id: str, delivered: Delivered
    ) -> None:
        try:
            result: DeliveryResult = await workflow.execute_activity(
                DELIVER_TO_REQUEST,
                RequestDelivery(
                    workflow_id=workflow_id, update=delivery.update, action=delivery.action
                ),
                result_type=DeliveryResult,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(minutes=1)),
                summary=f"{delivery.update} to {delivery.key}",
            )
        except ActivityError as err:
            workflow.logger.warning(
                "a Court action could not reach its request: sent again later",
                extra={"request": delivery.key, "update": delivery.update, "error": str(err)},
            )
            if self.queued.get(slot) is delivery:
                self._failed(slot, delivery)
            return
        finally:
            self.in_flight.discard(slot)
        result = delivered(delivery, result)  # as the case reads it (``as_known``)
        if self.queued.get(slot) is delivery:
            if result.outcome == "stopped":  # kept: its measures stand until it is restored
                self._failed(slot, delivery)
            else:
                del self.queued[slot]


def relay_copy(action: A, event_id: str) -> A:
    """``action`` as the case relays it under ``event_id``: unsigned (the relay signs it for
    its request), a judgment with the Chamber's signed judgment inside (``original``)."""
    fresh: dict[str, object] = {"event_id": event_id, "signature": None, "addressed_to": None}
    if isinstance(action, Judgment) and action.original is None:
        fresh["original"] = action
    return action.model_copy(update=fresh)


def compact(delivery: Delivery, judgments: list[Judgment]) -> CarriedDelivery:
    """A queued action as the case carries it: its event id and what the case's record does
    not hold (which of its judgments it sends, a close's time)."""
    action = delivery.action
    place = None
    if isinstance(action, Judgment):
        # The same judgment may be recorded twice, pending appeal then final (Rule 150): the
        # record it sends is the one of its finality.
        sent = (action.judgment_reference, action.finality)
        place = max(
            i for i, j in enumerate(judgments) if (j.judgment_reference, j.finality) == sent
        )
    return CarriedDelivery(
        key=delivery.key,
        update=delivery.update,
        event_id=action.event_id,
        judgment=place,
        decided_at=action.decided_at if isinstance(action, CloseRequest) else None,
        failures=delivery.failures,
        retry_at=delivery.retry_at,
    )


def rebuild(
    carried: Delivery | CarriedDelivery,
    judgments: list[Judgment],
    release: CaseReleaseRecord | None,
) -> Delivery | None:
    """The action a carried delivery stands for, as the case built it (``send``), from the
    case's judgments and release; ``None`` (dropped, with a warning) should the record not hold
    what it names. A delivery carried whole (by an older run) is as it was."""
    if isinstance(carried, Delivery):
        return carried
    action: Judgment | CaseRelease | CloseRequest | None = None
    if carried.update == "record_judgment":
        if carried.judgment is not None and carried.judgment < len(judgments):
            action = relay_copy(judgments[carried.judgment], carried.event_id)
    elif release is not None:
        order = release.order
        if carried.update == "close" and carried.decided_at is not None:
            action = close_of(release, carried.event_id, carried.decided_at)
        elif carried.update == "release_for_case":
            found = judgment_of(judgments, order.judgment_reference)
            if found is not None:
                action = CaseRelease(
                    event_id=carried.event_id,
                    decided_by=order.decided_by,
                    decided_at=order.decided_at,
                    judgment=found,
                    reasons=order.reasons,
                    original=order,
                )
    if action is None:
        workflow.logger.warning(
            "a carried Court action names nothing the case holds: dropped",
            extra={"request": carried.key, "update": carried.update},
        )
        return None
    return Delivery(action=action, **carried.model_dump(include={*WHERE_AND_HOW_OFTEN}))
