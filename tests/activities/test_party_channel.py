"""The outbox round to the requested State's own channel, and ex parte escalations redacted on
the Court's shared topic: pure mapping first, then the activity against the real broker.

Rome Statute 87(3) (confidentiality of requests), Rule 99 (ex parte: no notice to the person
concerned), RS 96(2) (what the request contains).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.testing import ActivityEnvironment

from activities.party import party_messages, shared_escalation
from activities.publish import EventPublisher
from schemas.assets import AssetKind
from schemas.common import Confidentiality
from schemas.completeness import CompletenessOverride
from schemas.escalations import EscalationEvent, EscalationKind
from schemas.events import AssetEventData, RequestEvent, RequestEventType
from schemas.ledger import AssetStatus
from schemas.outbox import PublishOutbox
from schemas.party import PartyMessage, PartyMessageType
from schemas.request import CourtRequest
from tests.builders import court_request
from tests.events import request_event
from tests.stack import isolated
from tracefreeze.config import REPO_ROOT, Settings
from tracefreeze.kafka import make_producer, make_reader, start_with_timeout, stop_with_timeout
from tracefreeze.topics import ensure_topics, party_channels, wanted_topics

EXAMPLE = REPO_ROOT / "schemas" / "examples" / "court-request.json"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def request(state: str = "NLD", ex_parte: bool = False) -> CourtRequest:
    """The example request to ``state``, ex parte (RS 57(3)(e)) if asked."""
    secret = {"confidentiality": Confidentiality.EX_PARTE} if ex_parte else {}
    return court_request(tag="PARTY", requested_state=state, **secret)


event = request_event


def escalation(req: CourtRequest, kind: EscalationKind, step: str | None = None) -> EscalationEvent:
    return EscalationEvent(
        id=str(uuid.uuid4()),
        type=f"int.icc.tracefreeze.escalation.{kind.value}.v1",
        time=NOW,
        subject=req.reference,
        case_number=req.case_number,
        requested_state=req.requested_state,
        kind=kind,
        level=1,
        step=step,
        deadline=NOW + timedelta(days=5),
        addressee="Focal point for ICC cooperation, Ministry of Foreign Affairs",
        channel="diplomatic",
        asset_id=req.known_assets[0].asset_id if req.known_assets else None,
    )


def test_an_organisation_is_consulted_on_its_own_channel() -> None:
    """RS 87(6): the consultation with an international organisation on the cooperation agreed
    with it is addressed to the organisation, so it goes out on its channel; the report to the
    Chamber and an RS 87(5)(b) information stay inside the Court."""
    req = request("XIP")
    escalations = [
        escalation(req, EscalationKind.STEP_REACHED, "organisation_consultation"),
        escalation(req, EscalationKind.STEP_REACHED, "chamber_report"),
        escalation(req, EscalationKind.STEP_REACHED, "inform_assembly_or_council"),
    ]
    messages = party_messages(req, [], escalations)
    assert [m.reminder.step for m in messages if m.reminder] == ["organisation_consultation"]
    assert {m.requested_state for m in messages} == {"XIP"}


def test_the_request_goes_to_its_state_in_the_state_facing_contract() -> None:
    req = request()
    transmitted = event(req, RequestEventType.TRANSMITTED)
    (message,) = party_messages(req, [transmitted], [])
    assert message.type is PartyMessageType.REQUEST and message.requested_state == "NLD"
    assert message.request is not None
    assert message.request.grounds == req.grounds
    assert message.request.known_assets == req.known_assets
    assert "origin" not in message.model_dump()["request"]  # the Court's own, not the State's
    # RS 96(2), 87(2): the warrant behind RS 57(3)(e), the request's language.
    assert message.request.warrant == req.warrant is not None
    assert message.request.languages == req.languages == ("en",)
    # Deterministic: a retried round carries the same id, and it is not the Court's event id.
    (again,) = party_messages(req, [transmitted], [])
    assert again.id == message.id != transmitted.id


def test_a_supplementary_request_tells_the_state_which_request_it_supplements() -> None:
    """A further request to the same party names the first, and says how it meets the
    party's national-law requirements (RS 96(2)(e), 96(3)); an override of the completeness
    check stays inside the Court."""
    req = court_request(
        supplements="ICC-01/22-REQ-0007",
        national_law=[{"requirement_id": "court-seal", "how": "Sealed by the Registry"}],
    )
    override = CompletenessOverride(
        by="Deputy Registrar",
        reason="Internal: the Chamber completes the grounds",
        at=NOW,
        findings=[{"kind": "missing", "field": "grounds", "article": "RS 96(2)(a)", "what": "x"}],
    )
    transmitted = event(req, RequestEventType.TRANSMITTED, completeness_override=override)
    (message,) = party_messages(req, [transmitted], [])
    assert message.request is not None
    assert message.request.supplements == "ICC-01/22-REQ-0007"
    assert message.request.national_law == req.national_law
    body = message.model_dump_json()
    assert "completeness_override" not in body and "Deputy Registrar" not in body


def test_decisions_and_reminders_addressed_to_the_state_and_nothing_internal() -> None:
    req = request()
    cause = str(uuid.uuid4())
    released = AssetEventData(
        asset_id=req.known_assets[0].asset_id,
        kind=AssetKind.BANK_ACCOUNT,
        status=AssetStatus.RELEASED,
    )
    events = [
        event(req, RequestEventType.ANSWER_ACCEPTED, caused_by=str(uuid.uuid4())),
        event(req, RequestEventType.COURT_ACTION, caused_by=cause, action="release"),
        event(req, RequestEventType.ASSET_RELEASED, caused_by=cause, asset=released),
        event(req, RequestEventType.COURT_ACTION, caused_by=cause, action="escalation_decision"),
    ]
    escalations = [
        escalation(req, EscalationKind.STEP_REACHED, "reminder"),
        escalation(req, EscalationKind.STEP_REACHED, "chamber_report"),
        escalation(req, EscalationKind.STEP_PROPOSED, "non_compliance_finding"),
        escalation(req, EscalationKind.DEADLINE_APPROACHING),
    ]
    messages = party_messages(req, events, escalations)
    assert [m.type for m in messages] == [
        PartyMessageType.DECISION,
        PartyMessageType.REMINDER,
        PartyMessageType.REMINDER,
    ]
    decision = messages[0].decision
    assert decision is not None and decision.action == "release"
    assert [(a.asset_id, a.status) for a in decision.assets] == [
        (released.asset_id, AssetStatus.RELEASED)
    ]
    steps = [m.reminder.step or m.reminder.kind for m in messages[1:] if m.reminder]
    assert steps == ["reminder", "deadline_approaching"]


def test_ex_parte_escalations_are_redacted_on_the_shared_topic_only() -> None:
    secret, ordinary = request(ex_parte=True), request()
    for req in (secret, ordinary):
        step = escalation(req, EscalationKind.STEP_REACHED, "reminder")
        shared = shared_escalation(step, req.confidentiality)
        if req is secret:
            assert (shared.asset_id, shared.addressee, shared.channel) == (None, None, None)
            assert (shared.id, shared.step, shared.deadline) == (step.id, "reminder", step.deadline)
            # The State itself is told where and by whom it is reminded.
            (mine,) = party_messages(req, [], [step])
            assert mine.reminder is not None and mine.reminder.addressee == step.addressee
        else:
            assert shared == step
        # Unknown (the case's proposals, which name no request's confidentiality): redacted.
        assert shared_escalation(step, None).addressee is None


def test_the_requests_text_rides_only_with_a_message_that_carries_it() -> None:
    """RS 96(2), 93(3), 97: the State receives the request's text with its transmission and
    with a consultation response that may modify it; any other round (an answer's, a
    firing's) names only the request's confidentiality, and its decisions and reminders still
    reach the State. A round lacking a text it needs (the workflow never sends one) is marked,
    and sends the rest, never a transmission without the request."""
    req, PUBLIC = request(), Confidentiality.PUBLIC
    transmitted = event(req, RequestEventType.TRANSMITTED)
    modifying = event(req, RequestEventType.COURT_ACTION, action="consultation_response")
    for needs in (transmitted, modifying):
        lacking = PublishOutbox(
            events_topic="e", events=[needs], escalations_topic="x", confidentiality=PUBLIC
        )
        assert lacking.text_missing
        assert not lacking.model_copy(update={"request": req}).text_missing
    assert party_messages(None, [transmitted], [], PUBLIC) == []
    [decided] = party_messages(None, [modifying], [], PUBLIC)
    assert decided.decision is not None and decided.decision.request is None
    (full,) = party_messages(req, [modifying], [])
    assert full.decision is not None and full.decision.request is not None
    release = event(req, RequestEventType.COURT_ACTION, action="release")
    reminder = escalation(req, EscalationKind.STEP_REACHED, "reminder")
    slim = PublishOutbox(
        events_topic="e",
        events=[release],
        escalations_topic="x",
        escalations=[reminder],
        confidentiality=req.confidentiality,
    )
    assert slim.confidentiality_in_force is req.confidentiality
    messages = party_messages(None, slim.events, slim.escalations, slim.confidentiality)
    assert [m.type for m in messages] == [PartyMessageType.DECISION, PartyMessageType.REMINDER]
    assert messages[0].decision is not None and messages[0].decision.request is None
    # Neither the request nor its confidentiality (the case's proposals): nothing to a State.
    assert party_messages(None, slim.events, slim.escalations) == []


def test_every_party_of_the_directory_has_a_channel(stack_free_settings: Settings) -> None:
    channels = party_channels(stack_free_settings)
    assert channels == {
        code: f"tracefreeze.party.{code.lower()}.outbound"
        for code in ("BEL", "FRA", "NLD", "QMA", "QMB", "SDN", "UKR", "XIP")
    }  # an international organisation (XIP, RS 87(6)) has its channel like a State
    assert set(channels.values()) <= set(wanted_topics(stack_free_settings))


@pytest.fixture
def stack_free_settings() -> Settings:
    return Settings()


async def read_all(s: Settings, topic: str) -> list[tuple[bytes, dict[str, bytes]]]:
    from aiokafka import TopicPartition

    reader = make_reader(s, client_id="test-party-channel")
    await start_with_timeout(reader, s.kafka_timeout_s)
    try:
        cluster = await reader._client.fetch_all_metadata()
        tps = [TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or ())]
        assert tps, f"no topic {topic}"
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        ends = await reader.end_offsets(tps)
        out = []
        while [tp for tp in tps if await reader.position(tp) < ends[tp]]:
            for records in (await reader.getmany(*tps, timeout_ms=1000)).values():
                out += [(r.value, dict(r.headers)) for r in records]
        return out
    finally:
        await stop_with_timeout(reader, s.kafka_timeout_s)


@pytest.mark.stack
async def test_a_round_reaches_the_requested_states_channel_and_no_other(stack: Settings) -> None:
    s = isolated(stack, "party")
    await ensure_topics(s)
    req = request("BEL", ex_parte=True)
    transmitted = event(req, RequestEventType.TRANSMITTED)
    reminder = escalation(req, EscalationKind.STEP_REACHED, "reminder")
    round_ = PublishOutbox(
        events_topic=s.topics.request_events,
        events=[transmitted],
        escalations_topic=s.topics.escalations,
        escalations=[reminder],
        request=req,
    )
    producer = make_producer(s, client_id="test-party-channel")
    await start_with_timeout(producer, s.kafka_timeout_s)
    try:
        publisher = EventPublisher(producer, s.kafka_timeout_s, channels=party_channels(s))
        await ActivityEnvironment().run(publisher.publish_outbox, round_)
        await ActivityEnvironment().run(publisher.publish_outbox, round_)  # a retried round
        # A State outside the directory has no channel: its round still reaches the Court.
        stranger = request("DEU")
        await ActivityEnvironment().run(
            publisher.publish_outbox,
            round_.model_copy(
                update={
                    "events": [event(stranger, RequestEventType.TRANSMITTED)],
                    "escalations": [],
                    "request": stranger,
                }
            ),
        )
    finally:
        await stop_with_timeout(producer, s.kafka_timeout_s)

    bel = await read_all(s, s.topics.party_channel("BEL"))
    messages = [PartyMessage.model_validate_json(value) for value, _ in bel]
    assert [m.type for m in messages] == [PartyMessageType.REQUEST, PartyMessageType.REMINDER] * 2
    assert messages[:2] == messages[2:]  # the retry repeats the same ids: deduplicable
    assert messages[0].request is not None and messages[0].request.reference == req.reference
    headers = bel[0][1]
    assert headers["ce_id"] == messages[0].id.encode()
    assert headers["ce_type"] == PartyMessageType.REQUEST.value.encode()
    assert headers["ce_subject"] == req.reference.encode()
    for other in ("NLD", "FRA"):
        assert await read_all(s, s.topics.party_channel(other)) == []

    shared = [
        EscalationEvent.model_validate_json(v) for v, _ in await read_all(s, s.topics.escalations)
    ]
    assert shared and all(
        (e.asset_id, e.addressee, e.channel) == (None, None, None) for e in shared
    )
    events = [
        RequestEvent.model_validate_json(v) for v, _ in await read_all(s, s.topics.request_events)
    ]
    assert {e.requested_state for e in events} == {"BEL", "DEU"}
