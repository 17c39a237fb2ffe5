"""Court decisions as a person takes them (#19): ``tracefreeze act REQUEST ACTION`` takes the
action's fields as options generated from its contract (``tracefreeze/cli/action_options.py``),
``--edit`` opens a pre-filled draft, and the proposal event's command works as written."""

from __future__ import annotations

import asyncio
import json
import shlex
import stat
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from schemas import court as c
from schemas.ledger import RequestStatus
from tests.builders import court_request
from tests.tracefreeze.e2e import Running
from tracefreeze.cli import main as cli
from tracefreeze.cli.court import ACTION_MODELS
from tracefreeze.security.organ_keys import load_organ_keys, organ_keys_file
from workflows.decision_signatures import check_signature
from workflows.outcome import Refusal
from workflows.request_clocks import decision_command

REF = "ICC-01/22-REQ-0007/NLD"


def act(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["act", *args], env=env)
    return result.exit_code, result.output


def dry(*args: str) -> dict:
    code, output = act(REF, *args, "--dry-run")
    assert code == 0, output
    return json.loads(output)


def test_help_lists_each_field_with_its_choices() -> None:
    """Every Court action of the catalog is a command; its --help lists its fields, closed
    sets as choices."""
    code, output = act(REF, "--help")
    assert code == 0
    for name in ACTION_MODELS:
        assert name in output
    code, output = act(REF, "judgment", "--help")
    assert code == 0
    assert "[conviction|acquittal|termination]" in output
    assert "--finality [appeal_pending|final]" in output
    assert "--by" in output and "--decided-by" not in output
    code, output = act(REF, "deadline_extension", "--help")
    assert "--extend-by DURATION" in output


def test_options_make_a_valid_action_of_every_shape() -> None:
    """Money as one value, repeated ids, a nested list as JSON, a duration, a flag."""
    moved = c.TransferToCourt.model_validate(
        dry(
            "transfer_to_court",
            "--asset-id",
            "a-account-1",
            "--amount",
            "640000.00 eur",
            "--by",
            "presidency",
        )
    )
    assert moved.amount.amount == Decimal("640000.00") and moved.amount.currency == "EUR"
    order = c.ForfeitureOrder.model_validate(
        dry(
            "forfeiture_order",
            "--order-reference",
            "ICC-01/22-388",
            "--asset-ids",
            "a-account-1",
            "--asset-ids",
            "a-apartment-1",
            "--by",
            "Trial Chamber IX",
        )
    )
    assert order.asset_ids == ("a-account-1", "a-apartment-1")
    share = {"destination": "reparations", "amount": {"amount": "10.00", "currency": "EUR"}}
    allocated = c.Allocation.model_validate(
        dry(
            "allocation",
            "--asset-id",
            "a-account-1",
            "--shares",
            json.dumps(share),
            "--decision-reference",
            "ICC-01/22-PRES-1",
            "--by",
            "presidency",
        )
    )
    assert allocated.shares[0].amount.amount == Decimal("10.00")
    longer = c.DeadlineExtension.model_validate(
        dry(
            "deadline_extension",
            "--stage",
            "acknowledgement",
            "--extend-by",
            "P30D",
            "--by",
            "Pre-Trial Chamber II",
            "--reasons",
            "The State asked for more time.",
        )
    )
    assert longer.by.days == 30
    refused = c.EscalationDecision.model_validate(
        dry(
            "escalation_decision",
            "--step",
            "chamber_report",
            "--no-proceed",
            "--by",
            "Pre-Trial Chamber II",
            "--reasons",
            "The State answered in the meantime.",
        )
    )
    assert refused.proceed is False


def test_a_file_and_options_combine_the_options_winning(tmp_path: Path) -> None:
    path = tmp_path / "withdrawal.json"
    path.write_text(json.dumps({"decided_by": "Registry", "reasons": "from the file"}))
    code, output = act(REF, "withdrawal", str(path), "--reasons", "from the option", "--dry-run")
    assert code == 0, output
    withdrawn = c.Withdrawal.model_validate_json(output)
    assert (withdrawn.reasons, withdrawn.decided_by) == ("from the option", "Registry")
    # Signed by the organ it names, as the Temporal UI's "Send an Update" takes it as it is.
    assert withdrawn.signature is not None
    keys, now = load_organ_keys(organ_keys_file()), datetime.now(UTC)
    assert check_signature(keys, withdrawn, now, f"request/{REF}") is None
    # Signed for that request alone (RS 87(1)(a), 96(1)): another request refuses it.
    with pytest.raises(Refusal, match="was signed for another request, case or party"):
        check_signature(keys, withdrawn, now, "request/ICC-01/22-REQ-0008/NLD")


def test_a_dry_run_signs_only_for_a_request_it_can_name() -> None:
    """The signature covers the request it is for: a reference alone (which party?) is refused
    with the reason, before anything is signed."""
    code, output = act(
        "ICC-01/22-REQ-0007", "withdrawal", "--by", "Registry", "--dry-run", "--reasons", "r"
    )
    assert code != 0 and "as REF/STATE" in output, output


