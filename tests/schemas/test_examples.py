"""The example documents validate against the models and against the published JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, TypeAdapter

from schemas.answers import STATE_ANSWER, Acknowledgement, ExecutionReport, NoAssetsReport
from schemas.assets import AssetKind
from schemas.case import CaseOrder
from schemas.court import COURT_ACTION, CloseRequest
from schemas.events import RequestEvent
from schemas.request import CourtRequest

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
EXAMPLES = SCHEMAS / "examples"

# example file -> (how the model reads it, published schema file)
CASES: dict[str, tuple[type[BaseModel] | TypeAdapter[Any], str]] = {
    "court-request.json": (CourtRequest, "court-request.schema.json"),
    "enforcement-request.json": (CourtRequest, "court-request.schema.json"),
    "enforcement-report.json": (STATE_ANSWER, "state-answer.schema.json"),
    "case-order.json": (CaseOrder, "case-order.schema.json"),
    "acknowledgement.json": (STATE_ANSWER, "state-answer.schema.json"),
    "execution-report.json": (STATE_ANSWER, "state-answer.schema.json"),
    "execution-report-final.json": (STATE_ANSWER, "state-answer.schema.json"),
    "no-assets.json": (STATE_ANSWER, "state-answer.schema.json"),
    "close-request.json": (CloseRequest, "close-request.schema.json"),
    "court-action.json": (COURT_ACTION, "court-action.schema.json"),
    "request-event.json": (RequestEvent, "request-event.schema.json"),
}


def load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def parse(target: type[BaseModel] | TypeAdapter[Any], text: str) -> Any:
    if isinstance(target, TypeAdapter):
        return target.validate_json(text)
    return target.model_validate_json(text)


def test_every_example_is_covered() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_validates_against_model(name: str) -> None:
    target, _ = CASES[name]
    parse(target, (EXAMPLES / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_validates_against_json_schema(name: str) -> None:
    _, schema_file = CASES[name]
    schema = json.loads((SCHEMAS / "json" / schema_file).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(load(name)), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.mark.parametrize("name", ["request-event.json"])
def test_outbound_example_round_trips(name: str) -> None:
    """What the service emits for the example is the example (serialization-mode schema)."""
    event = RequestEvent.model_validate(load(name))
    assert json.loads(event.model_dump_json()) == load(name)


def test_answers_match_the_request() -> None:
    request = CourtRequest.model_validate(load("court-request.json"))
    answers = [
        STATE_ANSWER.validate_python(load(n))
        for n in ("acknowledgement.json", "execution-report.json", "execution-report-final.json")
    ]
    assert [type(a) for a in answers] == [Acknowledgement, ExecutionReport, ExecutionReport]
    for answer in answers:
        assert answer.request_reference == request.reference
        assert answer.state == request.requested_state
    other = STATE_ANSWER.validate_python(load("no-assets.json"))
    assert isinstance(other, NoAssetsReport)
    assert (other.request_reference, other.state) == ("ICC-01/22-REQ-0008", "BEL")

    event_ids = [a.event_id for a in [*answers, other]]
    event_ids += [load("close-request.json")["event_id"], load("request-event.json")["id"]]
    assert len(set(event_ids)) == len(event_ids)


def test_execution_reports_tell_the_story() -> None:
    request = CourtRequest.model_validate(load("court-request.json"))
    known = {a.asset_id for a in request.known_assets}
    report = STATE_ANSWER.validate_python(load("execution-report.json"))
    assert isinstance(report, ExecutionReport) and not report.final
    frozen = [r for r in report.results if "freeze" in r.measures_executed]
    assert len(frozen) == 2 and {r.asset_id for r in frozen} <= known
    assert all(r.value is not None and r.value.currency == "EUR" for r in frozen)
    new = [r for r in report.results if r.asset_id not in known]
    assert len(new) == 1 and new[0].asset is not None
    assert new[0].asset.kind is AssetKind.VESSEL

    final = STATE_ANSWER.validate_python(load("execution-report-final.json"))
    assert isinstance(final, ExecutionReport) and final.final
    request = CourtRequest.model_validate(load("court-request.json"))
    for result in final.results:
        assert set(result.measures_executed) <= set(request.measures), "only requested measures"


def test_every_asset_kind_maps_to_a_followthemoney_schema() -> None:
    for kind in AssetKind:
        assert kind.ftm_schema and kind.ftm_schema[0].isupper(), kind
