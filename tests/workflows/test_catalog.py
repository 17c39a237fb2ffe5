"""The catalog (workflows/catalog.py) is the one place a kind of State answer or Court action
is declared: every table derived from it covers exactly the catalog, so an entry cannot be
forgotten anywhere (docs/adding-an-answer.md), and a catalog that is not whole does not import.
"""

from __future__ import annotations

import json
import re
import typing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from schemas.answers import StateAnswer
from schemas.court import COURT_ACTION, CourtActionMessage
from schemas.directory import PartyView
from schemas.ledger import RequestStatus as S
from schemas.organ_keys import REFRESH_ORGAN_KEYS
from schemas.views import AnswerReceipt
from tests.builders import no_assets, to
from tests.workflows.support import court_request, settle, view
from tracefreeze.cli.court import ACTION_MODELS
from tracefreeze.client import COURT_UPDATES
from tracefreeze.intake.routing import UPDATES
from workflows import catalog
from workflows import state_machine as sm
from workflows.declared_updates import declare_updates
from workflows.party_catalog import PARTY_ACTIONS
from workflows.party_directory import PartyDirectoryWorkflow
from workflows.request import RequestWorkflow

ROOT = Path(__file__).resolve().parents[2]
STATE = [kind for kind in catalog.CATALOG if kind.party == "state"]
COURT = [kind for kind in catalog.CATALOG if kind.party == "court"]


def members(union: object) -> set[type]:
    return set(typing.get_args(typing.get_args(union)[0]))


def test_every_derived_table_covers_exactly_the_catalog() -> None:
    names = {kind.name for kind in catalog.CATALOG}
    assert set(sm.TRANSITIONS) == names
    assert set(catalog.RULES) == names
    assert UPDATES == {kind.name: kind.update for kind in STATE}  # the intake's routing
    assert COURT_UPDATES == {kind.contract: kind.update for kind in COURT}  # the client
    assert ACTION_MODELS == {kind.name: kind.contract for kind in COURT}  # the CLI
    assert members(StateAnswer) == {kind.contract for kind in STATE}  # JSON Schema, AsyncAPI
    assert members(CourtActionMessage) == {kind.contract for kind in COURT}
    published = json.loads((ROOT / "schemas/json/court-action.schema.json").read_text())
    assert set(published["discriminator"]["mapping"]) == {kind.name for kind in COURT}


def test_the_state_machine_diagram_names_every_kind_that_moves_a_request() -> None:
    diagram = sm.mermaid()
    for kind in catalog.CATALOG:
        moves = any(t not in {s} for s in kind.allowed for t in kind.leads_to)
        assert (f": {kind.name}\n" in diagram) is moves, kind.name


async def test_the_running_workflow_takes_exactly_the_catalog_s_updates(worker) -> None:
    """Each entry's update is declared on the class under its name, beside the batch and the
    refresh of the organ keys registered at start (``workflows/request_keys.py``); nothing
    else is."""
    handle = await worker.start(court_request())
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    registered = {update.name for update in metadata.definition.update_definitions}
    others = {catalog.BATCH_UPDATE, REFRESH_ORGAN_KEYS}
    assert registered == {kind.update for kind in catalog.CATALOG} | others


def test_a_catalog_missing_a_contract_does_not_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """A contract in the StateAnswer union with no catalog entry is refused by the check the
    module runs at import."""
    monkeypatch.setattr(catalog, "CATALOG", catalog.CATALOG[1:])
    with pytest.raises(
        ValueError, match=re.escape("contracts and catalog differ: {'Acknowledgement'}")
    ):
        catalog._check()


def test_a_kind_declared_twice_does_not_import(monkeypatch: pytest.MonkeyPatch) -> None:
    twice = (*catalog.CATALOG, catalog.CATALOG[0])
    monkeypatch.setattr(catalog, "CATALOG", twice)
    with pytest.raises(ValueError, match="declared twice"):
        catalog._check()


def test_a_kind_whose_contract_is_another_kind_does_not_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second, *rest = catalog.CATALOG
    swapped = (
        replace(first, contract=second.contract),
        replace(second, contract=first.contract),
        *rest,
    )
    monkeypatch.setattr(catalog, "CATALOG", swapped)
    with pytest.raises(ValueError, match="is not of kind 'acknowledgement'"):
        catalog._check()


@pytest.mark.parametrize("kind", COURT, ids=[k.name for k in COURT])
def test_a_court_action_is_told_apart_by_its_action_type(kind: catalog.Kind) -> None:
    """Court actions carry a discriminator as answers do: the JSON alone names the contract."""
    assert kind.contract.model_fields["action_type"].default == kind.name
    with pytest.raises(ValueError, match="action_type"):
        COURT_ACTION.validate_python({"event_id": "x"})


