"""``python -m tracefreeze.demo``: one request, from transmission to frozen assets.

Assumes the local stack, the worker and the bridge are running (``make demo`` starts them).
Submits the example request under a fresh reference, reads it on the Netherlands' own
channel and plays the Netherlands acknowledging it and freezing the known assets over Kafka
(both with the State kit, ``tracefreeze/state_kit.py``), then prints the timeline, ledger
and totals.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime

from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from schemas.views import RequestView
from tracefreeze.config import REPO_ROOT, Settings, get_settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.ops.failures import explain
from tracefreeze.ops.logging import configure_logging

EXAMPLE = REPO_ROOT / "schemas" / "examples" / "court-request.json"
WAIT_S = 60.0
DONE = {RequestStatus.IN_EXECUTION, RequestStatus.EXECUTED, RequestStatus.PARTIALLY_EXECUTED}


def fresh_request() -> CourtRequest:
    """The example request under a reference no earlier demo used."""
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["reference"] = f"{doc['reference']}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"[:64]
    return CourtRequest.model_validate(doc)


def frozen_done(view: RequestView) -> bool:
    return view.status in DONE and any(e.status.restrained for e in view.ledger.entries.values())


async def demo(settings: Settings) -> bool:
    """The walk; False when one of its outputs could not be made (the rest still ran)."""
    from tracefreeze.client import RequestClient, ui_url
    from tracefreeze.demo.simulator import simulate_state
    from tracefreeze.report.status import render_view

    request = fresh_request()
    ref, state = request.reference, request.requested_state
    client = await RequestClient.connect(settings)
    workflow_id = await client.submit(request)
    print(f"transmitted {ref} to {state} (workflow {workflow_id})")
    print(f"{state} read its own channel (State kit): {await received(settings, state, ref)}")
    await simulate_state(settings, ref, state, "acknowledge")
    print(f"{state} acknowledged receipt (answer sent over Kafka)")
    await simulate_state(settings, ref, state, "freeze-known")
    print(f"{state} reported the known assets frozen (answer sent over Kafka)")

    deadline = time.monotonic() + WAIT_S
    view = await client.view(ref, state)
    while not frozen_done(view):
        if time.monotonic() > deadline:
            raise TracefreezeError(
                f"{workflow_id} still {view.status.value} after {WAIT_S:g}s: are the worker "
                "and the bridge running? (`make demo` starts them; see the logs in .state/)"
            )
        await asyncio.sleep(0.5)
        view = await client.view(ref, state)

    print()
    print(render_view(view))

    from tracefreeze.demo.escalation import escalate

    unanswered = fresh_request().model_copy(update={"reference": f"{ref}-X"[:64]})
    await escalate(settings, client, unanswered)
    # The same unanswered request to an international organisation (RS 87(6)): INTERPOL is
    # asked to locate assets; its ladder ends in a consultation and a report to the Chamber.
    organisation = CourtRequest.model_validate(
        unanswered.model_dump()
        | {
            "reference": f"{ref}-IO"[:64],
            "requested_state": "XIP",
            "measures": ["identify", "trace"],
        }
    )
    await escalate(settings, client, organisation)
    whole = await show_outputs(settings, client, workflow_id)
    print()
    print(f"Temporal UI: {ui_url(settings, workflow_id)}")
    print(f"Escalating request: {ui_url(settings, unanswered.workflow_id)}")
    print(f"Request to an international organisation: {ui_url(settings, organisation.workflow_id)}")
    print("The stack keeps running; `make down` stops it.")
    return whole


async def received(settings: Settings, state: str, reference: str) -> str:
    """The request as the State reads it on its own channel, with the State kit."""
    from tracefreeze.state_kit import describe, read_channel

    deadline = time.monotonic() + WAIT_S
    while True:
        mine = [m for m in await read_channel(settings, state) if m.subject == reference]
        if mine:
            return describe(mine[0])
        if time.monotonic() > deadline:
            raise TracefreezeError(
                f"{reference} not on {settings.topics.party_channel(state)} after {WAIT_S:g}s: "
                "is the worker running?"
            )
        await asyncio.sleep(0.5)


async def show_outputs(settings: Settings, client, workflow_id: str) -> bool:
    """The cooperation report for this year (seed para 28) and a screenshot of the request's
    page in the Temporal UI, both under the state folder. A screenshot the machine cannot take
    (no UI, no browser) is one line; a report that cannot be built is a fault: False."""
    from tracefreeze.client import ui_url
    from tracefreeze.report.cooperation import build_report
    from tracefreeze.report.render import write_report
    from tracefreeze.report.snapshot import screenshot

    out = settings.state_dir / "demo"
    started = time.monotonic()
    year = datetime.now(UTC).year
    try:
        report = await build_report(
            client.client, year, progress=False, min_group=settings.report_min_group
        )
        files = write_report(report, out)
        took = time.monotonic() - started
        print(f"\ncooperation report ({took:.1f}s): {files['html']}")
        print(f"  for circulation: {files['pdf']}")
    except Exception as err:  # the rest of the demo still completes
        print(f"\n(no cooperation report: {explain(err)})")
        whole = False
    else:
        whole = True
    try:
        shot = await asyncio.to_thread(
            screenshot, ui_url(settings, workflow_id), workflow_id, out / "ui-request.png"
        )
        print(f"Temporal UI screenshot: {shot}")
    except Exception as err:  # a missing UI or browser is one line, never a trace
        print(f"(no UI screenshot: {explain(err)})")
    return whole


def main() -> int:
    configure_logging("WARNING")
    try:
        whole = asyncio.run(demo(get_settings()))
    except KeyboardInterrupt:
        print("demo: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # one line, never a trace (tracefreeze/ops/failures.py)
        print(f"demo: {explain(err)}", file=sys.stderr)
        return 1
    if not whole:
        print("demo: completed, but the cooperation report could not be built", file=sys.stderr)
    return 0 if whole else 1


if __name__ == "__main__":
    from tracefreeze.temporal import exit_process

    exit_process(main())
