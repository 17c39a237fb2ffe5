"""Builders and test doubles shared by the workflow tests and the history recorder.

Answers are built from the committed example documents (schemas/examples) with fresh event
ids, so every test exercises the same shapes the States are told to send.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import typing
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from schemas.answers import (
    Acknowledgement,
    AnswerBase,
    AssetManagementUpdate,
    Consultation,
    Denial,
    DomesticChallenge,
    ExecutionReport,
    FreezeLimitProposal,
    NoAssetsReport,
    Postponement,
    StateAnswer,
    ThirdPartyClaim,
)
from schemas.court import CloseRequest, CourtAction
from schemas.escalations import EscalationEvent
from schemas.events import RequestEvent
from schemas.outbox import PUBLISH_OUTBOX, PublishOutbox
from schemas.request import CourtRequest
from schemas.views import AnswerReceipt, RequestView
from tracefreeze import client as court_client
from workflows import catalog
from workflows import search_attributes as sa
from workflows.carry import RequestRun
from workflows.request import RequestWorkflow

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
HISTORIES = Path(__file__).resolve().parent / "histories"
WAIT_SECONDS = 10.0
"""How long helpers wait for the workflow to publish or settle before failing the test."""

ACCOUNT = "a-account-1"  # bank_account, EUR 412,500 estimated
APARTMENT = "a-apartment-1"  # real_estate, EUR 875,000 estimated
SHARES = "a-shares-1"  # company_shares, no estimated value
VESSEL = "a-vessel-1"  # vessel, identified by the State in execution-report.json


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def new_event_id() -> str:
    return str(uuid.uuid4())


def court_request(**overrides: Any) -> CourtRequest:
    """The example request (identify, trace, freeze in NLD) under a fresh reference."""
    data = example("court-request")
    data["reference"] = f"ICC-01/22-REQ-{uuid.uuid4().hex[:10].upper()}"
    data.update(overrides)
    return CourtRequest.model_validate(data)


def _answer(name: str, request: CourtRequest, overrides: dict[str, Any]) -> dict[str, Any]:
    data = example(name)
    data["event_id"] = new_event_id()
    data["request_reference"] = request.reference
    data["state"] = request.requested_state
    data.update(overrides)
    return data


def acknowledgement(request: CourtRequest, **overrides: Any) -> Acknowledgement:
    return Acknowledgement.model_validate(_answer("acknowledgement", request, overrides))


def example_results() -> list[dict[str, Any]]:
    """The three results of execution-report.json: account and apartment frozen, vessel new."""
    return example("execution-report")["results"]


def result(asset_id: str, *measures: str, **fields: Any) -> dict[str, Any]:
    """One asset result; ``value=("123.00", "EUR")`` is accepted as a shorthand."""
    value = fields.pop("value", None)
    if isinstance(value, tuple):
        value = {"amount": value[0], "currency": value[1]}
    return {"asset_id": asset_id, "measures_executed": list(measures), "value": value, **fields}


def execution_report(
    request: CourtRequest,
    results: list[dict[str, Any]] | None = None,
    *,
    final: bool = False,
    **overrides: Any,
) -> ExecutionReport:
    data = _answer("execution-report", request, overrides)
    data["final"] = final
    data["results"] = example_results() if results is None else results
    return ExecutionReport.model_validate(data)


def no_assets(request: CourtRequest, **overrides: Any) -> NoAssetsReport:
    return NoAssetsReport.model_validate(_answer("no-assets", request, overrides))


def close_action(**overrides: Any) -> CloseRequest:
    data = example("close-request")
    data["event_id"] = new_event_id()
    data.update(overrides)
    return CloseRequest.model_validate(data)


def vessel_asset(**overrides: Any) -> dict[str, Any]:
    """The vessel description the State gives in execution-report.json."""
    asset = dict(next(r for r in example_results() if r["asset_id"] == VESSEL)["asset"])
    asset.update(overrides)
    return asset


# --- Builders for the other State answers and for Court actions ----------------------------

SENT_AT = "2026-04-01T10:00:00+02:00"
"""When the builders' State answers are sent (a freeze limit must end after it)."""
DECIDED_AT = "2026-05-01T10:00:00+02:00"
"""When the builders' Court actions are decided."""
CLAIMANT = "Henrietta Quillfeather-Osei"
"""The bona fide third party of the builders' claims: a name no event may carry."""

AnswerT = TypeVar("AnswerT", bound=AnswerBase)
ActionT = TypeVar("ActionT", bound=CourtAction)


def state_answer(cls: type[AnswerT], request: CourtRequest, **fields: Any) -> AnswerT:
    """A State answer of type ``cls`` to ``request``, from its State, with a fresh event id."""
    data = {
        "event_id": new_event_id(),
        "request_reference": request.reference,
        "state": request.requested_state,
        "sent_at": SENT_AT,
        **fields,
    }
    return cls.model_validate(data)


