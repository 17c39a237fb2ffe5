"""Cooperation report over requests seeded on the real stack: the numbers are what was seeded.

Twelve requests to three States under a case number no other test uses, each with its fate
(acknowledged, frozen by an execution report, no assets, left unanswered), a request to an
international organisation whose account a Chamber releases on an acquittal, and an ex parte
request (Rule 99(2)) frozen at a value of its own; the answers go to the workflow updates
directly (this test is about the report, not the bridge). NLD's five requests are
confidential (RS 87(3)), the others public. Once visibility shows every fate, the report of
this year, narrowed to the case and the ex parte request's opaque id, is built, checked
against the seed, rendered, and built again by the CLI: the ex parte request shows in no
output, NLD's figures only because there are five of them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from temporalio.client import Client, WorkflowHandle

from schemas import court as c
from schemas.request import CourtRequest
from tests.builders import (
    ACCOUNT,
    acknowledgement,
    court_action,
    court_request,
    execution_report,
    frozen_at,
    no_assets,
    reasons,
)
from tracefreeze.cli.main import main
from tracefreeze.client import RequestClient, send
from tracefreeze.config import Settings, get_settings
from tracefreeze.report.cooperation import build_report, decode_memo, year_query
from tracefreeze.report.published import publish
from tracefreeze.report.render import write_report
from tracefreeze.security.request_ids import KEY_ENV
from tracefreeze.worker import run_worker

pytestmark = pytest.mark.stack

ACCOUNT_EUR = Decimal("398214.37")
FROZEN_EUR = ACCOUNT_EUR + Decimal("860000.00")  # account + apartment, example report
VESSEL_EUR = Decimal("1150000.00")  # identified and traced, not frozen


@dataclass(frozen=True)
class Fate:
    state: str
    acknowledge: bool = False
    freeze: bool = False
    final: bool = False
    no_assets: bool = False
    acquit: bool = False
    """A Chamber releases the frozen account on an acquittal."""
    confidentiality: str = "public"


FATES = (
    *[Fate("NLD", acknowledge=True, freeze=True, confidentiality="confidential")] * 2,
    Fate("NLD", acknowledge=True, confidentiality="confidential"),
    *[Fate("NLD", confidentiality="confidential")] * 2,
    *[Fate("BEL", acknowledge=True, no_assets=True)] * 2,
    Fate("BEL", acknowledge=True, freeze=True, final=True),
    Fate("BEL"),
    Fate("FRA", acknowledge=True, no_assets=True),
    *[Fate("FRA")] * 2,
    Fate("XIP", acknowledge=True, freeze=True, acquit=True),
)
EX_PARTE = Fate("NLD", acknowledge=True, freeze=True, confidentiality="ex_parte")
EX_PARTE_EUR = Decimal("731904.58")
# State: (sent, answered, outstanding, frozen EUR, identified EUR)
EXPECTED = {
    "NLD": (5, 3, 5, 2 * FROZEN_EUR, 2 * (FROZEN_EUR + VESSEL_EUR)),
    "BEL": (4, 3, 1, FROZEN_EUR, FROZEN_EUR + VESSEL_EUR),
    "FRA": (3, 1, 2, Decimal(0), Decimal(0)),
    "XIP": (1, 1, 1, FROZEN_EUR - ACCOUNT_EUR, FROZEN_EUR + VESSEL_EUR),
}


def unique_case() -> str:
    """``ICC-xx/yy-zz/ww``: other tests use the short form, so the filter is theirs-free."""
    return "ICC-{:02d}/{:02d}-{:02d}/{:02d}".format(*(random.randint(10, 99) for _ in range(4)))


async def submit(rc: RequestClient, request: CourtRequest) -> str:
    """XIP, an international organisation, is asked to freeze on a recorded override of the
    check's RS 87(6) finding (the form of cooperation agreed with it)."""
    if request.requested_state != "XIP":
        return await rc.submit(request)
    return await rc.submit(request, override_by="Registrar", override_reason="Agreed form")


async def play(handle: WorkflowHandle, request: CourtRequest, fate: Fate) -> None:
    if fate.acknowledge:
        await send(handle, acknowledgement(request))
    if fate.freeze:
        results = frozen_at({ACCOUNT: str(EX_PARTE_EUR)}) if request.ex_parte else None
        report = execution_report(request, results, final=fate.final)
        await send(handle, report)
    if fate.no_assets:
        await send(handle, no_assets(request))
    if fate.acquit:
        release = c.Release.model_validate(
            court_action(c.Release, asset_ids=[ACCOUNT], ground="acquittal", **reasons())
        )
        await send(handle, release)


