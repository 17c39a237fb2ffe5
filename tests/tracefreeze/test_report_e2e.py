"""Cooperation report over requests seeded on the real stack: the numbers are what was seeded.

Twelve requests to three States under a case number no other test uses, each with its fate
(acknowledged, frozen by an execution report, no assets, left unanswered); the answers go to
the workflow updates directly (this test is about the report, not the bridge). Once
visibility shows every fate, the report of this year, narrowed to the case, is built, checked
against the seed, rendered, and built again by the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from temporalio.client import Client, WorkflowHandle

from schemas.request import CourtRequest
from tests.builders import acknowledgement, court_request, execution_report, no_assets
from tracefreeze.cli.main import main
from tracefreeze.client import RequestClient, send
from tracefreeze.config import Settings
from tracefreeze.report.cooperation import build_report, year_query
from tracefreeze.report.render import write_report
from tracefreeze.worker import run_worker

pytestmark = pytest.mark.stack

FROZEN_EUR = Decimal("398214.37") + Decimal("860000.00")  # account + apartment, example report
VESSEL_EUR = Decimal("1150000.00")  # identified and traced, not frozen


@dataclass(frozen=True)
class Fate:
    state: str
    acknowledge: bool = False
    freeze: bool = False
    final: bool = False
    no_assets: bool = False


FATES = (
    *[Fate("NLD", acknowledge=True, freeze=True)] * 2,
    Fate("NLD", acknowledge=True),
    *[Fate("NLD")] * 2,
    *[Fate("BEL", acknowledge=True, no_assets=True)] * 2,
    Fate("BEL", acknowledge=True, freeze=True, final=True),
    Fate("BEL"),
    Fate("FRA", acknowledge=True, no_assets=True),
    *[Fate("FRA")] * 2,
)
# State: (sent, answered, outstanding, frozen EUR, identified EUR)
EXPECTED = {
    "NLD": (5, 3, 5, 2 * FROZEN_EUR, 2 * (FROZEN_EUR + VESSEL_EUR)),
    "BEL": (4, 3, 1, FROZEN_EUR, FROZEN_EUR + VESSEL_EUR),
    "FRA": (3, 1, 2, Decimal(0), Decimal(0)),
}


def unique_case() -> str:
    """``ICC-xx/yy-zz/ww``: other tests use the short form, so the filter is theirs-free."""
    return "ICC-{:02d}/{:02d}-{:02d}/{:02d}".format(*(random.randint(10, 99) for _ in range(4)))


async def play(handle: WorkflowHandle, request: CourtRequest, fate: Fate) -> None:
    if fate.acknowledge:
        await send(handle, acknowledgement(request))
    if fate.freeze:
        report = execution_report(request, final=fate.final)
        await send(handle, report)
    if fate.no_assets:
        await send(handle, no_assets(request))


async def count(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


async def wait_for_visibility(client: Client, query: str) -> None:
    """Until visibility holds every request with the status its last answer gave it."""
    wanted = {
        "": len(FATES),
        ' AND RequestStatus = "transmitted"': sum(not f.acknowledge for f in FATES),
        ' AND RequestStatus = "no_assets"': sum(f.no_assets for f in FATES),
        " AND FrozenValueEUR > 0": sum(f.freeze for f in FATES),
    }
    async with asyncio.timeout(60):
        while True:
            if {k: await count(client, query + k) for k in wanted} == wanted:
                return
            await asyncio.sleep(0.3)


async def test_report_counts_what_was_seeded(stack: Settings, tmp_path: Path) -> None:
    worker = asyncio.create_task(run_worker(stack))
    requests = [
        court_request(requested_state=f.state, case_number=case)
        for case in [unique_case()]
        for f in FATES
    ]
    case = requests[0].case_number
    rc = await RequestClient.connect(stack)
    client = rc.client
    year = datetime.now(UTC).year
    try:
        await asyncio.gather(*(rc.submit(r) for r in requests))
        handles = [client.get_workflow_handle(r.workflow_id) for r in requests]
        await asyncio.gather(
            *(play(h, r, f) for h, r, f in zip(handles, requests, FATES, strict=True))
        )
        extra = f'CaseNumber = "{case}"'
        await wait_for_visibility(client, year_query(year, extra))

        began = time.perf_counter()
        report = await build_report(client, year, progress=True, extra_query=extra)
        took = time.perf_counter() - began
        print(f"\ncooperation report: {report.sent} requests built in {took:.3f} s")

        by_state = {s.state: s for s in report.states}
        assert set(by_state) == set(EXPECTED)
        for state, (sent, answered, outstanding, frozen, identified) in EXPECTED.items():
            s = by_state[state]
            assert (s.sent, s.answered, s.outstanding, s.escalated) == (
                sent,
                answered,
                outstanding,
                0,
            ), state
            eur = s.totals.get("EUR")
            assert (eur.frozen if eur else Decimal(0)) == frozen, state
            assert (eur.identified if eur else Decimal(0)) == identified, state
            assert len(s.to_acknowledgement.seconds) == answered
            assert s.to_acknowledgement.median is not None or answered == 0
        assert len(by_state["BEL"].to_execution_end.seconds) == 3
        assert len(by_state["FRA"].to_execution_end.seconds) == 1
        assert by_state["NLD"].to_execution_end.seconds == ()
        assert (report.sent, report.answered, report.outstanding) == (12, 7, 8)
        assert report.totals["EUR"].frozen == 3 * FROZEN_EUR

        paths = write_report(report, tmp_path / "report")
        md = paths["markdown"].read_text(encoding="utf-8")
        for line in (
            "| BEL | 4 | 3 | 1 | 0 |",
            "| FRA | 3 | 1 | 2 | 0 |",
            "| NLD | 5 | 3 | 5 | 0 |",
        ):
            assert line in md
        assert "| All States | 12 | 7 | 8 | 0 |" in md
        assert (
            f"| All States | EUR | {3 * (FROZEN_EUR + VESSEL_EUR):,.2f} | {3 * FROZEN_EUR:,.2f} |"
            in md
        )
        html = paths["html"].read_text(encoding="utf-8")
        assert html.count('<img alt="') == 3
        assert html.count("data:image/png;base64,") == 3
        assert "<td>NLD</td><td>5</td><td>3</td><td>5</td>" in html

        out = tmp_path / "cli"
        args = ["report", "--year", str(year), "--out", str(out), "--no-progress", "--where", extra]
        result = await asyncio.to_thread(CliRunner().invoke, main, args)
        assert result.exit_code == 0, result.output
        assert "12 requests, 3 States" in result.output
        assert "| NLD | 5 | 3 | 5 | 0 |" in (out / f"cooperation-report-{year}.md").read_text()
    finally:
        for r in requests:
            with contextlib.suppress(Exception):
                await client.get_workflow_handle(r.workflow_id).terminate("test done")
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
