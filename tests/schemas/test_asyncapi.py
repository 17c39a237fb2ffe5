"""schemas/asyncapi.yaml: valid AsyncAPI 3.0.0, and true to the code it describes."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from aiokafka.structs import ConsumerRecord
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema_specifications import REGISTRY as SPECIFICATIONS
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012

from activities.party import party_messages
from activities.publish import cloudevent_headers
from schemas.answers import STATE_ANSWER, StateAnswer
from schemas.court import CloseRequest
from schemas.court_record import SignedCourtAction
from schemas.deadletter import DeadLetterReason
from schemas.escalations import EscalationEvent, EscalationKind
from schemas.events import RequestEvent, RequestEventType
from schemas.export import JSON_DIR, render_all
from schemas.party import PartyMessageType
from schemas.request import CourtRequest
from tests.environment import without_stack_environment
from tests.schemas.asyncapi_specs import official_schema
from tracefreeze.config import Settings
from tracefreeze.intake.deadletter import HEADER_VALUE_OMITTED, dead_letter_headers
from tracefreeze.intake.envelope import answer_headers, answer_type
from tracefreeze.intake.replay_auth import replay_headers
from tracefreeze.security.signing import sign
from tracefreeze.topics import PARTY_CHANNEL_PARTITIONS

SCHEMAS = JSON_DIR.parent
DOCUMENT = SCHEMAS / "asyncapi.yaml"
EXAMPLES = SCHEMAS / "examples"
DOC_URI = "urn:int.icc.tracefreeze:asyncapi"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def official() -> dict[str, Any]:
    return official_schema()


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The code's defaults, not a test stack's environment."""
    without_stack_environment(monkeypatch)
    return Settings()


def test_document_is_valid_against_the_official_asyncapi_3_schema(
    doc: dict[str, Any], official: dict[str, Any]
) -> None:
    assert official["$schema"].startswith("http://json-schema.org/draft-07/schema")
    resource = Resource.from_contents(official, default_specification=DRAFT7)
    registry = (resource @ SPECIFICATIONS).crawl()
    validator = jsonschema.Draft7Validator(
        official, registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors)
    assert doc["asyncapi"] == "3.0.0"


def test_the_official_schema_rejects_a_broken_document(
    doc: dict[str, Any], official: dict[str, Any]
) -> None:
    """The validation has teeth: an operation without its action, a bad binding."""
    registry = (
        Resource.from_contents(official, default_specification=DRAFT7) @ SPECIFICATIONS
    ).crawl()
    validator = jsonschema.Draft7Validator(official, registry=registry)
    broken = json.loads(json.dumps(doc))
    del broken["operations"]["receiveStateAnswer"]["action"]
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(doc))
    broken["channels"]["deadLetter"]["bindings"]["kafka"]["partitions"] = "three"
    assert not validator.is_valid(broken)


# --- true to the code ---------------------------------------------------------------------


