"""The README's control room says how to send each Court decision from the Temporal UI (#19):
every Court action's update with its required fields, and a valid input."""

from __future__ import annotations

import json
import re
from pathlib import Path

from workflows.catalog import BY_UPDATE, CATALOG

README = Path(__file__).resolve().parents[2] / "README.md"
FILLED = {"event_id", "decided_at", "action_type"}


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("### Deciding from the UI", 1)[1].split("\n### ", 1)[0]


def test_every_court_action_update_is_listed_with_its_required_fields() -> None:
    rows = {
        m.group(1): m.group(3)
        for m in re.finditer(r"^\| `(\w+)` \| `(\w+)` \| (.*) \|$", _section(), re.M)
    }
    for kind in CATALOG:
        if kind.party != "court":
            continue
        assert kind.update in rows, f"{kind.update} is not in the README's table"
        required = {
            f for f, info in kind.contract.model_fields.items() if info.is_required()
        } - FILLED
        assert set(re.findall(r"`(\w+)`", rows[kind.update])) == required, kind.update


def test_the_readme_input_is_valid_for_its_update() -> None:
    block = _section().split("```json\n", 1)[1].split("```", 1)[0]
    doc = json.loads(block)
    kind = BY_UPDATE["decide_escalation"]
    action = kind.contract.model_validate(doc)
    assert action.model_dump(mode="json")["action_type"] == kind.name