def test_missing_or_wrong_fields_are_listed_and_nothing_is_sent() -> None:
    code, output = act(REF, "escalation_decision", "--step", "chamber_report", "--by", "X")
    assert code == 2
    assert "proceed: Field required" in output and "reasons: Field required" in output
    code, output = act(REF, "judgment", "--outcome", "pardon")
    assert code == 2 and "'pardon' is not one of" in output
    code, output = act(REF, "transfer_to_court", "--amount", "640000.00")
    assert code == 2 and "give an amount and its currency" in output
    assert "Traceback" not in output


def test_edit_opens_a_prefilled_draft(tmp_path: Path) -> None:
    """``--edit``: the draft holds what is known and a placeholder for each required field;
    what the person saves is the action."""
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import json, sys\n"
        "path = sys.argv[1]\n"
        "doc = json.load(open(path))\n"
        "assert doc['step'] == 'chamber_report', doc\n"
        "assert doc['reasons'] == '<required: reasons>', doc\n"
        "doc.update(proceed=True, reasons='No answer in 400 days.')\n"
        "json.dump(doc, open(path, 'w'))\n"
    )
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(editor))}"
    code, output = act(
        REF,
        "escalation_decision",
        "--step",
        "chamber_report",
        "--by",
        "Pre-Trial Chamber II",
        "--edit",
        "--dry-run",
        env={"EDITOR": command, "VISUAL": command},
    )
    assert code == 0, output
    decision = c.EscalationDecision.model_validate_json(output)
    assert (decision.proceed, decision.reasons) == (True, "No answer in 400 days.")


def test_the_proposal_command_decides_once_a_person_fills_it_in() -> None:
    """The command a proposal event carries (``workflows/request_clocks.py``) records nothing
    as written: its placeholders, and whether to proceed, are the person's to give."""
    request = court_request()
    args = shlex.split(decision_command(request, "chamber_report"))
    assert args[:2] == ["tracefreeze", "act"]
    verbatim = CliRunner().invoke(cli.main, [*args[1:], "--proceed", "--dry-run"])
    assert verbatim.exit_code == 2
    assert "still holds placeholders: decided_by, reasons" in verbatim.output
    filled = [
        {"<organ>": "Pre-Trial Chamber II", "<reasons>": "No answer."}.get(a, a) for a in args
    ]
    undecided = CliRunner().invoke(cli.main, [*filled[1:], "--dry-run"])
    assert undecided.exit_code == 2 and "proceed: Field required" in undecided.output
    result = CliRunner().invoke(cli.main, [*filled[1:], "--proceed", "--dry-run"])
    assert result.exit_code == 0, result.output
    decision = c.EscalationDecision.model_validate_json(result.output)
    assert (decision.step, decision.proceed, decision.decided_by) == (
        "chamber_report",
        True,
        "Pre-Trial Chamber II",
    )


def test_a_draft_saved_unchanged_records_nothing(tmp_path: Path) -> None:
    """``--edit``: a draft whose placeholders were not replaced is refused (exit 2)."""
    editor = tmp_path / "editor.py"
    editor.write_text(  # saves the draft as it was shown
        "import sys, time\ntext = open(sys.argv[1]).read()\ntime.sleep(0.05)\n"
        "open(sys.argv[1], 'w').write(text)\n"
    )
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(editor))}"
    code, output = act(
        REF,
        "withdrawal",
        "--by",
        "Registry",
        "--edit",
        "--dry-run",
        env={"EDITOR": command, "VISUAL": command},
    )
    assert code == 2 and "still holds placeholders: reasons" in output


def test_the_same_event_id_records_a_decision_once() -> None:
    """``--event-id``: a decision re-sent after a timeout keeps its id (the request takes an
    id once, RS 87(7) decisions included)."""
    first = dry(
        "withdrawal",
        "--by",
        "Registry",
        "--reasons",
        "Moot.",
        "--event-id",
        "0b8f2c9e-1d3a-4f5b-8c7d-6e5f4a3b2c1d",
    )
    assert first["event_id"] == "0b8f2c9e-1d3a-4f5b-8c7d-6e5f4a3b2c1d"


@pytest.mark.stack
async def test_a_decision_by_options_is_recorded_on_the_real_stack(running: Running) -> None:
    request = court_request(tag="ACT")
    await running.client.submit(request)
    target = f"{request.reference}/{request.requested_state}"
    args = ["act", target, "withdrawal", "--by", "Pre-Trial Chamber II", "--reasons", "Moot."]
    result = await asyncio.to_thread(CliRunner().invoke, cli.main, args)  # the CLI runs its loop
    assert result.exit_code == 0, result.output
    assert f"request {RequestStatus.WITHDRAWN.value}" in result.output
    view = await running.client.view(request.reference, request.requested_state)
    assert view.status is RequestStatus.WITHDRAWN
