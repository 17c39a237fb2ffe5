"""Where end-to-end latency goes: the product's own update and query round trips, measured
on the same warm worker right after the end-to-end repeats, without Kafka or the bridge.

- *product update round trip*: sequential asset-management updates sent straight to one
  request (the product's client, codec and data converter), completed when the request took
  the answer into its history (its events leave after, in a publishing activity); compare
  with (b), the trivial workflow's update.
- *progress query round trip*: the query the end-to-end figure polls.
- *several readers*: the same updates while ``READERS`` readers poll the progress query back
  to back, more readers than one request usually has at once (officers with it open in the
  Web UI, a ``tracefreeze status``, the signing of a Court action): each query's round trip
  (p50, p99, max). A query that arrives while the request's workflow task
  runs waits for it; more of them than the server buffers per workflow are refused and retried
  by the client a second or more later (``history.maxBufferedQueryCount``).
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from typing import Any

from bench.common import freeze_report, fresh_acknowledgement, latency_stats, management
from bench.drain import submit_all
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.intake.routing import route
from tracefreeze.temporal import connect

PAUSE_S = 0.02
WARM_UP = 5
READERS = 4
QUERY_TIMEOUT_S = 30.0
REFUSED = "tracefreeze_query_events_refused_total"


async def _ready(settings: Settings, reference: str) -> tuple[Any, RequestClient]:
    """A started request, acknowledged and frozen (not timed): the client and its requests."""
    await submit_all(settings, [reference])
    client = await connect(settings)
    for answer in (fresh_acknowledgement(reference), freeze_report(reference)):
        r = route(answer)
        await client.get_workflow_handle(r.workflow_id).execute_update(
            r.update_name, answer, id=answer.event_id
        )
    return client, RequestClient(client, settings)


async def update_and_query_round_trips(
    settings: Settings, reference: str, n: int
) -> dict[str, Any]:
    client, requests = await _ready(settings, reference)
    updates, queries = [], []
    for i in range(n + WARM_UP):
        answer = management(reference, i)
        r = route(answer)
        handle = client.get_workflow_handle(r.workflow_id)
        await asyncio.sleep(PAUSE_S)
        t0 = time.perf_counter()
        await handle.execute_update(r.update_name, answer, id=answer.event_id)
        t1 = time.perf_counter()
        await requests.progress(reference, "NLD")
        t2 = time.perf_counter()
        if i >= WARM_UP:
            updates.append(t1 - t0)
            queries.append(t2 - t1)
    return {"update": latency_stats(updates), "query": latency_stats(queries)}


async def queries_refused_ahead(metrics_port: int) -> float:
    """The worker's count of queries refused as ahead of a request's history (each evicts the
    run, whose next task replays it: ``tracefreeze/history_bound.py``)."""

    def scrape() -> float:
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=QUERY_TIMEOUT_S) as reply:
            lines = reply.read().decode().splitlines()
        return sum(float(line.split()[-1]) for line in lines if line.startswith(REFUSED))

    return await asyncio.to_thread(scrape)


async def readers_round_trips(
    settings: Settings, reference: str, n: int, metrics_port: int
) -> dict[str, Any]:
    """Each reader's progress query round trips while ``n`` updates are taken one by one, and
    how many of the readers' queries the worker refused as ahead of the request's history."""
    client, requests = await _ready(settings, reference)
    taken = asyncio.Event()
    """Every update taken: the readers stop."""
    trips: list[float] = []

    async def reader() -> None:
        while not taken.is_set():
            t0 = time.perf_counter()
            await asyncio.wait_for(requests.progress(reference, "NLD"), QUERY_TIMEOUT_S)
            trips.append(time.perf_counter() - t0)

    before = await queries_refused_ahead(metrics_port)
    async with asyncio.TaskGroup() as readers:  # a reader's failure ends the part
        for _ in range(READERS):
            readers.create_task(reader())
        try:
            for i in range(n):
                answer = management(reference, i)
                r = route(answer)
                await asyncio.sleep(PAUSE_S)
                await client.get_workflow_handle(r.workflow_id).execute_update(
                    r.update_name, answer, id=answer.event_id
                )
        finally:
            taken.set()
    refused = await queries_refused_ahead(metrics_port) - before
    return {"readers": READERS, "refused_ahead": refused, **latency_stats(trips)}
