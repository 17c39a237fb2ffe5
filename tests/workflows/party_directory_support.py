"""Shared by the party-directory tests (``test_party_directory_rule_180``,
``test_party_directory_consultations``): fresh party codes, a static directory with those
codes, and the Court's clients (requests and party directories) on the test worker's queue.

Each test uses parties of its own (codes no other test uses), with the static directory's
NLD entry copied under that code, so the directory workflows ``party/<code>`` of one test never
meet another's."""

from __future__ import annotations

import contextlib
import itertools
import string
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from schemas.directory import PartyView, party_workflow_id
from schemas.policy import StateContact
from schemas.request import CourtRequest
from tests.workflows.support import own_env, settle
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.directory_client import PartyDirectoryClient
from tracefreeze.policy import DEFAULT_DIRECTORY, load_directory
from workflows.carry import RequestRun

DAY = timedelta(days=1)
_CODES = ("Q" + "".join(p) for p in itertools.product(string.ascii_uppercase, repeat=2))
"""Party codes no real party has (ISO 3166-1 leaves QM-QZ to users) and no other test uses."""


def fresh_code() -> str:
    return next(_CODES)


def directory_file(tmp_path: Path, *codes: str) -> Path:
    """The static directory with its NLD entry copied under each of ``codes``."""
    text = DEFAULT_DIRECTORY.read_text(encoding="utf-8")
    nld = text[text.index("[states.NLD]") :]
    nld = nld[: nld.index("[states.", 1)]  # the NLD entry and its overrides
    path = tmp_path / "states.toml"
    path.write_text(text + "".join(nld.replace("states.NLD", f"states.{c}") for c in codes))
    assert set(codes) <= set(load_directory(path).states)
    return path


class Court:
    """The Court's clients (requests and party directories) on the test worker's queue; every
    workflow it starts is terminated at the end of the test."""

    def __init__(self, worker: Any, tmp_path: Path, *codes: str) -> None:
        self.worker = worker
        self.codes = codes
        self.settings = Settings(
            task_queue=worker.task_queue,
            state_dir=tmp_path,
            state_directory_file=directory_file(tmp_path, *codes),
        )
        self.requests = RequestClient(worker.client, self.settings)
        self.parties = PartyDirectoryClient(worker.client, self.settings)
        self.started: list[str] = [party_workflow_id(c) for c in codes]

    async def submit(self, request: CourtRequest) -> str:
        workflow_id = await self.requests.submit(request)
        self.started.append(workflow_id)
        await settle(self.handle(workflow_id))  # its start done (the organ keys read)
        return workflow_id

    def handle(self, workflow_id: str) -> WorkflowHandle[Any, Any]:
        return self.worker.client.get_workflow_handle(workflow_id)

    async def party(self, code: str) -> PartyView:
        """The directory once every request started here has sent what it forwards to it (a
        State's notice goes by a signal after the answer's update returns) and it took it."""
        directories = {party_workflow_id(c) for c in self.codes}
        for workflow_id in self.started:
            if workflow_id not in directories:
                await settle(self.handle(workflow_id))
        await settle(self.handle(party_workflow_id(code)))
        return await self.parties.view(code)

    async def contact_recorded(self, workflow_id: str) -> StateContact | None:
        """The contact the request recorded at transmission (its start input)."""
        history = await self.handle(workflow_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        [run] = pydantic_data_converter.payload_converter.from_payloads(
            started.input.payloads, [RequestRun]
        )
        assert run.policy is not None
        return run.policy.contact

    async def end(self) -> None:
        """A workflow left with a timer would fire it after the worker is gone, and the
        time-skipping server never skips past a workflow task nobody takes."""
        for workflow_id in self.started:
            with contextlib.suppress(RPCError):
                await self.handle(workflow_id).terminate("end of test")


async def server_of_each_test() -> AsyncIterator[WorkflowEnvironment]:
    """The ``env`` fixture of the party-directory tests: a time-skipping server of each test
    alone. Time skips only when no workflow task is outstanding, and the test server keeps the
    task in which an update was refused, so another test's workflow (or its refused update)
    could stop every sleep here."""
    async with own_env() as env:
        yield env


async def court_maker(worker: Any, tmp_path: Path) -> AsyncIterator[Callable[..., Court]]:
    """The ``courts`` fixture: makes a ``Court`` for some party codes, and ends every workflow
    each one started once the test is over."""
    made: list[Court] = []

    def make(*codes: str) -> Court:
        made.append(Court(worker, tmp_path, *codes))
        return made[-1]

    yield make
    for c in made:
        await c.end()


def court_fields(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "decided_by": "Registrar",
        "decided_at": datetime.now(UTC),
        **fields,
    }
