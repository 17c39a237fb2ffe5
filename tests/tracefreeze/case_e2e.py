"""What the case tests on the real stack share: a fresh two-State order, a bounded wait,
an answer sent over Kafka as a State's system sends it, an answer or Court action taken
straight by the request (as the intake delivers it), and Belgium's flood of valuations."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from temporalio.client import Client

from schemas import court as c
from schemas.answers import (
    AnswerBase,
    AssetManagementUpdate,
    ExecutionReport,
)
from schemas.case import CaseOrder
from schemas.common import Money
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from tests.builders import (
    acknowledgement,
    asset_management,
    execution_report,
    no_assets,
    now,
    result,
)
from tests.signed import signed_record
from tests.tracefreeze.e2e import Running
from tests.workflows.support import UPDATE_OF
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.security.organ_keys import signed
from workflows.request_publishing import PARENT_REPORT_INTERVAL

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "case-order.json"
WAIT_S = 30.0
T = TypeVar("T")


def fresh_order(settings: Settings | None = None) -> CaseOrder:
    """The example two-State order under references no other run used (publishing to the
    topics of ``settings``, the worker's, if given: the worker sends only to its own)."""
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    if settings is not None:
        doc["events_topic"] = settings.topics.request_events
        doc["escalations_topic"] = settings.topics.escalations
    tag = uuid.uuid4().hex[:10].upper()
    doc["order_reference"] = f"{doc['order_reference']}-{tag}"
    for request in doc["requests"]:
        request["reference"] = f"{request['reference']}-{tag}"
    return CaseOrder.model_validate(doc)


async def until(probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], what: str) -> T:
    """Poll ``probe`` until ``ok``; an unknown workflow counts as not yet."""
    last: T | None = None
    try:
        async with asyncio.timeout(WAIT_S):
            while True:
                try:
                    last = await probe()
                except TracefreezeError:
                    last = None
                if last is not None and ok(last):
                    return last
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}; last seen: {last!r}") from None


async def answer(r: Running, message: AnswerBase) -> None:
    """A State's system sends one answer: signed JSON, keyed by the request reference."""
    value, headers = signed_record(message, r.settings.state_dir)
    await r.producer.send_and_wait(
        r.settings.topics.state_answers,
        value=value,
        key=message.request_reference.encode(),
        headers=headers,
    )


def eur(amount: Decimal) -> Money:
    return Money(amount=amount, currency="EUR")


def bel_freeze(bel: CourtRequest) -> ExecutionReport:
    """Belgium identifies and freezes one account (EUR 50,000)."""
    frozen = result(
        "a-account-be-1",
        "identify",
        "freeze",
        value=("50000.00", "EUR"),
        executing_authority="Federal Public Service Justice",
    )
    return execution_report(bel, [frozen], sent_at=now())


def valuation(bel: CourtRequest, n: int) -> AssetManagementUpdate:
    """The ``n``-th valuation of Belgium's frozen account."""
    return asset_management(
        bel,
        "a-account-be-1",
        f"{50_000 + n}.50",
        asset_manager="Central Office for Seizure and Confiscation",
        sent_at=now(),
    )


async def take(client: Client, request: CourtRequest, answer: AnswerBase | c.CourtAction) -> None:
    """An answer or Court action straight to the request, as the intake delivers it."""
    handle = client.get_workflow_handle(request.workflow_id)
    if isinstance(answer, c.CourtAction):  # signed by its organ, as the Court's client sends it
        answer = signed(answer, request.workflow_id)
    await handle.execute_update(UPDATE_OF[type(answer)], answer, id=answer.event_id)


async def flood(client: Client, request: CourtRequest, count: int, streams: int = 8) -> None:
    """``count`` valuations to one request, ``streams`` at a time."""
    pending = iter(range(count))

    async def stream() -> None:
        for n in pending:
            await take(client, request, valuation(request, n))

    await asyncio.gather(*(stream() for _ in range(streams)))


async def case_runs(client: Client, workflow_id: str) -> list[tuple[int, int]]:
    """(history bytes, events) of every run of a workflow, oldest first, as the server
    counts them (walked back from the latest run through each run's predecessor)."""
    out: list[tuple[int, int]] = []
    run_id: str | None = (await client.get_workflow_handle(workflow_id).describe()).run_id
    while run_id:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        info = (await handle.describe()).raw_description.workflow_execution_info
        out.append((info.history_size_bytes, info.history_length))
        first = await anext(aiter(handle.fetch_history_events()))
        run_id = first.workflow_execution_started_event_attributes.continued_execution_run_id
        run_id = run_id or None
    return out[::-1]


async def started_and_bel_frozen(r: Running, order: CaseOrder) -> None:
    """Both requests of the case started; Belgium acknowledges and freezes its account."""
    for request in order.requests:
        await until(
            lambda request=request: r.client.view_id(request.workflow_id),
            lambda v: v.status is RequestStatus.TRANSMITTED,
            f"{request.requested_state} started",
        )
    bel = next(q for q in order.requests if q.requested_state == "BEL")
    client = r.client.client
    await take(
        client, bel, acknowledgement(bel, sent_at=now(), authority="Belgian Central Authority")
    )
    await take(client, bel, bel_freeze(bel))


FLOOD = 400
CASE_START_BYTES = 16_000
"""A case run's history before any report: its start (the order) and first tasks."""
REPORT_BYTES = 2_000
"""A report in the case's history: the signal and the workflow task that takes it."""


def case_run_bound(elapsed_s: float, requests: int) -> int:
    """What one run of the case may hold after ``elapsed_s``: each request reports at most
    once per interval, plus its first report and its last (the bound holds however slow the
    machine; before, 400 answers made 4.5 MB, and the server terminates a run near 50 MB)."""
    reports = requests * (elapsed_s / PARENT_REPORT_INTERVAL.total_seconds() + 2)
    return int(CASE_START_BYTES + reports * REPORT_BYTES)


async def finds_nothing(client: Client, request: CourtRequest) -> None:
    """The State acknowledges and reports no assets, straight to its request."""
    await take(client, request, acknowledgement(request, sent_at=now()))
    await take(client, request, no_assets(request, sent_at=now(), registers_searched=["banks"]))
