"""The case's watch on proportionality across parties: the amount it is to secure (RS 57(3)(e),
75, 77(2)), the proposal of releases to the Chamber when what its requests secure exceeds it by
more than the margin, and the publishing of those proposals to the Court's escalations topic.

The rules are pure (``workflows/proportionality.py``); this part keeps their state for the
case (carried to its next run in ``CaseCarry``) and publishes. Nothing is released here.
"""

from __future__ import annotations

from collections.abc import Iterable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.case import MAX_CASE_REQUESTS, CaseCarry, CaseOrder, RequestSummary, SecureAmount
    from schemas.case import Proportionality as ProportionalityView
    from schemas.escalations import EscalationEvent
    from schemas.outbox import PUBLISH_OUTBOX, PublishOutbox
    from workflows.proportionality import assess, proposal_events
    from workflows.request_outbox import PUBLISH_RETRY, PUBLISH_TIMEOUT

MAX_OUTBOX = 4 * MAX_CASE_REQUESTS
"""Proposals the case holds unpublished (the oldest dropped beyond it)."""
MAX_OUTBOX_ROUND = 100


class Proposals:
    """The amount to secure, whether the case is over it, and the proposals not published to
    the case's topics."""

    def __init__(self, order: CaseOrder, carried: CaseCarry) -> None:
        self.case_number = order.case_number
        self.events_topic = order.events_topic
        self.escalations_topic = order.escalations_topic
        self.to_secure: SecureAmount | None = carried.to_secure
        """The amount the case is to secure (RS 57(3)(e), 75, 77(2)), once set."""
        self.over_secured = carried.over_secured
        self.proposed_at = carried.proposed_at
        self.proposals = carried.proposals
        self.outbox: list[EscalationEvent] = list(carried.outbox)
        """Proposals to the Chamber not yet published."""

    def view(self, requests: Iterable[RequestSummary]) -> ProportionalityView | None:
        return assess(self.to_secure, requests, self.proposed_at, self.proposals)

    def set_amount(self, act: SecureAmount, requests: Iterable[RequestSummary]) -> None:
        """A new amount replaces the one before and is assessed afresh."""
        self.to_secure = act
        self.over_secured = False
        self.check(requests, caused_by=act.event_id)

    def check(self, requests: Iterable[RequestSummary], caused_by: str | None) -> None:
        """Propose releases to the Chamber when what the case secures comes to exceed the
        amount by more than the margin (once per excess: again only after it fell within
        the margin, or a new amount is set). Nothing is released here."""
        requests = list(requests)
        view = assess(self.to_secure, requests)
        if view is None or not view.over_secured:
            self.over_secured = False
            return
        if self.over_secured:
            return
        self.over_secured = True
        self.proposed_at = workflow.now()
        self.proposals += 1
        events = proposal_events(
            view,
            requests,
            self.case_number,
            lambda: str(workflow.uuid4()),
            workflow.now(),
            caused_by,
        )
        self.outbox = (self.outbox + events)[-MAX_OUTBOX:]
        workflow.logger.info(
            "releases proposed to the Chamber",
            extra={"case": self.case_number, "requests": len(events)},
        )

    async def publish(self) -> None:
        """Publish the proposals to the Court's escalations topic (inside the Court)."""
        while self.outbox:
            batch = self.outbox[:MAX_OUTBOX_ROUND]
            await workflow.execute_activity(
                PUBLISH_OUTBOX,
                PublishOutbox(
                    events_topic=self.events_topic,
                    escalations_topic=self.escalations_topic,
                    escalations=batch,
                ),
                start_to_close_timeout=PUBLISH_TIMEOUT,
                retry_policy=PUBLISH_RETRY,
                summary=f"{len(batch)} release proposal(s) to the Chamber",
            )
            # By id: a signal taken meanwhile may have added proposals and dropped the oldest
            # (``MAX_OUTBOX``), so the head of the list need not be what was sent.
            sent = {event.id for event in batch}
            self.outbox = [event for event in self.outbox if event.id not in sent]