def deref(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``#/...`` reference of the document (once)."""
    return resolve(doc, node["$ref"]) if "$ref" in node else node


def resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def messages(doc: dict[str, Any], channel: str) -> dict[str, dict[str, Any]]:
    refs = doc["channels"][channel]["messages"]
    return {name: resolve(doc, m["$ref"]) for name, m in refs.items()}


def answer_types() -> set[str]:
    union = typing.get_args(typing.get_args(StateAnswer)[0])
    return {model.model_fields["answer_type"].default for model in union}


def test_every_answer_type_has_its_message(doc: dict[str, Any]) -> None:
    answers = messages(doc, "stateAnswers")
    assert set(answers) == answer_types()
    for name, message in answers.items():
        assert message["name"] == name
        assert message["headers"]["properties"]["ce_type"]["const"] == answer_type(name)
        assert message["traits"] == [{"$ref": "#/components/messageTraits/stateAnswer"}]


def test_every_dead_letter_reason_is_in_the_reason_code_enum(doc: dict[str, Any]) -> None:
    [record] = messages(doc, "deadLetter").values()
    codes = record["headers"]["properties"]["tf_reason_code"]["enum"]
    assert sorted(codes) == sorted(r.value for r in DeadLetterReason)


def test_event_types_are_the_codes(doc: dict[str, Any]) -> None:
    [event] = messages(doc, "requestEvents").values()
    [escalation] = messages(doc, "escalations").values()
    event_types = event["headers"]["allOf"][1]["properties"]["ce_type"]["enum"]
    assert sorted(event_types) == sorted(t.value for t in RequestEventType)
    kinds = escalation["headers"]["allOf"][1]["properties"]["ce_type"]["enum"]
    assert sorted(kinds) == sorted(f"int.icc.tracefreeze.escalation.{k}.v1" for k in EscalationKind)


def test_topics_and_partitions_are_the_settings(doc: dict[str, Any], settings: Settings) -> None:
    channels = dict(doc["channels"])
    party = channels.pop("partyOutbound")  # one topic per party: its address is a template
    assert party["address"].replace("{iso3}", "nld") == settings.topics.party_channel("NLD")
    assert party["bindings"]["kafka"]["partitions"] == PARTY_CHANNEL_PARTITIONS
    wanted = settings.topics.partitions()
    assert {c["address"] for c in channels.values()} == set(wanted)
    for channel in channels.values():
        kafka = channel["bindings"]["kafka"]
        assert kafka["topic"] == channel["address"]
        assert kafka["partitions"] == wanted[channel["address"]]
    assert channels["stateAnswers"]["address"] == settings.topics.state_answers
    assert channels["deadLetter"]["address"] == settings.topics.dead_letter
    group = doc["operations"]["receiveStateAnswer"]["bindings"]["kafka"]["groupId"]["enum"]
    assert group == [settings.bridge_group_id]
    actions = {(o["channel"]["$ref"], o["action"]) for o in doc["operations"].values()}
    recorded = {"stateAnswers", "requestEvents", "escalations", "partyOutbound", "courtActions"}
    assert actions == {
        ("#/channels/stateAnswers", "receive"),
        ("#/channels/deadLetter", "send"),
        ("#/channels/requestEvents", "send"),
        ("#/channels/escalations", "send"),
        ("#/channels/partyOutbound", "send"),
        ("#/channels/courtActions", "send"),
    } | {(f"#/channels/{c}", "receive") for c in recorded}
    for operation in doc["operations"].values():  # the recorder reads in its own group
        if (
            operation["action"] == "receive"
            and operation is not doc["operations"]["receiveStateAnswer"]
        ):
            recorder = operation["bindings"]["kafka"]["groupId"]["enum"]
            assert recorder == [settings.recorder_group_id]


# --- payloads: the committed JSON Schemas ------------------------------------------------


def payload_ref(message: dict[str, Any]) -> tuple[str, str]:
    payload = message["payload"]
    assert payload["schemaFormat"] == "application/schema+json;version=draft-2020-12"
    path, _, pointer = payload["schema"]["$ref"].partition("#")
    assert path.startswith("./json/"), path
    return path.removeprefix("./json/"), pointer


def payload_validator(message: dict[str, Any]) -> jsonschema.Draft202012Validator:
    filename, pointer = payload_ref(message)
    schema = json.loads((JSON_DIR / filename).read_text(encoding="utf-8"))
    registry: Registry[Any] = Registry().with_resource(
        schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012)
    )
    return jsonschema.Draft202012Validator(
        {"$ref": schema["$id"] + "#" + pointer}, registry=registry
    )


def test_payloads_are_the_committed_json_schemas(doc: dict[str, Any]) -> None:
    models = render_all()
    answers = json.loads(models["state-answer.schema.json"])
    for name, message in messages(doc, "stateAnswers").items():
        filename, pointer = payload_ref(message)
        assert filename == "state-answer.schema.json"
        definition = answers["$defs"][pointer.removeprefix("/$defs/")]
        assert definition["properties"]["answer_type"]["const"] == name
        assert answers["discriminator"]["mapping"][name] == "#" + pointer
    assert payload_ref(messages(doc, "requestEvents")["requestEvent"]) == (
        "request-event.schema.json",
        "",
    )
    assert payload_ref(messages(doc, "escalations")["escalationEvent"]) == (
        "escalation-event.schema.json",
        "",
    )
    for filename in ("state-answer.schema.json", "request-event.schema.json"):
        committed = (JSON_DIR / filename).read_text(encoding="utf-8")
        assert committed == models[filename], f"{filename} drifted from the models"
    assert (JSON_DIR / "escalation-event.schema.json").read_text(encoding="utf-8") == models[
        "escalation-event.schema.json"
    ]


