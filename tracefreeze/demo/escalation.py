"""The demo's second act: a request nobody answers climbs the escalation ladder.

Uses the demo policy (deadlines in seconds) so the ladder — reminder to the focal point,
Registry follow-up, a proposed report to the Chamber — unfolds while you watch; every step
is read back from ``tracefreeze.escalations`` as a downstream consumer would.
"""

from __future__ import annotations

import time

from schemas.escalations import EscalationEvent, EscalationKind
from schemas.request import CourtRequest
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.kafka import make_consumer, start_with_timeout, stop_with_timeout
from tracefreeze.policy import DEMO_POLICY, load_directory, load_policy, resolve

WAIT_S = 40.0


def _line(event: EscalationEvent) -> str:
    late = (
        f", {(event.time - event.deadline).total_seconds():.2f}s after its deadline"
        if (event.deadline and event.kind is not EscalationKind.DEADLINE_APPROACHING)
        else ""
    )
    who = f" -> {event.addressee}" if event.addressee else ""
    what = event.step or event.stage or ""
    return f"  level {event.level}  {event.kind.value:<20} {what}{who}{late}"


async def escalate(settings: Settings, client, request: CourtRequest) -> list[EscalationEvent]:
    """Submit ``request`` under the demo policy and print its escalations until the system
    proposes a report to the Chamber (the first step that needs a person's decision)."""
    policy = resolve(load_policy(DEMO_POLICY), load_directory(), request)
    group = f"tracefreeze-demo-{request.reference}".replace("/", "-")
    consumer = make_consumer(settings, settings.topics.escalations, group_id=group)
    await start_with_timeout(consumer, settings.kafka_timeout_s)
    try:
        workflow_id = await client.submit(request, policy=policy)
        print(
            f"\ntransmitted {request.reference} to {request.requested_state} "
            f"({policy.party_kind.value.replace('_', ' ')}) under policy "
            f"{policy.version!r}; nobody answers it:"
        )
        seen: list[EscalationEvent] = []
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    event = EscalationEvent.model_validate_json(record.value)
                    if event.subject != request.reference:
                        continue
                    seen.append(event)
                    print(_line(event))
                    if event.kind is EscalationKind.STEP_PROPOSED:
                        print(
                            f"  the system proposes {event.step}; a person decides:\n"
                            f"    {event.decide}"
                        )
                        return seen
        raise TracefreezeError(
            f"no proposal for {workflow_id} within {WAIT_S:g}s: is the worker running?"
        )
    finally:
        await stop_with_timeout(consumer, settings.kafka_timeout_s)
