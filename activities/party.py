"""What of a publishing round goes to the requested State's own channel, and what the Court's
shared topics may carry of an ex parte request.

Pure functions of the round (no I/O), so the worker publishing the outbox and the tests agree:

- ``party_messages``: the request itself when it is transmitted, the Court's decisions on it,
  and the reminders and follow-ups addressed to the State (``schemas/party.py``); ids derived
  from the causing event's id (UUIDv5), so a retried round repeats them;
- ``shared_escalation``: an escalation as the Court's own consumers see it on the shared
  escalations topic; for an ex parte request (Rule 99) without the asset, the office
  addressed or the channel (a State's office names the State).
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.common import Confidentiality
from schemas.escalations import EscalationEvent, EscalationKind
from schemas.events import RequestEvent, RequestEventType
from schemas.outbox import MODIFYING
from schemas.party import (
    AssetDecision,
    PartyMessage,
    PartyMessageType,
    StateDecision,
    StateReminder,
    StateRequest,
    party_message_id,
)
from schemas.request import CourtRequest
from workflows.ladder import PARTY_STEPS

STATE_STEPS = PARTY_STEPS
"""Ladder steps addressed to the party itself (seed para 9; note verbale, RS 87(1)(a); an
organisation's consultation, RS 87(6)); the later steps are the Chamber's and the Assembly's
(RS 87(5)(b), 87(7)) and reach the party through them (``workflows/ladder.py``)."""
STATE_KINDS = frozenset(
    {
        EscalationKind.DEADLINE_APPROACHING,
        EscalationKind.DEADLINE_EXTENDED,
        EscalationKind.FREEZE_LIMIT_DATE_PASSED,
        EscalationKind.FREEZE_LIFTED,
        EscalationKind.NATIONAL_ORDER_LAPSING,
        EscalationKind.POSTPONEMENT_PERIOD_ENDED,
    }
)
"""Clocks the State runs or must act on: its deadlines, the date it proposed for limiting a
freeze passing with the freeze still in force (RS 97: no lapse on the Court's silence), the
Chamber's lift taking effect, its national order lapsing, the end of an RS 94 postponement
period (execution resumes). A step proposed to or declined by a
person of the Court, a de-escalation, the Court's reminders and reviews of a freeze-limit
consultation, a Rule 180 notice the State itself sent and the Court's own urgent confirmation
stay inside the Court."""
DECISIONS = frozenset({RequestEventType.COURT_ACTION, RequestEventType.CLOSED})
INTERNAL_ACTIONS = frozenset({"escalation_decision"})
"""Court actions that are the Court's own deliberation, not a decision addressed to the State:
whether to take a Chamber or Assembly step (RS 87(7)) reaches the State through that organ."""


def state_request(request: CourtRequest) -> StateRequest:
    """The request as the State executes it: the RS 96(2) content, not the Court's origin."""
    return StateRequest.model_validate(
        request.model_dump(include=set(StateRequest.model_fields)), from_attributes=False
    )


def is_for_state(escalation: EscalationEvent) -> bool:
    if escalation.kind is EscalationKind.STEP_REACHED:
        return escalation.step in STATE_STEPS
    return escalation.kind in STATE_KINDS


def party_messages(
    request: CourtRequest | None,
    events: Iterable[RequestEvent],
    escalations: Iterable[EscalationEvent],
    confidentiality: Confidentiality | None = None,
) -> list[PartyMessage]:
    """The messages for the requested State of one round, in the round's order (events first,
    as on the shared topics). ``request`` is needed only by an event whose message carries its
    text (``carries_request``); a round that lacks it (``PublishOutbox.text_missing``, which
    the publisher logs) still sends the rest, a decision without the new version, never a
    transmission without the request. Without the request and its confidentiality (the
    case's proposals) nothing is sent."""
    if request is None and confidentiality is None:
        return []
    text = None if request is None else state_request(request)
    events = list(events)
    messages: list[PartyMessage] = []
    for event in events:
        common = {
            "time": event.time,
            "subject": event.subject,
            "requested_state": event.requested_state,
        }
        if event.type is RequestEventType.TRANSMITTED:
            if text is None:
                continue
            messages.append(
                PartyMessage(
                    id=party_message_id(event.id),
                    type=PartyMessageType.REQUEST,
                    request=text,
                    **common,
                )
            )
        elif event.type in DECISIONS and event.action not in INTERNAL_ACTIONS:
            assets = tuple(
                AssetDecision(
                    asset_id=e.asset.asset_id, status=e.asset.status, held_up_to=e.asset.held_up_to
                )
                for e in events
                if e.caused_by == event.caused_by and e.asset is not None and e is not event
            )
            decision = StateDecision(
                action=event.action or "close",
                status=event.status,
                assets=assets,
                request=text if event.action == MODIFYING else None,
            )
            messages.append(
                PartyMessage(
                    id=party_message_id(event.id),
                    type=PartyMessageType.DECISION,
                    decision=decision,
                    **common,
                )
            )
    for escalation in escalations:
        if not is_for_state(escalation):
            continue
        reminder = StateReminder(
            kind=escalation.kind.value,
            step=escalation.step,
            stage=escalation.stage,
            deadline=escalation.deadline,
            next_deadline=escalation.next_deadline,
            addressee=escalation.addressee,
            channel=escalation.channel,
            asset_id=escalation.asset_id,
        )
        messages.append(
            PartyMessage(
                id=party_message_id(escalation.id),
                type=PartyMessageType.REMINDER,
                time=escalation.time,
                subject=escalation.subject,
                requested_state=escalation.requested_state,
                reminder=reminder,
            )
        )
    return messages


def shared_escalation(
    escalation: EscalationEvent, confidentiality: Confidentiality | None
) -> EscalationEvent:
    """The escalation as published on the Court's shared topic: for an ex parte request
    (Rule 99) no asset, no office addressed and no channel; the rest (request, step, level,
    dates) is what the Registry and the Chamber monitor. Confidentiality unknown (the case's
    proposals) is redacted too: the strictest reading."""
    if confidentiality is not None and confidentiality is not Confidentiality.EX_PARTE:
        return escalation
    return escalation.model_copy(update={"asset_id": None, "addressee": None, "channel": None})
