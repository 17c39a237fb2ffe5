"""``tracefreeze submit`` of an invalid document: field-level errors, exit 2, no server."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
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


# --- the completeness check (seed para 11; RS 96(2), 87(2), 57(3)(e), 75(4)) ---------------

REPORT_SCHEMA = EXAMPLE.parents[1] / "json" / "completeness-report.schema.json"


def _incomplete_doc() -> dict:
    """The issue's example: grounds "x", no assets, a pre-trial chamber acting under 75(4)."""
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc.update(grounds="x", known_assets=[], legal_basis="RS 75(4)")
    del doc["warrant"]
    return doc


def _run(tmp_path: Path, doc: object, *args: str) -> tuple[int, str]:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = CliRunner().invoke(main, ["submit", str(path), *args])
    return result.exit_code, result.output


def test_check_prints_each_finding_with_its_article_and_exits_3(tmp_path: Path) -> None:
    code, output = _run(tmp_path, _incomplete_doc(), "--check")
    assert code == 3
    assert "ICC-01/22-REQ-0007 to NLD: incomplete (4 findings)" in output
    for line in (
        "inconsistent issuing_organ, legal_basis (RS 75(4)): RS 75(4) is a power of the trial "
        "chamber, not of the pre trial chamber",
        "missing      conviction (RS 75(4), 74)",
        "missing      grounds (RS 96(2)(a), 96(2)(c)): the grounds and essential facts are no "
        "statement of substance: 'x' is a placeholder",
        "missing      known_assets (RS 96(2)(b), 93(1)(k))",
    ):
        assert line in output
    assert "Traceback" not in output


def test_check_of_the_example_is_complete(tmp_path: Path) -> None:
    code, output = _run(tmp_path, json.loads(EXAMPLE.read_text(encoding="utf-8")), "--check")
    assert (code, output.strip()) == (0, "ICC-01/22-REQ-0007 to NLD: complete")


def test_check_json_is_the_published_report(tmp_path: Path) -> None:
    """``--json``: the report as a document valid for completeness-report.schema.json."""
    code, output = _run(tmp_path, _incomplete_doc(), "--check", "--json")
    assert code == 3
    report = json.loads(output)
    schema = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)
    assert report["complete"] is False and report["party"] == "NLD"
    assert {(f["kind"], f["field"], f["article"]) for f in report["findings"]} == {
        ("inconsistent", "issuing_organ, legal_basis", "RS 75(4)"),
        ("missing", "conviction", "RS 75(4), 74"),
        ("missing", "grounds", "RS 96(2)(a), 96(2)(c)"),
        ("missing", "known_assets", "RS 96(2)(b), 93(1)(k)"),
    }
    code, output = _run(
        tmp_path, json.loads(EXAMPLE.read_text(encoding="utf-8")), "--check", "--json"
    )
    assert code == 0 and json.loads(output)["complete"] is True


def test_override_needs_both_a_name_and_a_reason(tmp_path: Path) -> None:
    code, output = _run(tmp_path, _incomplete_doc(), "--override-by", "Registrar")
    assert code == 2 and "--override-by and --override-reason go together" in output
    code, output = _run(tmp_path, _incomplete_doc(), "--json")
    assert code == 2 and "--json goes with --check" in output
