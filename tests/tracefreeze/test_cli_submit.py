"""``tracefreeze submit`` of an invalid document: field-level errors, exit 2, no server."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tracefreeze.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "court-request.json"


def _submit(tmp_path: Path, doc: object) -> tuple[int, str]:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    result = CliRunner().invoke(main, ["submit", str(path)])
    return result.exit_code, result.output  # stderr is mixed into output


def test_invalid_request_lists_field_errors_and_exits_2(tmp_path: Path) -> None:
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["requested_state"] = "Netherlands"
    doc["known_assets"][0]["estimated_value"]["currency"] = "euro"
    del doc["grounds"]
    code, output = _submit(tmp_path, doc)
    assert code == 2
    assert "requested_state: String should match pattern" in output
    assert "known_assets.0.estimated_value.currency: String should match pattern" in output
    assert "grounds: Field required" in output
    assert "Traceback" not in output


def test_cross_field_error_is_reported_for_the_document(tmp_path: Path) -> None:
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["measures"] = ["freeze", "freeze"]
    code, output = _submit(tmp_path, doc)
    assert code == 2
    assert "each measure may be requested once" in output


def test_not_json_exits_2(tmp_path: Path) -> None:
    code, output = _submit(tmp_path, "{not json")
    assert code == 2
    assert "not valid JSON" in output
