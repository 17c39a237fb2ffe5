"""What the soak sends (``bench/soak.py``): signed answers at a held rate, requests whose
deadlines fall due a minute later, and the Web UI's decode requests to the codec server."""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.request
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from bench.common import StateSigner, bare_client, bounded, management, producer, send_signed
from bench.scale import PREFIX, policy_due
from bench.stack import BenchStack
from schemas.request import request_workflow_id
from tests.builders import court_request
from tracefreeze.client import RequestClient
from tracefreeze.intake.routing import Answer

CODEC_TOKEN = "bench-soak-" + uuid.uuid4().hex
"""The soak's bearer token for the codec server (written to its tokens file)."""


class Sent:
    """What the soak's State sent: per request, and every event id."""

    def __init__(self) -> None:
        self.per_request: Counter[str] = Counter()
        self.ids: set[str] = set()

    def add(self, answer: Answer) -> None:
        self.per_request[answer.request_reference] += 1
        self.ids.add(answer.event_id)

    @property
    def count(self) -> int:
        return len(self.ids)


async def hold_rate(
    settings: Any,
    signer: StateSigner,
    references: list[str],
    rate_s: float,
    until: float,
    sent: Sent,
) -> None:
    """Send valuations at ``rate_s`` over the requests (round robin) until ``until``."""
    prod = await producer(settings, client_id="bench-soak-state")
    pending: list[Any] = []
    t0, n = time.perf_counter(), 0
    try:
        while time.perf_counter() < until:
            due = int((time.perf_counter() - t0) * rate_s)
            while n < due:
                answer = management(references[n % len(references)], n)
                pending.append(await send_signed(prod, settings, signer, answer, wait=False))
                sent.add(answer)
                n += 1
            if len(pending) > 1000:
                await asyncio.gather(*pending)
                pending = []
            await asyncio.sleep(0.05)
        await asyncio.gather(*pending)
    finally:
        await prod.stop()


async def fire_deadlines(
    settings: Any, run: str, per_minute: int, until: float, started: list[str]
) -> None:
    """Every minute, ``per_minute`` requests whose acknowledgement falls due a minute later."""
    client = await RequestClient.connect(settings)
    batch = 0
    while time.perf_counter() + 90 < until:  # the last batch fires before the end
        policy = policy_due(settings, timedelta(minutes=1))
        refs = [f"{PREFIX}{run}-{batch:03d}{i:03d}" for i in range(per_minute)]
        await bounded(
            8,
            [
                lambda r=r, p=policy: client.submit(court_request(reference=r), policy=p)
                for r in refs
            ],
        )
        started += refs
        batch += 1
        await asyncio.sleep(60)


async def decode_like_the_ui(
    stack: BenchStack, port: int, references: list[str], until: float
) -> dict[str, int]:
    """Every 10 s a raw (undecoded) payload of a request's history, decoded by the codec
    server over HTTP with its bearer token."""
    s = stack.settings
    raw = await bare_client(s)
    counts = {"decoded": 0, "failed": 0}
    while time.perf_counter() < until:
        reference = random.choice(references)
        history = await raw.get_workflow_handle(
            request_workflow_id(reference, "NLD")
        ).fetch_history()
        first = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
        document = json_format.MessageToDict(Payloads(payloads=[first]))
        try:
            await asyncio.to_thread(_post, f"http://127.0.0.1:{port}/decode", document, s)
            counts["decoded"] += 1
        except Exception as err:  # counted and said: the soak goes on
            counts["failed"] += 1
            print(f"  soak: decode failed: {err!r}", flush=True)
        await asyncio.sleep(10)
    return counts


def _post(url: str, document: dict[str, Any], s: Any) -> None:
    req = urllib.request.Request(
        url,
        data=json.dumps(document).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Namespace": s.temporal_namespace,
            "Authorization": f"Bearer {CODEC_TOKEN}",
        },
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        body = json.loads(response.read())
    if not body.get("payloads"):
        raise RuntimeError("no payload decoded")
