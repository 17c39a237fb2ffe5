"""Input of the activity that publishes a request's outbox in one round.

The request workflow queues lifecycle events and escalation events as they happen; each round
of its main loop hands what is queued to one activity, which sends them in order (all of one
request share a key, hence a partition) and returns once the broker acknowledged every one.
"""

from __future__ import annotations

from pydantic import Field

from schemas.common import MAX_ASSETS, Confidentiality, Frozen
from schemas.court_record import SignedCourtAction
from schemas.escalations import EscalationEvent
from schemas.events import RequestEvent, RequestEventType
from schemas.organ_keys import OrganKeys
from schemas.request import CourtRequest

PUBLISH_OUTBOX = "publish_outbox"
MAX_OUTBOX_ROUND = 100
"""Events per activity call, so one input stays far below Temporal's payload limit."""
MAX_GROUP = 2 * MAX_ASSETS + 1
"""The events one answer or action causes, at most: its own, and per asset a contest and a
move. A round never splits them (the State's message of a decision names its assets)."""
MODIFYING = "consultation_response"
"""The Court action that may carry a new version of the request (RS 93(3), 97)."""


def carries_request(event: RequestEvent) -> bool:
    """The event's message to the requested State carries the request's text: its
    transmission (RS 96(2)), or a consultation response that may modify it (RS 93(3), 97).
    Part of what a recorded history means (which rounds hold the text): from 1.0 on, a change
    here goes behind ``workflow.patched`` (docs/versioning.md)."""
    if event.type is RequestEventType.TRANSMITTED:
        return True
    return event.type is RequestEventType.COURT_ACTION and event.action == MODIFYING


def carries_text(original: SignedCourtAction) -> bool:
    """A signed original holding a version of the request (a consultation response that
    modifies it): as large as the request itself."""
    return getattr(original.action, "modified_request", None) is not None


class PublishOutbox(Frozen):
    """Request events for ``events_topic`` then escalation events for ``escalations_topic``,
    each list in the order the workflow made them, and the signed originals of the Court
    actions among the events (``schemas/court_record.py``)."""

    events_topic: str
    events: list[RequestEvent] = Field(default_factory=list, max_length=MAX_GROUP)
    escalations_topic: str
    escalations: list[EscalationEvent] = Field(default_factory=list, max_length=MAX_OUTBOX_ROUND)
    signed: list[SignedCourtAction] = Field(default_factory=list, max_length=MAX_OUTBOX_ROUND)
    """The signed originals of the Court actions of ``events``: to the Court-internal topic the
    worker names (``Topics.court_actions``), read by the record store only."""
    confidentiality: Confidentiality | None = None
    """The request's confidentiality: it decides what the shared escalations topic may show,
    and whether the requested State's own channel is written at all (``activities/party.py``).
    None (the case's proposals) is the strictest reading, and nothing goes to a State."""
    request: CourtRequest | None = None
    """The request in force, only in a round with an event whose message to the State carries
    its text (``carries_request``): the request is the largest thing a request workflow holds,
    and a round's input is written to its history."""
    read_organ_keys: bool = False
    """Also read the worker's organ key registry and return it (``PublishedRound``): a
    request's first run asks this of its transmission's round, so that a start costs the
    server one activity, not two (``workflows/request_keys.py``)."""

    @property
    def text_missing(self) -> bool:
        """A round for the State's channel whose message needs the request's text and came
        without it (the workflow never sends one: ``workflows/request_outbox.py``)."""
        if self.request is not None or self.confidentiality is None:
            return False
        return any(carries_request(e) for e in self.events)

    @property
    def confidentiality_in_force(self) -> Confidentiality | None:
        return self.request.confidentiality if self.request else self.confidentiality


class PublishedRound(Frozen):
    """What a round returns: the organ key registry as the worker's file held it, when the
    round was asked to read it (``read_organ_keys``); recorded in the request's history with
    the round's completion, as the registry read alone is (``schemas/organ_keys.py``)."""

    organ_keys: OrganKeys | None = None
