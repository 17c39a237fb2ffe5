"""What the party-directory tests on the real stack share: a directory of their own parties,
and what a transmitted request recorded at its start."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import Client

from schemas.completeness import NationalRequirement as CheckedRequirement
from schemas.directory import CloseNationalLawConsultation, OpenNationalLawConsultation
from schemas.policy import StateContact
from tracefreeze.client import RequestClient
from tracefreeze.directory_client import PartyDirectoryClient
from tracefreeze.policy import DEFAULT_DIRECTORY, load_directory
from workflows.carry import RequestRun


def directory_file(tmp_path: Path, *codes: str) -> Path:
    """The static directory with its NLD entry copied under ``codes``: parties no other test
    has, so a change to their directory workflows touches no other test."""
    text = DEFAULT_DIRECTORY.read_text(encoding="utf-8")
    nld = text[text.index("[states.NLD]") :]
    nld = nld[: nld.index("[states.", 1)]
    path = tmp_path / "states.toml"
    copies = "".join(nld.replace("states.NLD", f"states.{code}") for code in codes)
    path.write_text(text + copies, encoding="utf-8")
    assert set(codes) <= set(load_directory(path).states)
    return path


async def recorded_run(client: Client, workflow_id: str) -> RequestRun:
    """The start input a request was transmitted with (its policy, contact, override)."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [run] = await client.data_converter.decode(started.input.payloads, [RequestRun])
    assert isinstance(run, RequestRun)
    return run


async def recorded_contact(client: Client, workflow_id: str) -> StateContact:
    """The party's contact a request was transmitted with (Rule 180)."""
    run = await recorded_run(client, workflow_id)
    assert run.policy is not None and run.policy.contact is not None
    return run.policy.contact


async def until_read(read: Callable[[], Awaitable[object]], expected: object, what: str) -> None:
    """Until ``read()`` gives ``expected`` (a directory's memo, written by the worker after
    the update: the client reads it, never a query), for at most 30 s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while await read() != expected:
        if loop.time() > deadline:
            raise AssertionError(f"{what} never showed {expected}")
        await asyncio.sleep(0.1)


async def wind_up(client: RequestClient, started: list[str], worker: asyncio.Task[None]) -> None:
    """End the test's requests and its worker; the worker stopped without a fault."""
    for workflow_id in started:
        with contextlib.suppress(Exception):
            await client.client.get_workflow_handle(workflow_id).terminate("test done")
    worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    assert worker.cancelled() or worker.exception() is None


async def consulted(parties: PartyDirectoryClient, code: str, advised: str) -> str:
    """A general RS 96(3) consultation of ``code`` closed with ``advised`` supplied; its id."""

    def court(**fields: object) -> dict[str, object]:
        return {
            "event_id": str(uuid.uuid4()),
            "decided_by": "Registrar",
            "decided_at": datetime.now(UTC),
            **fields,
        }

    opened = OpenNationalLawConsultation(**court(questions="What must a freeze request contain?"))
    await parties.act(code, opened)
    closed = CloseNationalLawConsultation(
        **court(
            consultation_id=opened.event_id,
            outcome="information_supplied",
            replied_by="state",
            requirements=(advised,),
        )
    )
    view = await parties.act(code, closed)
    assert [r.text for r in view.national_requirements] == [advised]
    return opened.event_id


async def memo_lists(
    parties: PartyDirectoryClient, code: str, expected: list[CheckedRequirement]
) -> None:
    """Until the directory's memo lists them."""
    await until_read(
        lambda: parties.requirements_in_force(code), expected, f"the directory of {code}"
    )
