"""The cooperation report from the record store (``tracefreeze/record/``), when one is
configured (``TRACEFREEZE_RECORD_DSN``): every request transmitted in the year counts, whether
it closed in March or runs still, although Temporal keeps a closed request's visibility record
only for the namespace's retention. Visibility stays the live view (the control room, the
report without a store).

It reads only the store's ``report_requests`` view (the ``tracefreeze_record_report`` role's
whole grant): per-request dates, levels, codes and the sealed values per currency, never a
reference, a case number or a payload; an ex parte request's row carries no State (Rule
99(2)) and never makes a State's line. Releases by ground are not in the Court's events, so
the store's report shows none (``ReportMemo.released`` empty).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import asyncpg

from schemas.common import Confidentiality
from schemas.ledger import RequestStatus
from schemas.views import ReportMemo
from tracefreeze.record.seal import Sealer
from tracefreeze.report.cooperation import CooperationReport, RequestFacts, aggregate
from tracefreeze.report.disclosure import DEFAULT_MIN_GROUP

STORE_QUERY = "report_requests WHERE transmitted_at in [{year}-01-01, {next}-01-01) UTC"
PLAIN_PREFIX = "record:"
"""The report's id of a request that is not ex parte (its opaque store key after it, so that
the report's ex parte test, an opaque workflow id, is not met)."""


def facts_of_row(row: dict[str, Any], sealer: Sealer) -> RequestFacts:
    ex_parte = row["confidentiality"] == Confidentiality.EX_PARTE.value
    totals = json.loads(sealer.open(row["facts"])) if row["facts"] is not None else {}
    memo = ReportMemo.model_validate(
        {
            "transmitted_at": row["transmitted_at"],
            "acknowledged_at": row["acknowledged_at"],
            "first_report_at": row["first_report_at"],
            "ended_at": row["ended_at"],
            "max_escalation_level": row["max_escalation_level"],
            "totals": totals,
            "confidentiality": row["confidentiality"],
            "origin": row["origin"],
            "legal_basis": row["legal_basis"],
            "party_kind": row["party_kind"],
        }
    )
    key = row["request_key"]
    return RequestFacts(
        workflow_id=key if ex_parte or not row["requested_state"] else PLAIN_PREFIX + key,
        state=row["requested_state"] or "",
        started_at=row["transmitted_at"],
        running=row["closed_at"] is None,
        status=row["status"] or RequestStatus.TRANSMITTED.value,
        memo=memo,
        escalation_level=row["max_escalation_level"],
    )


async def build_report_from_store(
    dsn: str, year: int, sealer: Sealer, *, min_group: int = DEFAULT_MIN_GROUP
) -> CooperationReport:
    """The report of ``year`` over every request the store holds as transmitted in it."""
    began = time.perf_counter()
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT * FROM report_requests WHERE transmitted_at >= $1 AND transmitted_at < $2",
            start, end,
        )  # fmt: skip
    finally:
        await conn.close()
    facts = [facts_of_row(dict(r), sealer) for r in rows]
    query = STORE_QUERY.format(year=year, next=year + 1)
    report = aggregate(year, facts, query, min_group=min_group)
    return replace(report, build_seconds=time.perf_counter() - began)
