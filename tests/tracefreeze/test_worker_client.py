"""Worker and typed client against the real stack: start, visibility, event, view, no reopen."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from schemas.events import RequestEventType
from schemas.ledger import RequestStatus
from tests.builders import case_number, court_request
from tests.tracefreeze.e2e import wait_for_transmitted_event
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.worker import run_worker
from workflows import search_attributes as sa

pytestmark = pytest.mark.stack

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "court-request.json"


async def test_submit_runs_on_the_worker(stack: Settings) -> None:
    worker = asyncio.create_task(run_worker(stack))
    request = court_request(tag="TEST", case_number=case_number())
    client = await RequestClient.connect(stack)
    try:
        workflow_id = await client.submit(request)
        assert workflow_id == f"request/{request.reference}/NLD"

        event = await wait_for_transmitted_event(stack, request.reference)
        assert event.type is RequestEventType.TRANSMITTED
        assert event.case_number == request.case_number

        query = f'CaseNumber = "{request.case_number}"'
        found = None
        async with asyncio.timeout(30):
            while found is None:
                async for wf in client.client.list_workflows(query):
                    if wf.id == workflow_id:
                        found = wf
                await asyncio.sleep(0.2)
        attrs = found.typed_search_attributes
        assert attrs.get(sa.REQUEST_STATUS) == "transmitted"
        assert attrs.get(sa.REQUESTED_STATE) == "NLD"
        assert attrs.get(sa.MEASURES) == ["identify", "trace", "freeze"]

        assert await client.resolve(request.reference) == workflow_id
        view = await client.view(request.reference, "NLD")
        assert view.status is RequestStatus.TRANSMITTED
        assert set(view.ledger.entries) == {a.asset_id for a in request.known_assets}

        with pytest.raises(TracefreezeError, match="already exists"):
            await client.submit(request)
    finally:
        with contextlib.suppress(Exception):
            await client.client.get_workflow_handle(request.workflow_id).terminate("test done")
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    assert worker.cancelled() or worker.exception() is None
