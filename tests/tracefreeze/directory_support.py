"""What the party-directory tests on the real stack share: a directory of their own parties,
and what a transmitted request recorded at its start."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client

from schemas.policy import StateContact
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