async def count(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


async def wait_for_visibility(client: Client, query: str) -> None:
    """Until visibility holds every request with the status its last answer gave it."""
    wanted = {
        "": len(FATES) + 1,
        ' AND RequestStatus = "transmitted"': sum(not f.acknowledge for f in FATES),
        ' AND RequestStatus = "no_assets"': sum(f.no_assets for f in FATES),
        " AND FrozenValueEUR > 1000000": sum(f.freeze and not f.acquit for f in FATES),
        " AND FrozenValueEUR > 0 AND FrozenValueEUR < 1000000": sum(f.acquit for f in FATES),
        # The ex parte request shows its status only (Rule 99(2)): no State, no value.
        ' AND RequestStatus = "in_execution"': sum(
            f.freeze and not f.final for f in (*FATES, EX_PARTE)
        ),
    }
    seen: dict[str, int] = {}
    memos = 0
    try:
        async with asyncio.timeout(60):
            while True:
                seen = {k: await count(client, query + k) for k in wanted}
                memos = await memos_with_party_kind(client, query)
                if seen == wanted and memos == wanted[""]:
                    return
                await asyncio.sleep(0.3)
    except TimeoutError:
        raise AssertionError(
            f"visibility shows {seen}, not {wanted}; {memos} memos name the party kind"
        ) from None


async def memos_with_party_kind(client: Client, query: str) -> int:
    """Requests whose report memo the workflow has written (its first task names the party's
    kind). The start's search attributes already match the counts above, so an unanswered
    request the worker has not reached yet would be counted with no memo: "Not recorded", read
    as confidential, and merged away by the report's disclosure rules (CI, loaded machine)."""
    found = 0
    async for wf in client.list_workflows(query):
        found += decode_memo(await wf.memo_value("report", None)).party_kind is not None
    return found


async def test_report_counts_what_was_seeded(
    stack: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    worker = asyncio.create_task(run_worker(stack))
    case = unique_case()
    fates = (*FATES, EX_PARTE)
    requests = [
        court_request(requested_state=f.state, case_number=case, confidentiality=f.confidentiality)
        for f in fates
    ]
    rc = await RequestClient.connect(stack)
    client = rc.client
    year = datetime.now(UTC).year
    ids: list[str] = []
    try:
        ids = list(await asyncio.gather(*(submit(rc, r) for r in requests)))
        handles = [client.get_workflow_handle(i) for i in ids]
        await asyncio.gather(
            *(play(h, r, f) for h, r, f in zip(handles, requests, fates, strict=True))
        )
        ex_parte_id = ids[-1]
        assert ex_parte_id.startswith("request/x")
        # The ex parte request carries no CaseNumber (Rule 99(2)): listed by its opaque id.
        extra = f'CaseNumber = "{case}" OR WorkflowId = "{ex_parte_id}"'
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
        assert len(by_state["NLD"].to_first_report.seconds) == 2  # the freezing reports
        assert (report.sent, report.answered, report.outstanding) == (13, 8, 9)
        assert report.totals["EUR"].frozen == 4 * FROZEN_EUR - ACCOUNT_EUR
        assert report.totals["EUR"].released == ACCOUNT_EUR
        assert report.ex_parte == 1 and len(report.requests) == 14
        ex_parte_memo = next(r.memo for r in report.requests if r.workflow_id == ex_parte_id)
        assert ex_parte_memo.confidentiality == "ex_parte"  # read through the codec

        published = publish(report)
        assert published.table("releases").rows[0] == (
            "acquittal",
            "1",
            "1",
            f"{ACCOUNT_EUR:,.2f} EUR",
        )
        kinds = published.table("by_party_kind").rows
        assert ("State Party (RS 86)", "12", "7", "8", "0") in kinds
        assert ("international organisation (RS 87(6))", "1", "1", "1", "0") in kinds
        bases = published.table("by_legal_basis").rows
        assert bases[-1] == ("All", "13", "8", "9", "0")
        completeness = published.table("completeness").rows
        assert ("transmitted on an override", "1") in completeness
        assert ("override of a finding under RS 87(6)", "1") in completeness

        paths = write_report(report, tmp_path / "report")
        md = paths["markdown"].read_text(encoding="utf-8")
        for line in (
            "| BEL | 4 | 3 | 1 | 0 |",
            "| FRA | 3 | 1 | 2 | 0 |",
            "| NLD | 5 | 3 | 5 | 0 |",
        ):
            assert line in md
        assert "| All States | 13 | 8 | 9 | 0 |" in md
        # NLD has five confidential requests but only two valued in EUR: per currency, too
        # few; its values and so the total are withheld (RS 87(3)).
        assert "| NLD | EUR" not in md and "| All States | EUR | withheld |" in md
        xip = f"{FROZEN_EUR + VESSEL_EUR:,.2f} | {FROZEN_EUR - ACCOUNT_EUR:,.2f} | 0.00 | 0.00"
        assert f"| XIP | EUR | {xip} | {ACCOUNT_EUR:,.2f} | 0.00 |" in md
        assert "Ex parte requests (Rule 99(2)), left out of every table: fewer than 5." in md
        html = paths["html"].read_text(encoding="utf-8")
        # No value chart: the one currency's total is withheld, and a chart never shows it.
        assert html.count('<img alt="') == 2 and html.count("data:image/png;base64,") == 2
        assert '<img alt="Value per status and currency"' not in html
        assert sorted(p.name for p in (tmp_path / "report").glob("*.png")) == [
            f"cooperation-report-{year}-requests-per-state.png",
            f"cooperation-report-{year}-time-to-acknowledgement.png",
        ]
        assert "<td>NLD</td><td>5</td><td>3</td><td>5</td>" in html
        for text in (md, html, paths["json"].read_text(encoding="utf-8")):
            assert f"{EX_PARTE_EUR:,.2f}" not in text and ex_parte_id not in text
            assert ex_parte_id.rsplit("/", 1)[-1] not in text

        out = tmp_path / "cli"
        args = ["report", "--year", str(year), "--out", str(out), "--no-progress", "--where", extra]
        result = await asyncio.to_thread(CliRunner().invoke, main, args)
        assert result.exit_code == 0, result.output
        assert "13 requests, 4 States shown" in result.output
        assert "| NLD | 5 | 3 | 5 | 0 |" in (out / f"cooperation-report-{year}.md").read_text()

        # A threshold of two (the settings'): NLD's two valued requests show, and the total.
        monkeypatch.setenv("TRACEFREEZE_REPORT_MIN_GROUP", "2")
        get_settings.cache_clear()
        low = tmp_path / "low"
        args = ["report", "--year", str(year), "--out", str(low), "--no-progress"]
        result = await asyncio.to_thread(CliRunner().invoke, main, [*args, "--where", extra])
        assert result.exit_code == 0, result.output
        md = (low / f"cooperation-report-{year}.md").read_text()
        assert f"| NLD | EUR | {2 * (FROZEN_EUR + VESSEL_EUR):,.2f} | {2 * FROZEN_EUR:,.2f} |" in md
        frozen = 4 * FROZEN_EUR - ACCOUNT_EUR
        assert f"| All States | EUR | {4 * (FROZEN_EUR + VESSEL_EUR):,.2f} | {frozen:,.2f} |" in md
        assert f"{EX_PARTE_EUR:,.2f}" not in md

        # A threshold above NLD's five: NLD's figures are withheld in every output.
        monkeypatch.setenv("TRACEFREEZE_REPORT_MIN_GROUP", "6")
        get_settings.cache_clear()
        strict = tmp_path / "strict"
        args = ["report", "--year", str(year), "--out", str(strict), "--no-progress"]
        result = await asyncio.to_thread(CliRunner().invoke, main, [*args, "--where", extra])
        assert result.exit_code == 0, result.output
        md = (strict / f"cooperation-report-{year}.md").read_text()
        assert "| NLD" not in md and f"{2 * FROZEN_EUR:,.2f}" not in md
        assert "| All States | 13 |" not in md and "| BEL | 4 | 3 | 1 | 0 |" in md
    finally:
        get_settings.cache_clear()  # no threshold of this test's outlives it
        for workflow_id in ids:
            with contextlib.suppress(Exception):
                await client.get_workflow_handle(workflow_id).terminate("test done")
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
