"""``tracefreeze submit`` of an invalid document: field-level errors, exit 2, no server; and
``submit --check`` without the Court's records (``--offline``, or Temporal out of reach): each
rule it could check, and what it could not read said loudly, exit 4."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from temporalio.service import RPCError, RPCStatusCode

from tracefreeze.cli.main import main
from tracefreeze.completeness_records import _unavailable
from tracefreeze.config import get_settings
from tracefreeze.errors import TracefreezeError

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


def _example() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


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


UNVERIFIED_REGISTER = (
    "unverified   national_law (RS 96(2)(e), 96(3)): NOT READ: NLD's register of national-law "
    "requirements (made known in RS 96(3) consultations, kept in its party directory) was not read"
)
NOT_FULLY_CHECKED = (
    "NOT FULLY CHECKED: 1 rule(s) not checked against the Court's records; the party's RS 96(3) "
    "register of national-law requirements was NOT read"
)


@pytest.fixture
def unreachable_temporal(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Settings whose Temporal address is a free port nobody listens on (the port is bound,
    then released: nothing else of this test listens there)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("TRACEFREEZE_TEMPORAL_ADDRESS", address)
    get_settings.cache_clear()
    yield address
    get_settings.cache_clear()


def test_check_offline_prints_each_finding_with_its_article_and_exits_4(tmp_path: Path) -> None:
    """--offline: each rule's finding with its article, and, first and loudly, the party's
    RS 96(3) register (RS 96(2)(e)) as not read; exit 4 (not fully checked) over 3."""
    code, output = _run(tmp_path, _incomplete_doc(), "--check", "--offline")
    assert code == 4, output
    assert "ICC-01/22-REQ-0007 to NLD: incomplete (4 findings)" in output
    assert NOT_FULLY_CHECKED in output
    assert UNVERIFIED_REGISTER + " (--offline: the Court's records were not consulted)" in output
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


def test_check_offline_of_the_example_is_never_complete(tmp_path: Path) -> None:
    """Without the party's RS 96(3) register nothing is known complete (RS 96(2)(e)): exit 4,
    never 0, and the report says what was not read."""
    code, output = _run(tmp_path, _example(), "--check", "--offline")
    assert code == 4, output
    lines = output.strip().splitlines()
    assert lines[0] == (
        "ICC-01/22-REQ-0007 to NLD: nothing missing or inconsistent among the rules checked"
    )
    assert NOT_FULLY_CHECKED in lines[1]
    assert UNVERIFIED_REGISTER in lines[2]


def test_check_json_is_the_published_report(tmp_path: Path) -> None:
    """``--json``: the report as a document valid for completeness-report.schema.json; the
    register not read is an ``unverified`` finding, and the report is not fully checked."""
    code, output = _run(tmp_path, _incomplete_doc(), "--check", "--offline", "--json")
    assert code == 4
    report = json.loads(output)
    validator = jsonschema.Draft202012Validator(
        json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    )
    validator.validate(report)
    assert report["complete"] is False and report["party"] == "NLD"
    assert report["fully_checked"] is False and report["overridable"] is False
    assert {(f["kind"], f["field"], f["article"]) for f in report["findings"]} == {
        ("unverified", "national_law", "RS 96(2)(e), 96(3)"),
        ("inconsistent", "issuing_organ, legal_basis", "RS 75(4)"),
        ("missing", "conviction", "RS 75(4), 74"),
        ("missing", "grounds", "RS 96(2)(a), 96(2)(c)"),
        ("missing", "known_assets", "RS 96(2)(b), 93(1)(k)"),
    }
    code, output = _run(tmp_path, _example(), "--check", "--offline", "--json")
    assert code == 4
    report = json.loads(output)
    validator.validate(report)
    assert [f["kind"] for f in report["findings"]] == ["unverified"]
    assert (report["complete"], report["fully_checked"]) == (False, False)


def test_check_with_temporal_out_of_reach_reports_what_it_did_not_read_and_exits_4(
    tmp_path: Path, unreachable_temporal: str
) -> None:
    """--check reads the party's RS 96(3) register (RS 96(2)(e)) and a supplemented request
    (RS 96(2)(f)) from the Court's records; with Temporal out of reach it says loudly that it
    did not, and exits 4 (never 0)."""
    doc = _example()
    doc["supplements"] = "ICC-01/22-REQ-0001"
    code, output = _run(tmp_path, doc, "--check")
    assert code == 4, output
    assert NOT_FULLY_CHECKED.replace("1 rule(s)", "2 rule(s)") in output
    assert UNVERIFIED_REGISTER + f" (cannot reach Temporal at {unreachable_temporal}" in output
    assert (
        "unverified   supplements (RS 96(2)(f)): NOT READ: whether request ICC-01/22-REQ-0001 "
        "is NLD's request in the same case was not checked against the Court's records"
    ) in output
    assert "Traceback" not in output

    code, output = _run(tmp_path, doc, "--check", "--json")
    assert code == 4
    report = json.loads(output)
    jsonschema.Draft202012Validator(json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))).validate(
        report
    )
    assert [(f["kind"], f["field"], f["blocking"]) for f in report["findings"]] == [
        ("unverified", "national_law", True),
        ("unverified", "supplements", True),
    ]


def _raised_from(status: RPCStatusCode) -> TracefreezeError:
    try:
        try:
            raise RPCError("the server said so", status, b"")
        except RPCError as err:
            raise TracefreezeError("party directory of NLD: the server said so") from err
    except TracefreezeError as raised:
        return raised


def test_only_a_server_out_of_reach_leaves_the_register_unverified() -> None:
    """RS 96(2)(e), 96(3): a read that finds Temporal unavailable (or past its deadline) is
    reported unverified (exit 4); a server that answers with an error, or a party directory
    whose memo cannot be read, stays an error of its own (exit 1), never hidden as unread."""
    assert _unavailable(_raised_from(RPCStatusCode.UNAVAILABLE))
    assert _unavailable(RPCError("slow", RPCStatusCode.DEADLINE_EXCEEDED, b""))
    assert not _unavailable(_raised_from(RPCStatusCode.PERMISSION_DENIED))
    assert not _unavailable(RPCError("no", RPCStatusCode.INVALID_ARGUMENT, b""))
    assert not _unavailable(TracefreezeError("party directory of NLD cannot be read"))


def test_check_of_a_defence_request_asks_when_the_person_was_arrested(tmp_path: Path) -> None:
    """RS 57(3)(b), 58: upon the request of a person who has been arrested or has appeared
    pursuant to a summons; --check names the date missing, and takes it once given."""
    doc = _example()
    doc.update(legal_basis="RS 57(3)(b)", origin="defence")
    code, output = _run(tmp_path, doc, "--check", "--offline")
    assert code == 4, output
    assert "incomplete (1 findings)" in output
    assert "missing      warrant.arrested_or_appeared_at (RS 57(3)(b), RS 58)" in output
    doc["warrant"]["arrested_or_appeared_at"] = "2026-01-28T06:15:00+02:00"
    code, output = _run(tmp_path, doc, "--check", "--offline")
    assert code == 4, output
    assert "nothing missing or inconsistent among the rules checked" in output


def test_override_needs_both_a_name_and_a_reason(tmp_path: Path) -> None:
    code, output = _run(tmp_path, _incomplete_doc(), "--override-by", "Registrar")
    assert code == 2 and "--override-by and --override-reason go together" in output
    code, output = _run(tmp_path, _incomplete_doc(), "--json")
    assert code == 2 and "--json goes with --check" in output
    code, output = _run(tmp_path, _incomplete_doc(), "--offline")
    assert code == 2 and "--offline goes with --check" in output
