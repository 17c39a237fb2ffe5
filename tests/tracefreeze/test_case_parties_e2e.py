"""A case's requests leave the Court as a single request does, on the real stack (Temporal dev
server, the real worker): each with the contact in force in its party's directory workflow on
the day (Rule 180: a notified or agreed change applies to future requests), each checked for
completeness (seed para 11; RS 96(2)) and transmitted incomplete only on a named person's
recorded override; and the Court may add a further request to a party already in the case,
naming the request it supplements (RS 96(2), 93(1)(k)), from the command line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from temporalio.service import RPCError, RPCStatusCode

from schemas.case import CaseOrder
from schemas.directory import AgreedContactChange, party_workflow_id
from tests.builders import case_number, court_request, reference
from tests.tracefreeze.directory_support import directory_file, recorded_contact, recorded_run
from tracefreeze.case_client import CaseClient
from tracefreeze.cli.main import main
from tracefreeze.client import IncompleteRequest, RequestClient
from tracefreeze.config import Settings
from tracefreeze.directory_client import PartyDirectoryClient
from tracefreeze.worker import run_worker

pytestmark = pytest.mark.stack

CODE = "QXC"
"""A party code no real party has (ISO 3166-1 user-assigned), this module's alone."""


@contextlib.asynccontextmanager
async def worker_and_cases(settings: Settings) -> AsyncIterator[tuple[CaseClient, list[str]]]:
    """A worker on the stack's task queue and a case client; the workflows the test lists are
    terminated at the end, and the worker stopped without a fault."""
    worker = asyncio.create_task(run_worker(settings))
    cases = await CaseClient.connect(settings)
    made: list[str] = []
    try:
        yield cases, made
    finally:
        for workflow_id in made:
            with contextlib.suppress(Exception):
                await cases.client.get_workflow_handle(workflow_id).terminate("test done")
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        assert worker.cancelled() or worker.exception() is None


async def test_a_case_request_takes_the_directory_contact_and_a_recorded_override(
    stack: Settings, tmp_path: Path
) -> None:
    """Rule 180: the party agreed a new channel and language before the case opened, so its
    request in the case goes with them; seed para 11: the incomplete one goes only with a
    named person's override, recorded with that request alone."""
    settings = stack.model_copy(update={"state_directory_file": directory_file(tmp_path, CODE)})
    case = case_number()
    nld = court_request(tag="CASE", case_number=case, requested_state="NLD")
    sparse = court_request(tag="CASE", case_number=case, requested_state=CODE, grounds="x")
    order = CaseOrder(order_reference=reference("ORDER"), case_number=case, requests=(nld, sparse))
    async with worker_and_cases(settings) as (cases, made):
        made += [party_workflow_id(CODE), order.workflow_id, nld.workflow_id, sparse.workflow_id]
        parties = PartyDirectoryClient(cases.client, settings)
        # The directory starts from states.toml when a request first asks for it.
        await RequestClient(cases.client, settings).policy_in_force(sparse)
        agreed = AgreedContactChange(
            event_id=str(uuid.uuid4()),
            decided_by="Registrar",
            decided_at=datetime.now(UTC),
            channel="central_authority",
            languages=("fr", "en"),
        )
        view = await parties.act(CODE, agreed)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while await parties.contact_in_force(CODE) != view.contact:  # the memo the client reads
            assert loop.time() < deadline, "the directory's memo never showed the change"
            await asyncio.sleep(0.1)

        with pytest.raises(IncompleteRequest) as refused:
            await cases.open_case(order)
        assert [f.field for f in refused.value.report.findings] == ["grounds"]
        with pytest.raises(RPCError) as gone:  # nothing left the Court
            await cases.client.get_workflow_handle(order.workflow_id).describe()
        assert gone.value.status is RPCStatusCode.NOT_FOUND

        await cases.open_case(
            order, override_by="Registrar", override_reason="Assets about to move"
        )
        for request in (nld, sparse):  # the case starts its requests as it runs
            deadline = loop.time() + 30
            while True:
                try:
                    await cases.client.get_workflow_handle(request.workflow_id).describe()
                    break
                except RPCError:
                    assert loop.time() < deadline, f"{request.workflow_id} never started"
                    await asyncio.sleep(0.1)
        contact = await recorded_contact(cases.client, sparse.workflow_id)
        assert (contact.channel, contact.language) == ("central_authority", "fr")
        overridden = (await recorded_run(cases.client, sparse.workflow_id)).completeness_override
        assert overridden is not None and overridden.by == "Registrar"
        assert [f.field for f in overridden.findings] == ["grounds"]
        assert (await recorded_run(cases.client, nld.workflow_id)).completeness_override is None


async def test_the_court_adds_a_further_request_to_a_party_from_the_command_line(
    stack: Settings, tmp_path: Path
) -> None:
    """`tracefreeze case add`: a further request to NLD that names no request of NLD in the
    case is refused; one that names the first (``supplements``) is transmitted, and the case
    shows both (RS 96(2), 93(1)(k))."""
    case = case_number()
    first = court_request(tag="CASE", case_number=case, requested_state="NLD")
    order = CaseOrder(order_reference=reference("ORDER"), case_number=case, requests=(first,))
    further = court_request(tag="CASE", case_number=case, requested_state="NLD")
    unlinked_file, linked_file = tmp_path / "unlinked.json", tmp_path / "further.json"
    unlinked_file.write_text(further.model_dump_json(), encoding="utf-8")
    linked = further.model_copy(update={"supplements": first.reference})
    linked_file.write_text(linked.model_dump_json(), encoding="utf-8")

    async def cli(*args: str) -> tuple[int, str]:
        result = await asyncio.to_thread(CliRunner().invoke, main, ["case", *args])
        return result.exit_code, result.output

    async with worker_and_cases(stack) as (cases, made):
        made += [order.workflow_id, first.workflow_id, further.workflow_id]
        order_file = tmp_path / "order.json"
        order_file.write_text(json.dumps(order.model_dump(mode="json")), encoding="utf-8")
        code, output = await cli("open", str(order_file))
        assert code == 0, output
        code, output = await cli(
            "add", order.order_reference, str(unlinked_file), "--by", "Pre-Trial Chamber II"
        )
        assert code != 0 and "names the one it supplements" in output, output
        code, output = await cli(
            "add", order.order_reference, str(linked_file), "--by", "Pre-Trial Chamber II"
        )
        assert code == 0, output
        assert f"transmitted {further.reference} to NLD" in output
        view = await cases.case_view(order.order_reference)
        assert set(view.requests) == {f"{first.reference}/NLD", f"{further.reference}/NLD"}
        code, output = await cli("status", order.order_reference)
        assert code == 0 and first.reference in output and further.reference in output, output
