"""Ex parte requests (Rule 99(2)) show nothing to Temporal's users (issue 11, §6): their
workflow id is opaque (an HMAC of reference and State under the Court's request-id key) and
their search attributes carry no case, State, measure or value — yet the Court's client finds
them by reference and the bridge's delivery routes a State's answer to them. On the
time-skipping test server, with the real client and the bridge's delivery function."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from schemas import court as c
from schemas.directory import party_workflow_id
from schemas.request import CourtRequest, opaque_request_workflow_id
from tests.workflows.stopping import end
from tests.workflows.support import (
    acknowledgement,
    court_action,
    court_request,
    freeze_account,
    own_env,
    reasons,
    settle,
)
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.intake.delivery import Accepted, deliver
from tracefreeze.intake.routing import route
from tracefreeze.security.request_ids import KEY_ENV, request_id_key
from workflows import search_attributes as sa

KEY = bytes(range(32))


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of this module alone: each test's submit starts NLD's party
    directory under the same workflow id, and it is ended with the test (``court``)."""
    async with own_env() as env:
        yield env


@pytest.fixture
async def court(
    worker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RequestClient]:
    monkeypatch.setenv(KEY_ENV, base64.b64encode(KEY).decode())
    settings = Settings(task_queue=worker.task_queue, state_dir=tmp_path)
    yield RequestClient(worker.client, settings)
    # submit started NLD's directory on this test's queue: no worker takes it after the test,
    # and the time-skipping server never skips past a workflow task nobody takes.
    await end([worker.client.get_workflow_handle(party_workflow_id("NLD"))])


def ex_parte() -> CourtRequest:
    return court_request(confidentiality="ex_parte")


async def test_an_ex_parte_request_runs_under_an_opaque_id(court: RequestClient) -> None:
    req = ex_parte()
    workflow_id = await court.submit(req)
    assert workflow_id == opaque_request_workflow_id(req.reference, "NLD", KEY)
    assert workflow_id.startswith("request/x") and len(workflow_id) == len("request/x") + 32
    for revealing in (req.reference, req.case_number, "NLD", req.reference.rsplit("-", 1)[1]):
        assert revealing not in workflow_id
    # Another key derives another id: without the key the id cannot be recomputed.
    assert opaque_request_workflow_id(req.reference, "NLD", bytes(32)) != workflow_id


async def test_an_ex_parte_request_shows_no_case_state_measure_or_value(
    court: RequestClient,
) -> None:
    req = ex_parte()
    workflow_id = await court.submit(req)
    handle = court.client.get_workflow_handle(workflow_id)
    answer = acknowledgement(req)
    assert isinstance(await deliver(court.client, route(answer), 30.0), Accepted)
    assert isinstance(await deliver(court.client, route(freeze_account(req)), 30.0), Accepted)
    view = await court.view(req.reference, "NLD")
    assert view.totals["EUR"].frozen > 0  # the Court's own view has the values
    await settle(handle)  # shown after the round that publishes the answer's events
    description = await handle.describe()
    attrs = description.typed_search_attributes
    for key in sa.REVEALING:
        assert attrs.get(key) is None, key.name
    assert attrs.get(sa.REQUEST_STATUS) == "in_execution"
    assert req.ui_summary() == "Ex parte request (Rule 99(2))"  # what the UI lists


async def test_the_court_finds_an_ex_parte_request_by_reference(court: RequestClient) -> None:
    """``REF/STATE`` derives the id; ``REF`` alone, once visibility has no plain request with
    the reference, derives it for each State of the directory (``_ex_parte``: the test server
    has no visibility listing, so that step is called directly)."""
    req = ex_parte()
    workflow_id = await court.submit(req)
    assert await court._ex_parte(req.reference) == {workflow_id: "NLD"}
    assert await court._ex_parte("ICC-01/22-REQ-NONE") == {}
    assert await court.resolve(f"{req.reference}/NLD") == workflow_id
    assert (await court.progress(req.reference, "NLD")).status.value == "transmitted"
    receipt = await court.act(f"{req.reference}/NLD", court_action(c.Withdrawal, **reasons()))
    assert receipt.status.value == "withdrawn"


async def test_a_request_that_is_not_ex_parte_keeps_its_plain_id_and_attributes(
    court: RequestClient,
) -> None:
    req = court_request()
    workflow_id = await court.submit(req)
    assert workflow_id == f"request/{req.reference}/NLD"
    attrs = (await court.client.get_workflow_handle(workflow_id).describe()).typed_search_attributes
    assert attrs.get(sa.CASE_NUMBER) == req.case_number
    assert attrs.get(sa.REQUESTED_STATE) == "NLD"
    assert attrs.get(sa.MEASURES) == ["identify", "trace", "freeze"]


async def test_an_ex_parte_request_needs_the_key(
    worker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Locally the first submit makes the key file (0600) in the state dir; a key that is not
    base64 of at least 32 bytes is an error, never a weaker id."""
    monkeypatch.delenv(KEY_ENV, raising=False)
    court = RequestClient(worker.client, Settings(task_queue=worker.task_queue, state_dir=tmp_path))
    req = ex_parte()
    workflow_id = await court.submit(req)
    key = request_id_key(tmp_path)
    assert key is not None and len(key) == 32
    assert (tmp_path / "keys" / "request-id-key").stat().st_mode & 0o777 == 0o600
    assert workflow_id == opaque_request_workflow_id(req.reference, "NLD", key)
    monkeypatch.setenv(KEY_ENV, base64.b64encode(b"short").decode())
    with pytest.raises(Exception, match="fewer than 32"):
        request_id_key(tmp_path)