def money(amount: str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def consultation(request: CourtRequest, ground: str = "RS 97(a)", **fields: Any) -> Consultation:
    fields.setdefault("details", "The land register entry cannot be matched to the owner given.")
    return state_answer(Consultation, request, ground=ground, **fields)


def postponement(
    request: CourtRequest,
    ground: str = "RS 94",
    proposed_until: str | None = "2026-09-30T00:00:00+02:00",
    **fields: Any,
) -> Postponement:
    fields.setdefault("reasons", "Execution now would interfere with a domestic investigation.")
    if ground == "RS 94" or proposed_until is None:
        fields["proposed_until"] = proposed_until
    return state_answer(Postponement, request, ground=ground, **fields)


def denial(request: CourtRequest, **fields: Any) -> Denial:
    fields.setdefault(
        "reasons",
        "Disclosure of the account records would prejudice national security (RS 93(4)).",
    )
    return state_answer(Denial, request, **fields)


def third_party_claim(
    request: CourtRequest, asset_id: str, claim_id: str = "claim-1", **fields: Any
) -> ThirdPartyClaim:
    fields.setdefault("claimant", CLAIMANT)
    fields.setdefault("basis", "Bought the apartment in good faith before the warrant issued.")
    return state_answer(ThirdPartyClaim, request, asset_id=asset_id, claim_id=claim_id, **fields)


def domestic_challenge(
    request: CourtRequest,
    asset_id: str,
    challenge_id: str = "challenge-1",
    outcome: str = "lodged",
    **fields: Any,
) -> DomesticChallenge:
    fields.setdefault("forum", "District Court of Amsterdam")
    return state_answer(
        DomesticChallenge,
        request,
        asset_id=asset_id,
        challenge_id=challenge_id,
        outcome=outcome,
        **fields,
    )


def asset_management(
    request: CourtRequest,
    asset_id: str,
    amount: str,
    currency: str = "EUR",
    kind: str = "valuation",
    **fields: Any,
) -> AssetManagementUpdate:
    fields.setdefault("asset_manager", "Asset Management Office, Ministry of Justice")
    return state_answer(
        AssetManagementUpdate,
        request,
        asset_id=asset_id,
        kind=kind,
        value=money(amount, currency),
        **fields,
    )


def freeze_limit(
    request: CourtRequest,
    *asset_ids: str,
    proposed_until: str = "2026-10-01T00:00:00+02:00",
    **fields: Any,
) -> FreezeLimitProposal:
    fields.setdefault("reasons", "National law limits a freeze without a conviction to one year.")
    return state_answer(
        FreezeLimitProposal,
        request,
        asset_ids=list(asset_ids),
        proposed_until=proposed_until,
        **fields,
    )


DECIDED_BY: dict[str, str] = {"Release": "pre_trial_chamber", "Allocation": "presidency"}
"""Actions whose deciding organ is an enum: a release is a Chamber's or the Presidency's
decision, an allocation the Presidency's (RS 109, Rules 217-221)."""


def court_action(cls: type[ActionT], **fields: Any) -> ActionT:
    """A Court action of type ``cls`` with a fresh event id, decided by a Chamber (by the
    Presidency for an allocation)."""
    data = {
        "event_id": new_event_id(),
        "decided_by": DECIDED_BY.get(cls.__name__, "Pre-Trial Chamber II"),
        "decided_at": DECIDED_AT,
        **fields,
    }
    return cls.model_validate(data)


def reasons(**fields: Any) -> dict[str, Any]:
    """``fields`` with a default ``reasons`` for the actions that require one."""
    return {"reasons": "As set out in the decision of the Chamber.", **fields}


def freeze_account(request: CourtRequest, *, final: bool = False, **fields: Any) -> ExecutionReport:
    """An RS 99 report: the account identified and frozen at EUR 398,214.37."""
    return execution_report(
        request,
        [result(ACCOUNT, "identify", "freeze", value=("398214.37", "EUR"))],
        final=final,
        **fields,
    )


# --- Test double for OUR publishing activity ---------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One event as the publishing activity was given it, with the topic it was for."""

    topic: str
    event: RequestEvent


@dataclass
class PublishRecorder:
    """Stands in for the Kafka publishing activity (a round of the outbox per call, run as a
    local activity) and records, in order, what it was given."""

    calls: list[Sent] = field(default_factory=list)
    escalations_sent: list[EscalationEvent] = field(default_factory=list)
    rounds: list[PublishOutbox] = field(default_factory=list)

    @activity.defn(name=PUBLISH_OUTBOX)
    async def publish_outbox(self, inp: PublishOutbox) -> None:
        self.rounds.append(inp)
        self.calls += [Sent(topic=inp.events_topic, event=e) for e in inp.events]
        self.escalations_sent += inp.escalations

    @property
    def activities(self) -> list[Any]:
        return [self.publish_outbox]

    def events(self, reference: str | None = None) -> list[RequestEvent]:
        return [c.event for c in self.calls if reference is None or c.event.subject == reference]

    def escalations(self, reference: str) -> list[EscalationEvent]:
        return [e for e in self.escalations_sent if e.subject == reference]


# --- Environment -------------------------------------------------------------------------


async def start_env() -> WorkflowEnvironment:
    """A time-skipping test server with the request's search attributes registered."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=shutil.which("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={k.name: k.indexed_value_type for k in sa.ALL},
        )
    )
    return env


async def start_request(
    client: Client, task_queue: str, request: CourtRequest, **input_fields: Any
) -> WorkflowHandle[RequestWorkflow, RequestView]:
    return await client.start_workflow(
        RequestWorkflow.run,
        RequestRun(request=request, **input_fields),
        id=request.workflow_id,
        task_queue=task_queue,
    )


def answer_class(answer_type: str) -> type[AnswerBase]:
    """The State-answer model whose ``answer_type`` is ``answer_type``."""
    union = typing.get_args(typing.get_args(StateAnswer)[0])
    return next(cls for cls in union if cls.model_fields["answer_type"].default == answer_type)


UPDATE_OF: dict[type[Any], str] = {kind.contract: kind.update for kind in catalog.CATALOG}
"""The update that takes each State answer or Court action."""


async def send(
    handle: WorkflowHandle[RequestWorkflow, RequestView],
    answer: AnswerBase | CourtAction,
    update_id: str | None = None,
) -> AnswerReceipt:
    """Send an answer or Court action as the update its type calls for; the update id is the
    event id unless given (as the intake does)."""
    return await court_client.send(handle, answer, update_id)


async def settle(handle: WorkflowHandle[Any, Any]) -> tuple[int, ...]:
    """Wait until every workflow task and every publish the workflow scheduled has finished;
    returns the types of the history events then, leaving out workflow tasks (the test server,
    unlike a real one, keeps the workflow task in which an update was rejected)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        types = [e.event_type async for e in handle.fetch_history_events()]
        tasks = types.count(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)
        activities = types.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        if tasks == sum(map(types.count, _TASK_DONE)) and activities == sum(
            map(types.count, _ACTIVITY_DONE)
        ):
            return tuple(t for t in types if t not in _WORKFLOW_TASK)
        if loop.time() > deadline:
            raise AssertionError(f"workflow did not settle: last events {types[-5:]}")
        await asyncio.sleep(0.02)


_TASK_DONE = (
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
)
_ACTIVITY_DONE = (
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
)
_WORKFLOW_TASK = (
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    *_TASK_DONE,
)
UPDATE_EVENTS = (
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
)
"""What the history gains when a duplicate answer is answered with a receipt, and nothing else."""


@dataclass(frozen=True)
class Snapshot:
    """What a rejected or duplicate answer must leave untouched."""

    view: RequestView
    history: tuple[int, ...]  # event types other than workflow tasks
    events_published: int


async def snapshot(
    handle: WorkflowHandle[RequestWorkflow, RequestView], recorder: PublishRecorder
) -> Snapshot:
    history = await settle(handle)
    view = await handle.query(RequestWorkflow.view)
    return Snapshot(view, history, len(recorder.events(view.reference)))


async def visibility(handle: WorkflowHandle[Any, Any]) -> tuple[str | None, float | None]:
    """(RequestStatus, FrozenValueEUR) as the server holds them for the workflow."""
    attrs = (await handle.describe()).typed_search_attributes
    return attrs.get(sa.REQUEST_STATUS), attrs.get(sa.FROZEN_VALUE_EUR)


async def wait_for_events(
    recorder: PublishRecorder, reference: str, count: int
) -> list[RequestEvent]:
    """The events published for ``reference`` once there are at least ``count`` of them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while len(recorder.events(reference)) < count:
        if loop.time() > deadline:
            got = [e.type.value for e in recorder.events(reference)]
            raise AssertionError(f"expected {count} events for {reference}, got {got}")
        await asyncio.sleep(0.02)
    return recorder.events(reference)


async def assert_rejected(
    handle: WorkflowHandle[RequestWorkflow, RequestView],
    recorder: PublishRecorder,
    answer: AnswerBase | CourtAction,
    fragment: str,
) -> None:
    """The update is rejected by its validator with a reason containing ``fragment``, and
    nothing is written: same view, same history (workflow tasks aside), nothing published."""
    before = await snapshot(handle, recorder)
    try:
        await send(handle, answer)
    except WorkflowUpdateFailedError as rejected:
        cause = rejected.cause
        assert isinstance(cause, ApplicationError), cause
        assert cause.type == "AnswerRejected", cause
        assert fragment in cause.message, cause.message
    else:
        raise AssertionError(f"{type(answer).__name__} {answer.event_id} was accepted")
    assert await snapshot(handle, recorder) == before


async def published_since(
    handle: WorkflowHandle[RequestWorkflow, RequestView], recorder: PublishRecorder, count: int
) -> list[RequestEvent]:
    """The events published for the request after the first ``count``, once it has settled."""
    await settle(handle)
    reference = (await handle.query(RequestWorkflow.view)).reference
    return recorder.events(reference)[count:]


async def published_count(
    handle: WorkflowHandle[RequestWorkflow, RequestView], recorder: PublishRecorder
) -> int:
    """How many events the request has published once it has settled (for published_since)."""
    await settle(handle)
    reference = (await handle.query(RequestWorkflow.view)).reference
    return len(recorder.events(reference))
