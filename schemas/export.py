"""Publish the contracts as JSON Schemas for the States' systems and downstream consumers.

``python -m schemas.export`` writes ``schemas/json/*.schema.json``; ``--check`` exits 1 and
lists the files that no longer match the models. Inbound documents (the Court's request, the
States' answers, the Registry's closing decision) are published in validation mode; outbound
documents (lifecycle events, the query view) in serialization mode.

It also writes the State-answer messages of ``schemas/asyncapi.yaml`` from the catalog's State
answer kinds (``schemas/answer_messages.py``), leaving the rest of that document as it is;
``--check`` reports them too when they drift.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

from schemas import answer_messages
from schemas.answers import STATE_ANSWER
from schemas.case import CaseOrder
from schemas.completeness import CompletenessReport
from schemas.court import COURT_ACTION, CloseRequest
from schemas.court_record import SignedCourtAction
from schemas.directory import PARTY_ACTION, PartyView
from schemas.escalations import EscalationEvent
from schemas.events import RequestEvent
from schemas.party import PartyMessage
from schemas.policy import DeadlinePolicy, StateDirectory
from schemas.request import CourtRequest
from schemas.situation import SituationRegister
from schemas.views import RequestView

JSON_DIR = Path(__file__).parent / "json"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:int.icc.tracefreeze:schema:"

Mode = Literal["validation", "serialization"]


@dataclass(frozen=True)
class Export:
    """One published schema: which contract, in which direction, under which name."""

    filename: str
    title: str
    target: type[BaseModel] | TypeAdapter[Any]
    mode: Mode
    description: str | None = None

    def schema(self) -> dict[str, Any]:
        if isinstance(self.target, TypeAdapter):
            raw = self.target.json_schema(mode=self.mode)
        else:
            raw = self.target.model_json_schema(mode=self.mode)
        raw = _require_discriminators(raw)
        head: dict[str, Any] = {
            "$schema": SCHEMA_DIALECT,
            "$id": ID_PREFIX + self.filename.removesuffix(".schema.json"),
            "title": self.title,
        }
        if self.description:
            head["description"] = self.description
        return {**raw, **head}


EXPORTS: tuple[Export, ...] = (
    Export("court-request.schema.json", "CourtRequest", CourtRequest, "validation"),
    Export(
        "state-answer.schema.json",
        "StateAnswer",
        STATE_ANSWER,
        "validation",
        "An answer of a requested State; ``answer_type`` selects the kind of answer.",
    ),
    Export("close-request.schema.json", "CloseRequest", CloseRequest, "validation"),
    Export(
        "completeness-report.schema.json",
        "CompletenessReport",
        CompletenessReport,
        "serialization",
        "What a request lacks or gets wrong before transmission, each finding with its "
        "article (``tracefreeze submit --check --json``).",
    ),
    Export(
        "court-action.schema.json",
        "CourtAction",
        COURT_ACTION,
        "validation",
        "An action of the Court on one request; ``action_type`` selects the kind of action.",
    ),
    Export("request-event.schema.json", "RequestEvent", RequestEvent, "serialization"),
    Export("request-view.schema.json", "RequestView", RequestView, "serialization"),
    Export("case-order.schema.json", "CaseOrder", CaseOrder, "validation"),
    Export("escalation-event.schema.json", "EscalationEvent", EscalationEvent, "serialization"),
    Export(
        "signed-court-action.schema.json",
        "SignedCourtAction",
        SignedCourtAction,
        "serialization",
        "A Court action as its organ signed it and a request took it, for the record store "
        "(the Court-internal topic tracefreeze.court-actions).",
    ),
    Export(
        "party-message.schema.json",
        "PartyMessage",
        PartyMessage,
        "serialization",
        "What a requested State receives on its own channel: its request, a Court decision on "
        "it, or a reminder addressed to it.",
    ),
    Export("deadline-policy.schema.json", "DeadlinePolicy", DeadlinePolicy, "validation"),
    Export("state-directory.schema.json", "StateDirectory", StateDirectory, "validation"),
    Export("situation-register.schema.json", "SituationRegister", SituationRegister, "validation"),
    Export(
        "party-action.schema.json",
        "PartyAction",
        PARTY_ACTION,
        "validation",
        "An action of the Court on one party's directory (Rule 180, RS 96(3)); "
        "``action_type`` selects the kind of action.",
    ),
    Export("party-view.schema.json", "PartyView", PartyView, "serialization"),
)


def _require_discriminators(schema: dict[str, Any]) -> dict[str, Any]:
    """Mark each discriminator property as required in the variants it selects.

    Pydantic needs the tag (``answer_type``) to pick a variant, but the tag has a default in
    the models, so the generated schema would otherwise let a document omit it.
    """
    defs = schema.get("$defs", {})

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            disc = node.get("discriminator")
            if isinstance(disc, dict) and "mapping" in disc:
                prop = disc["propertyName"]
                for ref in disc["mapping"].values():
                    variant = defs.get(ref.removeprefix("#/$defs/"))
                    if variant is not None and prop not in variant.get("required", []):
                        variant["required"] = [*variant.get("required", []), prop]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return schema


def render(export: Export) -> str:
    """Stable text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(export.schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_all() -> dict[str, str]:
    """Every published schema, filename -> text (what ``schemas/json`` must contain)."""
    return {export.filename: render(export) for export in EXPORTS}


def drifted(directory: Path | None = None) -> list[str]:
    """Filenames whose committed text differs from what the models produce now."""
    directory = directory or JSON_DIR
    out = []
    for name, text in render_all().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            out.append(name)
    return out


def write_all(directory: Path | None = None) -> list[str]:
    directory = directory or JSON_DIR
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        (directory / name).write_text(text, encoding="utf-8")
    return sorted(render_all())


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.export", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a file has drifted")
    args = parser.parse_args(argv)
    if args.check:
        stale = [f"schemas/json/{name}" for name in drifted()]
        if answer_messages.drifted():
            stale.append("schemas/asyncapi.yaml (its State-answer messages)")
        for name in stale:
            out(f"drifted: {name}")
        if stale:
            out("run `python -m schemas.export` to regenerate")
            return 1
        out(f"{len(EXPORTS)} JSON Schemas and the AsyncAPI answer messages up to date")
        return 0
    for name in write_all():
        out(f"wrote schemas/json/{name}")
    if answer_messages.write():
        out("wrote the State-answer messages of schemas/asyncapi.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
