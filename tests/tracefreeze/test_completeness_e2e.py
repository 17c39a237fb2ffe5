"""The completeness check on the real stack: ``tracefreeze submit`` refuses an incomplete
request (seed para 11; RS 96(2)) and transmits it only on a named person's recorded override
(the Registry transmits, Rule 176(2)); a supplementary request is checked against the request
it supplements (same case, same party, the first exists); ``submit --check`` reads the party's
RS 96(3) register and a supplemented request from the records as ``submit`` does."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from temporalio.service import RPCError, RPCStatusCode

from schemas.case import CaseOrder
from schemas.completeness import FindingKind
from schemas.completeness import NationalRequirement as CheckedRequirement
from schemas.directory import party_workflow_id
from schemas.events import RequestEventType
from tests.builders import case_number, court_request, example, reference
from tests.tracefreeze.directory_support import (
    consulted,
    directory_file,
    memo_lists,
    wind_up,
)
from tests.tracefreeze.e2e import wait_for_transmitted_event
from tracefreeze.case_client import CaseClient
from tracefreeze.cli.main import main
from tracefreeze.client import BlockedRequest, IncompleteRequest, RequestClient
from tracefreeze.config import Settings, get_settings
from tracefreeze.directory_client import PartyDirectoryClient
from tracefreeze.worker import run_worker

pytestmark = pytest.mark.stack


@contextlib.asynccontextmanager
async def worker_and_client(stack: Settings) -> AsyncIterator[RequestClient]:
    """A worker on the stack's own task queue (the CLI's) and a client; the requests the test
    made are terminated at the end."""
    worker = asyncio.create_task(run_worker(stack))
    client = await RequestClient.connect(stack)
    made: list[str] = []
    client.made = made  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        for workflow_id in made:
            with contextlib.suppress(Exception):
                await client.client.get_workflow_handle(workflow_id).terminate("test done")
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


async def _cli(*args: str) -> tuple[int, str]:
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args))
    return result.exit_code, result.output


async def test_submit_refuses_an_incomplete_request_unless_overridden_by_a_named_person(
    stack: Settings, tmp_path: Path
) -> None:
    doc = example("court-request")
    doc.update(
        reference=reference("INCOMPLETE"),
        case_number=case_number(),
        grounds="x",
        known_assets=[],
        legal_basis="RS 75(4)",
    )
    del doc["warrant"]
    path = tmp_path / "request.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    workflow_id = f"request/{doc['reference']}/NLD"
    async with worker_and_client(stack) as client:
        client.made.append(workflow_id)  # type: ignore[attr-defined]
        code, output = await _cli("submit", str(path))
        assert code == 3, output
        assert "refused: the request is incomplete" in output
        assert "missing      grounds (RS 96(2)(a), 96(2)(c))" in output
        assert "inconsistent issuing_organ, legal_basis (RS 75(4))" in output
        with pytest.raises(RPCError) as gone:  # nothing left the Court
            await client.client.get_workflow_handle(workflow_id).describe()
        assert gone.value.status is RPCStatusCode.NOT_FOUND

        # Rule 176(2): who overrides is one printable line; a forged second line is refused
        # with a clear error, and nothing leaves the Court.
        code, output = await _cli(
            "submit", str(path), "--override-by", "Registrar\nforged", "--override-reason", "ok"
        )
        assert code != 0 and "the override is refused" in output, output
        assert "Traceback" not in output
        with pytest.raises(RPCError):
            await client.client.get_workflow_handle(workflow_id).describe()

        reason = "Urgent: the assets are about to be moved; the Chamber completes the grounds"
        code, output = await _cli(
            "submit", str(path), "--override-by", "Deputy Registrar", "--override-reason", reason
        )
        assert code == 0, output
        assert f"transmitted {doc['reference']} to NLD" in output

        event = await wait_for_transmitted_event(stack, doc["reference"])
        assert event.type is RequestEventType.TRANSMITTED
        override = event.completeness_override
        assert override is not None
        assert (override.by, override.reason) == ("Deputy Registrar", reason)
        assert {(f.kind, f.field) for f in override.findings} == {
            (FindingKind.INCONSISTENT, "issuing_organ, legal_basis"),
            (FindingKind.MISSING, "conviction"),
            (FindingKind.MISSING, "grounds"),
            (FindingKind.MISSING, "known_assets"),
        }

        view = await client.view_id(workflow_id)
        first = view.timeline[0].what
        assert first.startswith("transmitted to the State; incomplete (4 findings: ")
        assert f"transmitted by decision of Deputy Registrar: {reason}" in first
        memo = await (await client.client.get_workflow_handle(workflow_id).describe()).memo()
        assert memo["report"]["completeness_override"]["by"] == "Deputy Registrar"
        assert len(memo["report"]["completeness_override"]["findings"]) == 4


async def test_a_supplementary_request_is_checked_against_the_first(stack: Settings) -> None:
    """A further request of the case to the same party, linked to the first: accepted and
    announced with the link; refused when the first does not exist, belongs to another case
    or went to another party (to that party's eyes, not found: nothing of another party's
    request is revealed)."""
    case = case_number()
    first = court_request(tag="FIRST", case_number=case)
    async with worker_and_client(stack) as client:
        made = client.made  # type: ignore[attr-defined]
        made.append(await client.submit(first))

        second = court_request(tag="SECOND", case_number=case, supplements=first.reference)
        made.append(await client.submit(second))
        event = await wait_for_transmitted_event(stack, second.reference)
        assert event.supplements == first.reference
        view = await client.view(second.reference, "NLD")
        assert view.timeline[0].what == (
            f"transmitted to the State, supplementing request {first.reference}"
        )

        cases = (
            (court_request(tag="NOFIRST", supplements=reference("NONE")), "supplements"),
            (
                court_request(
                    tag="OTHERCASE", case_number=case_number(), supplements=first.reference
                ),
                "supplements, case_number",
            ),
            (
                court_request(
                    tag="OTHERPARTY",
                    case_number=case,
                    requested_state="BEL",
                    supplements=first.reference,
                ),
                "supplements",
            ),
        )
        for request, field in cases:
            with pytest.raises(IncompleteRequest) as refused:
                await client.submit(request)
            findings = refused.value.report.findings
            assert [(f.kind, f.field, f.article) for f in findings] == [
                (FindingKind.INCONSISTENT, field, "RS 96(2)(f)")
            ], request.reference
            if request.requested_state == "BEL":
                # Only BEL's own request is looked up: the finding says nothing of NLD's.
                assert findings[0].what == (
                    f"request {first.reference} is not found for this party (BEL)"
                )
                assert "NLD" not in str(refused.value) and first.case_number not in str(
                    refused.value
                )
            # Blocking (RS 96(2)(f), Rule 99(2)): a named person's override passes none of them.
            with pytest.raises(BlockedRequest, match="no override transmits this request"):
                await client.submit(request, override_by="Registrar", override_reason="urgent")
            assert await client._existing(request.reference, request.requested_state) is None


async def test_a_case_order_with_an_incomplete_request_opens_nothing(stack: Settings) -> None:
    """Seed para 11, RS 87(2): a case's requests pass the same check; one request to BEL in
    English (BEL accepts French) keeps the whole case from opening."""
    doc = example("case-order")
    doc["order_reference"] = reference("ORDER")
    for request in doc["requests"]:
        request["reference"] = reference(request["requested_state"])
    bel = next(r for r in doc["requests"] if r["requested_state"] == "BEL")
    bel["languages"] = ["en"]
    order = CaseOrder.model_validate(doc)
    async with worker_and_client(stack) as client:
        with pytest.raises(IncompleteRequest) as refused:
            await CaseClient(client.client, stack).open_case(order)
        assert [(f.kind, f.field, f.article) for f in refused.value.report.findings] == [
            (FindingKind.INCONSISTENT, "languages", "RS 87(2)")
        ]
        for workflow_id in (order.workflow_id, *(r.workflow_id for r in order.requests)):
            with pytest.raises(RPCError) as gone:
                await client.client.get_workflow_handle(workflow_id).describe()
            assert gone.value.status is RPCStatusCode.NOT_FOUND


CHECKED = "QZW"
"""The party of the ``submit --check`` test, its own (ISO 3166-1 leaves QM-QZ to users)."""


async def test_check_shows_the_requirement_the_party_advised_under_rs_96_3_as_unanswered(
    stack: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RS 96(2)(e), 96(3): ``submit --check`` reads the party's register as ``submit`` does
    (``RequestClient.check``): a requirement the party advised in a consultation is shown
    unanswered (exit 3), answered it passes (exit 0); ``--offline`` reads nothing and says so
    (exit 4); a ``supplements`` link is checked against the records (RS 96(2)(f))."""
    directory = directory_file(tmp_path, CHECKED)
    settings = stack.model_copy(update={"state_directory_file": directory})
    monkeypatch.setenv("TRACEFREEZE_STATE_DIRECTORY_FILE", str(directory))
    monkeypatch.setenv("TRACEFREEZE_CHECK_TIMEOUT_S", "300")  # the records are read, not raced
    get_settings.cache_clear()
    worker = asyncio.create_task(run_worker(settings))
    client = await RequestClient.connect(settings)
    parties = PartyDirectoryClient(client.client, settings)
    advised = "A freeze order names the bank holding the account (Article 7, example law)"
    doc = example("court-request")
    doc.update(reference=reference("CHECK"), case_number=case_number(), requested_state=CHECKED)
    path = tmp_path / "request.json"
    try:
        await client.policy_in_force(court_request(tag="TEST", requested_state=CHECKED))
        rid = f"{await consulted(parties, CHECKED, advised)}-1"
        await memo_lists(parties, CHECKED, [CheckedRequirement(requirement_id=rid, text=advised)])

        path.write_text(json.dumps(doc), encoding="utf-8")
        code, output = await _cli("submit", str(path), "--check")
        assert code == 3, output
        assert f"{doc['reference']} to {CHECKED}: incomplete (1 findings)" in output
        assert (
            f"missing      national_law[{rid}] (RS 96(2)(e), 96(3)): {CHECKED}'s requirement "
            f"{rid} is not answered: {advised}"
        ) in output
        assert "unverified" not in output and "NOT FULLY CHECKED" not in output

        code, output = await _cli("submit", str(path), "--check", "--json")
        report = json.loads(output)
        assert (code, report["fully_checked"], report["complete"]) == (3, True, False)
        assert [(f["kind"], f["field"]) for f in report["findings"]] == [
            ("missing", f"national_law[{rid}]")
        ]

        code, output = await _cli("submit", str(path), "--check", "--offline")
        assert code == 4, output
        assert "unverified   national_law (RS 96(2)(e), 96(3)): NOT READ" in output
        assert advised not in output  # offline, the register is not read: said, not hidden

        doc["national_law"] = [{"requirement_id": rid, "how": "The order names the bank."}]
        path.write_text(json.dumps(doc), encoding="utf-8")
        code, output = await _cli("submit", str(path), "--check")
        assert (code, output.strip()) == (0, f"{doc['reference']} to {CHECKED}: complete")

        doc["supplements"] = missing = reference("NONE")
        path.write_text(json.dumps(doc), encoding="utf-8")
        code, output = await _cli("submit", str(path), "--check")
        assert code == 3, output
        assert (
            f"inconsistent supplements (RS 96(2)(f)): request {missing} is not found for this "
            f"party ({CHECKED}) [blocking: no override]"
        ) in output
    finally:
        get_settings.cache_clear()
        await wind_up(client, [party_workflow_id(CHECKED)], worker)
