"""On the real stack: what goes wrong on our side while an answer is delivered is never blamed
on the State. A worker of an older deploy that lacks the answer's update, and a bridge that
cannot decode what the request answered (a codec key it does not hold yet), are transient:
the answer is retried and, past the retry budget, parked (``stuck``) to be replayed once the
deploy is done, never dead-lettered as ``rejected`` or ``invalid`` (the State's fault)."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sys

import pytest

import tracefreeze.worker
from schemas.deadletter import HEADER_REASON, HEADER_REASON_CODE
from schemas.ledger import RequestStatus
from tests.builders import acknowledgement, court_request, now
from tests.tracefreeze.e2e import (
    headers,
    isolated,
    read_until,
    send_signed,
    wait_view,
    worker_and_bridge,
)
from tests.tracefreeze.older_worker import LACKING, RequestWorkflowBeforeAcknowledgements
from tracefreeze.cli.dlq import run_replay
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.demo.simulator import simulate_state
from tracefreeze.intake.dlq import Selection
from tracefreeze.security.codec import ACTIVE_KEY_ENV, KEYS_ENV, codec_keys_file
from tracefreeze.stack.isolated import stack_env
from tracefreeze.topics import ensure_topics
from tracefreeze.worker import run_worker

pytestmark = pytest.mark.stack

BUDGET = {"bridge_retry_budget_s": 2.0}
"""A short retry budget: the answer is parked within seconds rather than five minutes."""


async def test_an_update_an_older_worker_lacks_is_parked_then_taken_after_the_deploy(
    stack: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mid-deploy, the only worker runs code without the ``acknowledge`` update. Old code:
    the worker's refusal ("Update handler ... expected but not found") was read as the
    request rejecting the answer, and the acknowledgement was dead-lettered as ``rejected``.
    Now it is retried, then parked as ``stuck``; once every worker has the handler, the
    parked answer is replayed and taken, once."""
    s = isolated(stack).model_copy(update=BUDGET)
    monkeypatch.setattr(
        tracefreeze.worker, "RequestWorkflow", RequestWorkflowBeforeAcknowledgements
    )
    request = court_request()
    answer = acknowledgement(request, sent_at=now())
    async with worker_and_bridge(s) as r:
        await r.client.submit(request)
        await send_signed(r, answer)
        [dead] = await read_until(s, s.topics.dead_letter, lambda rs: len(rs) >= 1)
    assert headers(dead)[HEADER_REASON_CODE] == "stuck", headers(dead)[HEADER_REASON]
    assert f"'{LACKING}' expected but not found" in headers(dead)[HEADER_REASON]
    assert headers(dead)["ce_id"] == answer.event_id

    monkeypatch.undo()  # the deploy is done: every worker has the handler
    async with worker_and_bridge(s) as r:
        summary = await run_replay(s, Selection.of(["stuck"]), operator="officer-5")
        assert summary.replayed == 1
        view = await wait_view(r.client, request.reference, lambda v: v.answers_seen == 1)
        assert view.status is RequestStatus.ACKNOWLEDGED
        assert [e.event_id for e in view.timeline].count(answer.event_id) == 1


def held_keys(s: Settings) -> str:
    """The stack's codec keys (``<id>:<base64>``, comma-separated), as the stack made them."""
    lines = codec_keys_file(s.state_dir).read_text(encoding="ascii").splitlines()
    held = ",".join(k for k in (line.split("#", 1)[0].strip() for line in lines) if k)
    assert held, "the stack's up makes <state dir>/keys/codec-keys"
    return held


async def test_a_result_the_bridge_cannot_decode_is_retried_not_blamed_on_the_state(
    stack: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A codec key rotation half done: the worker encrypts with a new key the bridge does
    not hold yet. The request takes the acknowledgement, but the bridge cannot decode the
    receipt (a ``CodecError``, which is a ``ValueError``). Old code: every ``ValueError`` was
    the answer's fault, and an answer the request had taken was dead-lettered as ``invalid``.
    Now it is retried and parked as ``stuck``; the request holds it once."""
    s = isolated(stack).model_copy(update=BUDGET)
    await ensure_topics(s)
    held = held_keys(s)
    rotated = f"k-rotated:{base64.b64encode(os.urandom(32)).decode()}"
    monkeypatch.setenv(KEYS_ENV, f"{held},{rotated}")  # the worker (and the Court's client)
    monkeypatch.setenv(ACTIVE_KEY_ENV, "k-rotated")
    worker = asyncio.create_task(run_worker(s))
    bridge_env = os.environ | stack_env(s) | {KEYS_ENV: held, ACTIVE_KEY_ENV: ""}
    bridge_env["TRACEFREEZE_BRIDGE_RETRY_BUDGET_S"] = str(BUDGET["bridge_retry_budget_s"])
    bridge = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tracefreeze",
        "bridge",
        env=bridge_env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        client = await RequestClient.connect(s)
        request = court_request()
        await client.submit(request)
        [event_id] = await simulate_state(s, request.reference, "NLD", "acknowledge")
        [dead] = await read_until(s, s.topics.dead_letter, lambda rs: len(rs) >= 1)
        view = await wait_view(client, request.reference, lambda v: v.answers_seen == 1)
    finally:
        bridge.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(bridge.communicate(), timeout=30)
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert headers(dead)["ce_id"] == event_id
    assert headers(dead)[HEADER_REASON_CODE] == "stuck", headers(dead)[HEADER_REASON]
    assert "CodecError" in headers(dead)[HEADER_REASON]
    assert view.status is RequestStatus.ACKNOWLEDGED
    assert [e.event_id for e in view.timeline].count(event_id) == 1
    assert bridge.returncode == 0, err.decode()[-3000:]
