"""Every malformed field is refused with an error that names the field and says why.

Each case corrupts one field of a valid example and asserts the pydantic error's ``loc`` and a
message fragment, so the test fails if the validation disappears. Where the published JSON
Schema can express the rule, it must refuse the document too.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.answers import STATE_ANSWER
from schemas.request import CourtRequest

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
DELETE = object()

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Case:
    """One corruption of a valid example document."""

    id: str
    example: str
    changes: tuple[tuple[Path_, Any], ...]
    loc: Path_
    message: str
    schema_rejects: bool

    @property
    def target(self) -> type[BaseModel] | TypeAdapter[Any]:
        return CourtRequest if self.example == "court-request.json" else STATE_ANSWER

    @property
    def schema_file(self) -> str:
        if self.example == "court-request.json":
            return "court-request.schema.json"
        return "state-answer.schema.json"

    def document(self) -> Any:
        doc = json.loads((SCHEMAS / "examples" / self.example).read_text(encoding="utf-8"))
        doc = copy.deepcopy(doc)
        for path, value in self.changes:
            parent = doc
            for key in path[:-1]:
                parent = parent[key]
            if value is DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        return doc


REQ = "court-request.json"
REPORT = "execution-report.json"
ACK = "acknowledgement.json"
VALUE = ("known_assets", 0, "estimated_value")
CURRENCY = (*VALUE, "currency")
AMOUNT = (*VALUE, "amount")

CASES = [
    Case(
        "bad currency code",
        REQ,
        ((CURRENCY, "eur"),),
        CURRENCY,
        "String should match pattern '^[A-Z]{3}$'",
        True,
    ),
    Case(
        "negative amount",
        REQ,
        ((AMOUNT, "-1.00"),),
        AMOUNT,
        "no sign",
        True,
    ),
    Case(
        "negative amount as number",
        REQ,
        ((AMOUNT, -1),),
        AMOUNT,
        "not int",
        True,
    ),
    Case(
        "amount with four decimals",
        REQ,
        ((AMOUNT, "412500.1250"),),
        AMOUNT,
        "3 after the point",
        True,
    ),
    Case(
        "amount not a number",
        REQ,
        ((AMOUNT, "a lot"),),
        AMOUNT,
        "plain decimal string",
        True,
    ),
    Case(
        "unknown measure",
        REQ,
        ((("measures",), ["identify", "confiscate"]),),
        ("measures", 1),
        "'identify', 'trace', 'freeze' or 'seize'",
        True,
    ),
    Case("empty measures", REQ, ((("measures",), []),), ("measures",), "at least 1 item", True),
    Case(
        "duplicate measure",
        REQ,
        ((("measures",), ["freeze", "identify", "freeze"]),),
        (),
        "each measure may be requested once",
        False,
    ),
    Case(
        "bad state code",
        REQ,
        ((("requested_state",), "NL"),),
        ("requested_state",),
        "String should match pattern '^[A-Z]{3}$'",
        True,
    ),
    Case(
        "lower-case state code",
        REQ,
        ((("requested_state",), "nld"),),
        ("requested_state",),
        "should match pattern",
        True,
    ),
    Case(
        "naive datetime",
        REQ,
        ((("issued_at",), "2026-02-10T09:30:00"),),
        ("issued_at",),
        "Input should have timezone info",
        False,
    ),
    Case(
        "unknown extra field",
        REQ,
        ((("priority",), "high"),),
        ("priority",),
        "Extra inputs are not permitted",
        True,
    ),
    Case(
        "owner is not a party",
        REQ,
        ((("known_assets", 1, "owner_party_ids"), ["p-ghost"]),),
        (),
        "owner_party_ids ['p-ghost'] are not among the parties",
        False,
    ),
    Case(
        "prosecutor on RS 57(3)(e)",
        REQ,
        ((("issuing_organ",), "prosecutor"),),
        (),
        "Prosecutor's own requests rest on RS 93(1)(k)",
        False,
    ),
    Case(
        "unknown legal basis",
        REQ,
        ((("legal_basis",), "RS 93(1)(l)"),),
        ("legal_basis",),
        "'RS 75(4)', 'RS 93(1)(k)' or 'RS 109'",
        True,
    ),
    Case(
        "duplicate known asset",
        REQ,
        ((("known_assets", 1, "asset_id"), "a-account-1"),),
        (),
        "asset_id values must be unique",
        False,
    ),
    Case(
        "asset_result.asset with another asset_id",
        REPORT,
        ((("results", 2, "asset", "asset_id"), "a-vessel-2"),),
        ("execution_report", "results", 2),
        "asset.asset_id 'a-vessel-2' differs from asset_id 'a-vessel-1'",
        False,
    ),
    Case(
        "duplicate asset in one report",
        REPORT,
        ((("results", 1, "asset_id"), "a-account-1"),),
        ("execution_report",),
        "each asset may appear once per report",
        False,
    ),
    Case(
        "report without results",
        REPORT,
        ((("results",), []),),
        ("execution_report", "results"),
        "at least 1 item",
        True,
    ),
    Case(
        "unknown measure in a report",
        REPORT,
        ((("results", 0, "measures_executed"), ["identify", "confiscate"]),),
        ("execution_report", "results", 0, "measures_executed", 1),
        "'freeze'",
        True,
    ),
    Case(
        "bad currency in a report",
        REPORT,
        ((("results", 0, "value", "currency"), "EURO"),),
        ("execution_report", "results", 0, "value", "currency"),
        "should match pattern",
        True,
    ),
    Case(
        "naive datetime in an answer",
        ACK,
        ((("sent_at",), "2026-02-12T14:05:00"),),
        ("acknowledgement", "sent_at"),
        "Input should have timezone info",
        False,
    ),
    Case(
        "unknown extra field in an answer",
        ACK,
        ((("signature",), "x"),),
        ("acknowledgement", "signature"),
        "Extra inputs are not permitted",
        True,
    ),
    Case(
        "unknown answer_type",
        ACK,
        ((("answer_type",), "mutual_legal_assistance"),),
        (),
        "does not match any of the expected tags",
        True,
    ),
    Case(
        "missing answer_type",
        ACK,
        ((("answer_type",), DELETE),),
        (),
        "Unable to extract tag using discriminator 'answer_type'",
        True,
    ),
]


def _errors(case: Case) -> list[dict[str, Any]]:
    text = json.dumps(case.document())
    with pytest.raises(ValidationError) as info:
        if isinstance(case.target, TypeAdapter):
            case.target.validate_json(text)
        else:
            case.target.model_validate_json(text)
    return info.value.errors()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_model_refuses_with_clear_error(case: Case) -> None:
    errors = _errors(case)
    found = [(e["loc"], e["msg"]) for e in errors]
    assert len(errors) == 1, found
    assert errors[0]["loc"] == case.loc, found
    assert case.message in errors[0]["msg"], found


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.schema_rejects], ids=[c.id for c in CASES if c.schema_rejects]
)
def test_json_schema_refuses(case: Case) -> None:
    schema = json.loads((SCHEMAS / "json" / case.schema_file).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid(case.document())


def test_the_unchanged_examples_are_valid() -> None:
    """Guards the cases above: the only fault in each document is the one the case adds."""
    for example in {c.example for c in CASES}:
        text = (SCHEMAS / "examples" / example).read_text(encoding="utf-8")
        if example == REQ:
            CourtRequest.model_validate_json(text)
        else:
            STATE_ANSWER.validate_json(text)
