"""The AsyncAPI document's State-answer messages are derived from the catalog.

``python -m schemas.export`` writes them between marker comments (schemas/answer_messages.py);
these tests show the committed blocks are the catalog's, that one more State answer kind is one
more message (built in memory; the real catalog is never edited), that the rest of the document
is kept byte for byte, and that the generated document stays valid AsyncAPI 3.0.0.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Literal

import pytest
import yaml

from schemas import answer_messages as m
from schemas.answers import AnswerBase
from tests.schemas.asyncapi_specs import official_schema, official_validator
from tracefreeze.intake.envelope import answer_type
from workflows.catalog import CATALOG, KINDS

COMMITTED = m.DOCUMENT.read_text(encoding="utf-8")
STATE_KINDS = tuple(kind for kind in CATALOG if kind.party == "state")


class AssetLocationReport(AnswerBase):
    """The State reports where an asset it traced is held (RS 93(1)(k)).

    A kind the catalog does not have: only these tests declare it."""

    answer_type: Literal["asset_location"] = "asset_location"


ONE_MORE = (
    *STATE_KINDS,
    dataclasses.replace(
        KINDS["execution_report"],
        name="asset_location",
        contract=AssetLocationReport,
        update="report_asset_location",
    ),
)


def answer_messages(text: str) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The channel's message names, in order, and the answer messages of the components."""
    doc = yaml.safe_load(text)
    channel = list(doc["channels"]["stateAnswers"]["messages"])
    components = {
        name: message
        for name, message in doc["components"]["messages"].items()
        if message.get("traits") == [{"$ref": "#/components/messageTraits/stateAnswer"}]
    }
    return channel, components


def outside_the_blocks(text: str) -> list[str]:
    """The document's lines with each generated block's lines (markers kept) left out."""
    kept, inside = [], False
    for line in text.split("\n"):
        if line.strip().startswith("# END generated"):
            inside = False
        if not inside:
            kept.append(line)
        if line.strip().startswith("# BEGIN generated"):
            inside = True
    return kept


def test_the_committed_messages_are_the_catalogs_state_answers_in_order() -> None:
    assert not m.drifted()
    assert m.render(COMMITTED) == COMMITTED
    channel, components = answer_messages(COMMITTED)
    names = [kind.name for kind in STATE_KINDS]
    assert channel == names
    assert list(components) == names
    for kind in STATE_KINDS:
        message = components[kind.name]
        assert message["name"] == kind.name
        assert message["title"] == kind.contract.__name__
        assert message["headers"]["properties"]["ce_type"]["const"] == answer_type(kind.name)
        ref = message["payload"]["schema"]["$ref"]
        assert ref == f"./json/state-answer.schema.json#/$defs/{kind.contract.__name__}"


def test_court_actions_are_no_kafka_messages() -> None:
    _, components = answer_messages(COMMITTED)
    doc = yaml.safe_load(COMMITTED)
    court = {kind.name for kind in CATALOG if kind.party == "court"}
    assert not court & set(doc["components"]["messages"])
    assert not court & set(components)


@pytest.mark.parametrize("kind", STATE_KINDS, ids=lambda kind: kind.name)
def test_each_summary_is_its_contracts_docstring_with_its_citation(kind: Any) -> None:
    """The contract's docstring speaks for the message; it names what the answer rests on."""
    _, components = answer_messages(COMMITTED)
    summary = components[kind.name]["summary"]
    assert summary == m.summary(kind.contract)
    assert summary == " ".join(kind.contract.__doc__.split("\n\n")[0].split())
    assert re.search(r"\b(RS \d|Rule \d|EU \d{4}/\d+|practice\))", summary), summary


def test_one_more_state_answer_kind_is_one_more_message() -> None:
    text = m.render(COMMITTED, ONE_MORE)
    channel, components = answer_messages(text)
    before, before_components = answer_messages(COMMITTED)
    assert channel == [*before, "asset_location"]
    assert list(components) == [*before_components, "asset_location"]
    assert components["asset_location"] == {
        "name": "asset_location",
        "title": "AssetLocationReport",
        "summary": "The State reports where an asset it traced is held (RS 93(1)(k)).",
        "traits": [{"$ref": "#/components/messageTraits/stateAnswer"}],
        "headers": {
            "type": "object",
            "properties": {"ce_type": {"const": answer_type("asset_location")}},
        },
        "payload": {
            "schemaFormat": "application/schema+json;version=draft-2020-12",
            "schema": {"$ref": "./json/state-answer.schema.json#/$defs/AssetLocationReport"},
        },
    }
    assert outside_the_blocks(text) == outside_the_blocks(COMMITTED)
    assert m.render(text) == COMMITTED  # the catalog's own kinds take it back


def test_the_generated_documents_are_valid_asyncapi_3() -> None:
    validator = official_validator(official_schema())
    for kinds in (STATE_KINDS, ONE_MORE):
        doc = yaml.safe_load(m.render(COMMITTED, kinds))
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]
        assert not errors, "\n".join(errors)


def test_a_drifted_block_is_rewritten_and_the_hand_written_rest_kept() -> None:
    edited = (
        COMMITTED.replace('      denial:\n        $ref: "#/components/messages/denial"\n', "", 1)
        .replace("title: ExecutionReport", "title: Report", 1)
        .replace("  requestEvents:\n", "  # a note of the author\n  requestEvents:\n", 1)
    )
    assert edited.count("# a note of the author") == 1
    channel, components = answer_messages(edited)
    assert "denial" not in channel and components["execution_report"]["title"] == "Report"
    fixed = m.render(edited)
    assert fixed == COMMITTED.replace(
        "  requestEvents:\n", "  # a note of the author\n  requestEvents:\n", 1
    )


def test_a_document_without_its_markers_is_refused() -> None:
    end = m.END.format(m.COMPONENTS)
    with pytest.raises(m.MarkerError, match="END generated"):
        m.render(COMMITTED.replace(end, "# gone"))
    begin = m.BEGIN.format(m.CHANNEL)
    twice = COMMITTED.replace(begin, f"{begin}\n      {begin}")
    with pytest.raises(m.MarkerError):
        m.render(twice)