@pytest.mark.parametrize(
    ("example", "message"),
    [
        ("acknowledgement.json", "acknowledgement"),
        ("no-assets.json", "no_assets"),
        ("execution-report.json", "execution_report"),
        ("execution-report-final.json", "execution_report"),
    ],
)
def test_examples_validate_against_their_message_payload(
    doc: dict[str, Any], example: str, message: str
) -> None:
    instance = json.loads((EXAMPLES / example).read_text(encoding="utf-8"))
    answers = messages(doc, "stateAnswers")
    payload_validator(answers[message]).validate(instance)
    others = [m for name, m in answers.items() if name != message]
    assert not any(payload_validator(m).is_valid(instance) for m in others)


# --- headers: what the producers really set -----------------------------------------------


def headers_validator(doc: dict[str, Any], *schemas: dict[str, Any]) -> jsonschema.Validator:
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource.from_contents(doc, default_specification=DRAFT7)
    )
    rebased = json.loads(
        json.dumps(list(schemas)).replace('"#/components', f'"{DOC_URI}#/components')
    )
    return jsonschema.Draft7Validator(
        {"allOf": rebased},
        registry=registry,
        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER,
    )


def as_text(headers: list[tuple[str, bytes]]) -> dict[str, str]:
    names = [name for name, _ in headers]
    assert len(names) == len(set(names)), names
    return {name: value.decode() for name, value in headers}


TRACE = {"ce_traceparent", "ce_tracestate"}
"""Optional trace-context headers (tracefreeze/ops/tracing.py): declared, set only within a span."""
REPLAY = {"tf_replayed_from", "tf_replayed_by", "tf_replay_received_ms", "tf_replay_mac"}
"""Headers the Court's ``dlq replay`` adds to an answer it writes back (replay_auth.py)."""