def test_update_of_names_the_update_of_a_message_s_type() -> None:
    action = COURT_ACTION.validate_json((ROOT / "schemas/examples/court-action.json").read_text())
    assert catalog.update_of(action) == "decide_postponement"
    with pytest.raises(TypeError, match="neither a State answer nor a Court action"):
        catalog.update_of(court_request())


def test_the_cli_takes_the_kind_from_the_file_or_from_its_argument(tmp_path: Path) -> None:
    """``tracefreeze act REQUEST ACTION FILE`` still works with a file that names no kind; a
    file that names its kind is read as that kind, and one that names another is refused."""
    from tracefreeze.cli.court import court_action

    doc = json.loads((ROOT / "schemas/examples/court-action.json").read_text())
    named, unnamed = tmp_path / "named.json", tmp_path / "unnamed.json"
    named.write_text(json.dumps(doc))
    unnamed.write_text(json.dumps({k: v for k, v in doc.items() if k != "action_type"}))
    assert court_action(named, "postponement_decision") == court_action(
        unnamed, "postponement_decision"
    )
    with pytest.raises(SystemExit) as refused:
        court_action(named, "withdrawal")
    assert refused.value.code == 2


@pytest.mark.parametrize(
    ("workflow_class", "kinds", "returns", "takes", "checks"),
    [
        (RequestWorkflow, catalog.CATALOG, AnswerReceipt, "_take_one", "_validate"),
        (PartyDirectoryWorkflow, PARTY_ACTIONS, PartyView, "_take", "_check"),
    ],
)
def test_each_kind_s_update_is_declared_on_the_class_with_its_contract_and_validator(
    workflow_class: type, kinds: tuple[Any, ...], returns: type, takes: str, checks: str
) -> None:
    """Declared once on the class (``workflows/declared_updates.py``), read once per worker:
    each kind's update decodes exactly its contract, and has the validator that applies its
    rule before anything is written; each hands on the message and its own kind (never the last
    kind of the loop that made them), the validator to the check, the handler to the take."""
    updates = workflow._Definition.must_from_class(workflow_class).updates

    class StandIn:
        """Records what each update's validator and handler hand on, and with which kind."""

        calls: list[tuple[str, Any, Any]] = []

        def __getattr__(self, name: str) -> Any:
            return lambda m, kind: self.calls.append((name, m, kind)) or name

    for kind in kinds:
        update = updates[kind.update]
        assert update.arg_types == [kind.contract], kind.update
        assert update.ret_type is returns, kind.update
        assert update.validator is not None, kind.update
        stand_in, message = StandIn(), object()
        update.bind_validator(stand_in)(message)
        update.bind_fn(stand_in)(message)
        (check, m1, kind1), (take, m2, kind2) = stand_in.calls[-2:]
        assert (check, take) == (checks, takes), kind.update
        assert m1 is m2 is message and kind1 is kind2 is kind, kind.update


def test_updates_are_declared_only_on_a_class_that_can_take_them() -> None:
    """A class without the method an update would call, declared above ``@workflow.defn``
    (where the SDK would never read them) or declared twice does not import, rather than
    fail the first answer of that kind."""
    declare = declare_updates(catalog.CATALOG, AnswerReceipt, take="_take_one", check="_validate")

    class NoTake:
        def _validate(self, m: Any, kind: Any) -> None: ...

    with pytest.raises(TypeError, match="no method _take_one"):
        declare(NoTake)
    with pytest.raises(TypeError, match=r"beneath @workflow\.defn"):
        declare(RequestWorkflow)  # already defined: declaring again would be above it

    class Twice:
        def _take_one(self, m: Any, kind: Any) -> None: ...
        def _validate(self, m: Any, kind: Any) -> None: ...

    declare(Twice)
    with pytest.raises(TypeError, match="declared twice"):
        declare(Twice)


async def test_an_answer_sent_under_another_kind_s_update_is_refused_and_nothing_written(
    worker,
) -> None:
    """A State's no-assets report sent as ``acknowledge`` is not an acknowledgement: it is
    refused when decoded as the update's contract, and the request is as it was (RS 96(1):
    the request is taken as the State sent it, under its own name)."""
    request = court_request()
    handle = await worker.start(request)
    await settle(handle)
    before = await view(handle)
    report = no_assets(to(request.reference))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("acknowledge", report, id=report.event_id)
    cause = refused.value.cause  # refused while decoding, before the validator read it
    assert isinstance(cause, ApplicationError), cause
    assert "Failed decoding arguments" in cause.message, cause.message
    after = await view(handle)
    assert after.status == before.status == S.TRANSMITTED
    assert after.timeline == before.timeline
    assert after.answers_seen == before.answers_seen
