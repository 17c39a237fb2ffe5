"""A drill's worker and bridge processes running against its flow, on the fault stack: the
producer started, the drill's topics made, both processes up and the bridge ready, the flow's
requests prepared; on leaving, the producer stopped, the processes stopped and their last log
lines printed (for a failing drill's report)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tests.faults.drill import bridge_ready, drill_app
from tests.faults.flow import Flow, make_producer
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.stack.process import App


@contextlib.asynccontextmanager
async def running_flow(s: Settings, health_port: int = 0) -> AsyncIterator[tuple[Flow, App, App]]:
    """The flow on settings ``s`` with its worker and bridge (the bridge's /metrics on
    ``health_port`` unless 0); yields the flow, the worker and the bridge."""
    client = await RequestClient.connect(s)
    producer = make_producer(s)
    flow = Flow(s, client, producer)
    apps = [drill_app(s, "worker"), drill_app(s, "bridge", health_port=health_port)]
    try:
        await producer.start()
        await flow.prepare_topics()
        for app in apps:
            app.start()
        await bridge_ready(apps[1])
        await flow.prepare()
        yield flow, apps[0], apps[1]
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producer.stop(), timeout=30)
        for app in apps:
            await app.stop()
            print(f"\n--- {app.name}: last lines of {app.logs[-1] if app.logs else '-'}")
            print(app.tail(15))
