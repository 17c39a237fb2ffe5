"""The party directory on the real stack (Temporal dev server, the real worker): a request
records the contact in force in its party's directory workflow on the day it is transmitted
(Rule 180(2): a change, here at the time agreed with the party, applies to future requests;
the request transmitted before keeps its channel and language)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.directory import AgreedContactChange, PartyContact, party_workflow_id
from schemas.policy import StateContact
from tests.builders import case_number, court_request
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.directory_client import PartyDirectoryClient
from tracefreeze.policy import DEFAULT_DIRECTORY, load_directory
from tracefreeze.worker import run_worker
from workflows.carry import RequestRun

pytestmark = pytest.mark.stack

CODE = "QZS"
"""A party code no real party has (ISO 3166-1 leaves QM-QZ to users), this test's alone."""


def directory_file(tmp_path: Path) -> Path:
    """The static directory with its NLD entry copied under ``CODE``."""
    text = DEFAULT_DIRECTORY.read_text(encoding="utf-8")
    nld = text[text.index("[states.NLD]") :]
    nld = nld[: nld.index("[states.", 1)]
    path = tmp_path / "states.toml"
    path.write_text(text + nld.replace("states.NLD", f"states.{CODE}"), encoding="utf-8")
    assert CODE in load_directory(path).states
    return path


async def recorded_contact(client: RequestClient, workflow_id: str) -> StateContact:
    history = await client.client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [run] = await client.client.data_converter.decode(started.input.payloads, [RequestRun])
    assert run.policy is not None and run.policy.contact is not None
    return run.policy.contact


async def memo_shows(parties: PartyDirectoryClient, contact: PartyContact) -> None:
    """Until the directory's memo (what the client reads, written by the worker) shows it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while True:
        if await parties.contact_in_force(CODE) == contact:
            return
        if loop.time() > deadline:
            raise AssertionError(f"the directory of {CODE} never showed {contact}")
        await asyncio.sleep(0.1)


async def test_submit_takes_the_contact_in_force_in_the_party_directory(
    stack: Settings, tmp_path: Path
) -> None:
    settings = stack.model_copy(update={"state_directory_file": directory_file(tmp_path)})
    worker = asyncio.create_task(run_worker(settings))
    client = await RequestClient.connect(settings)
    parties = PartyDirectoryClient(client.client, settings)
    first = court_request(tag="TEST", case_number=case_number(), requested_state=CODE)
    second = court_request(tag="TEST", case_number=case_number(), requested_state=CODE)
    started = [party_workflow_id(CODE)]
    try:
        started.append(await client.submit(first))  # the directory starts from states.toml
        kept = await recorded_contact(client, started[-1])
        assert (kept.channel, kept.language) == ("diplomatic", "en")

        agreed = AgreedContactChange(
            event_id=str(uuid.uuid4()),
            decided_by="Registrar",
            decided_at=datetime.now(UTC),
            channel="central_authority",
            languages=("fr", "en"),
        )
        view = await parties.act(CODE, agreed)  # agreed: in force from now (Rule 180(2))
        assert (view.contact.channel, view.contact.languages) == ("central_authority", ("fr", "en"))
        await memo_shows(parties, view.contact)

        started.append(await client.submit(second))
        new = await recorded_contact(client, started[-1])
        assert (new.channel, new.language) == ("central_authority", "fr")
        assert await recorded_contact(client, started[1]) == kept  # the first keeps its own
    finally:
        for workflow_id in started:
            with contextlib.suppress(Exception):
                await client.client.get_workflow_handle(workflow_id).terminate("test done")
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    assert worker.cancelled() or worker.exception() is None
