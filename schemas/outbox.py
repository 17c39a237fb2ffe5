"""Input of the activity that publishes a request's outbox in one round.

The request workflow queues lifecycle events and escalation events as they happen; each round
of its main loop hands what is queued to one activity, which sends them in order (all of one
request share a key, hence a partition) and returns once the broker acknowledged every one.
"""

from __future__ import annotations

from pydantic import Field

from schemas.common import Frozen
from schemas.court_record import SignedCourtAction
from schemas.escalations import EscalationEvent
from schemas.events import RequestEvent
from schemas.request import CourtRequest

PUBLISH_OUTBOX = "publish_outbox"
MAX_OUTBOX_ROUND = 100
"""Events per activity call, so one input stays far below Temporal's payload limit."""


class PublishOutbox(Frozen):
    """Request events for ``events_topic`` then escalation events for ``escalations_topic``,
    each list in the order the workflow made them, and the signed originals of the Court
    actions among the events (``schemas/court_record.py``)."""

    events_topic: str
    events: list[RequestEvent] = Field(default_factory=list, max_length=MAX_OUTBOX_ROUND)
    escalations_topic: str
    escalations: list[EscalationEvent] = Field(default_factory=list, max_length=MAX_OUTBOX_ROUND)
    signed: list[SignedCourtAction] = Field(default_factory=list, max_length=MAX_OUTBOX_ROUND)
    """The signed originals of the Court actions of ``events``: to the Court-internal topic the
    worker names (``Topics.court_actions``), read by the record store only."""
    request: CourtRequest | None = None
    """The request in force: the requested State's own channel carries it (and its decisions
    and reminders, ``activities/party.py``), and its confidentiality decides what the shared
    escalations topic may show."""