def declared(doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    if "allOf" in schema:
        return set().union(*(declared(doc, s) for s in schema["allOf"]))
    return set(deref(doc, schema).get("properties", {}))


def example_answers() -> list[Any]:
    out = [
        STATE_ANSWER.validate_json((EXAMPLES / name).read_bytes())
        for name in ("acknowledgement.json", "no-assets.json", "execution-report.json")
    ]
    return out


def test_answer_headers_as_produced_match_their_message(doc: dict[str, Any]) -> None:
    trait = doc["components"]["messageTraits"]["stateAnswer"]
    answers = messages(doc, "stateAnswers")
    private = Ed25519PrivateKey.generate()
    for answer in example_answers():
        _, signature = sign(answer, private, "nld-2026-1")
        headers = as_text(answer_headers(answer) + signature)
        message = answers[answer.answer_type]
        validator = headers_validator(doc, trait["headers"], message["headers"])
        validator.validate(headers)
        validator.validate({**headers, "ce_traceparent": f"00-{'a' * 32}-{'b' * 16}-01"})
        assert set(headers) | TRACE | REPLAY == declared(doc, trait["headers"])
        replayed = as_text(
            answer_headers(answer)
            + signature
            + replay_headers(
                b"k" * 32,
                "tracefreeze.dead-letter/0/5",
                1_764_460_800_000,
                "registry-officer",
                answer.request_reference.encode(),
                b"{}",
            )
        )
        validator.validate(replayed)
        assert set(replayed) | TRACE == declared(doc, trait["headers"])
        other = next(m for name, m in answers.items() if name != answer.answer_type)
        assert not headers_validator(doc, trait["headers"], other["headers"]).is_valid(headers)


def test_party_message_headers_and_payload_match_their_message(doc: dict[str, Any]) -> None:
    request = CourtRequest.model_validate_json((EXAMPLES / "court-request.json").read_bytes())
    event = RequestEvent.model_validate_json((EXAMPLES / "request-event.json").read_bytes())
    transmitted = event.model_copy(
        update={"type": RequestEventType.TRANSMITTED, "subject": request.reference}
    )
    (party,) = party_messages(request, [transmitted], [])
    [message] = messages(doc, "partyOutbound").values()
    headers = as_text(cloudevent_headers(party))
    headers_validator(doc, message["headers"]).validate(headers)
    types = message["headers"]["allOf"][1]["properties"]["ce_type"]["enum"]
    assert sorted(types) == sorted(t.value for t in PartyMessageType)
    assert payload_ref(message) == ("party-message.schema.json", "")
    payload_validator(message).validate(party.model_dump(mode="json"))


def test_signed_court_action_headers_and_payload_match(doc: dict[str, Any]) -> None:
    """The Court-internal original of a Court action (schemas/court_record.py)."""
    close = CloseRequest.model_validate_json((EXAMPLES / "close-request.json").read_bytes())
    original = SignedCourtAction(
        id="0c8e4f6a-2b1d-4e7f-9a3c-5d6e7f8a9b02",
        time=datetime(2026, 3, 1, tzinfo=UTC),
        subject="ICC-01/22-REQ-0007",
        requested_state="NLD",
        action=close,
    )
    [message] = messages(doc, "courtActions").values()
    headers = as_text(cloudevent_headers(original))
    headers_validator(doc, message["headers"]).validate(headers)
    assert set(headers) | TRACE == declared(doc, message["headers"])
    assert payload_ref(message) == ("signed-court-action.schema.json", "")
    payload_validator(message).validate(original.model_dump(mode="json"))


def test_event_headers_as_produced_match_their_message(doc: dict[str, Any]) -> None:
    event = RequestEvent.model_validate_json((EXAMPLES / "request-event.json").read_bytes())
    [message] = messages(doc, "requestEvents").values()
    headers = as_text(cloudevent_headers(event))
    headers_validator(doc, message["headers"]).validate(headers)
    assert set(headers) | TRACE == declared(doc, message["headers"])

    escalation = EscalationEvent(
        id="0c8e4f6a-2b1d-4e7f-9a3c-5d6e7f8a9b01",
        type="int.icc.tracefreeze.escalation.step_reached.v1",
        time=datetime(2026, 3, 1, tzinfo=UTC),
        subject=event.subject,
        case_number=event.case_number,
        requested_state=event.requested_state,
        kind=EscalationKind.STEP_REACHED,
        level=2,
    )
    [message] = messages(doc, "escalations").values()
    headers = as_text(cloudevent_headers(escalation))
    headers_validator(doc, message["headers"]).validate(headers)
    assert not headers_validator(doc, message["headers"]).is_valid(
        {**headers, "ce_type": "int.icc.tracefreeze.escalation.step_reached.v2"}
    )


def test_dead_letter_headers_as_produced_match_their_message(doc: dict[str, Any]) -> None:
    [message] = messages(doc, "deadLetter").values()
    answer = example_answers()[0]
    _, signature = sign(answer, Ed25519PrivateKey.generate(), "nld-2026-1")
    original = answer_headers(answer) + signature
    record = ConsumerRecord(
        topic="tracefreeze.state-answers", partition=4, offset=1234, timestamp=1_764_460_800_000,
        timestamp_type=0, key=answer.request_reference.encode(), value=b"{}", checksum=None,
        serialized_key_size=1, serialized_value_size=2, headers=original,
    )  # fmt: skip
    for reason in DeadLetterReason:
        headers = dead_letter_headers(record, reason, f"answer {answer.event_id}: why")
        text = as_text([(HEADER_VALUE_OMITTED, b"300000"), *headers])
        headers_validator(doc, message["headers"]).validate(text)
        assert set(text) | TRACE == declared(doc, message["headers"])
    assert not headers_validator(doc, message["headers"]).is_valid({**text, "tf_reason_code": "x"})


def test_document_names_no_unknown_file() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")
    for line in text.splitlines():
        if "./json/" in line:
            filename = line.split("./json/", 1)[1].split("#", 1)[0].rstrip('"')
            assert (JSON_DIR / filename).is_file(), filename
    assert Path(JSON_DIR).is_dir()
