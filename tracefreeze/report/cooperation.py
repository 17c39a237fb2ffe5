"""The annual cooperation report (seed para 28): what the Court asked of States in a year.

Built from ONE visibility listing of the year's request workflows (plus one count for the
progress bar), never a query per workflow: each listed execution carries its typed search
attributes and the ``report`` memo (``schemas.views.ReportMemo``), decoded with the client's
data converter (and so its payload codec). Per State: requests sent, answered, outstanding and
escalated; median and p90 time to acknowledgement and to the end of execution; and the values
identified, frozen, seized, forfeited, released and allocated per currency (never converted).
Ex parte requests (Rule 99(2)) never make a State's line (``states``); what the report may
disclose of them and of confidential requests (RS 87(3)) is decided in
``tracefreeze/report/disclosure.py`` and ``tracefreeze/report/published.py``, the only source
of every output (``render.py``: Markdown, HTML, JSON; ``plots.py``: PNG).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from schemas.common import Confidentiality
from schemas.ledger import CurrencyTotals, RequestStatus
from schemas.request import OPAQUE_ID_PREFIX
from schemas.views import ReportMemo
from tracefreeze.report.disclosure import DEFAULT_MIN_GROUP, check_min_group
from workflows import search_attributes as sa

WORKFLOW_TYPE = "RequestWorkflow"
PROGRESS_MIN = 500
"""A listing at least this large shows a progress bar (when asked for)."""
PAGE_SIZE = 1000
TOTAL_FIELDS: tuple[str, ...] = tuple(CurrencyTotals.model_fields)
"""identified, frozen, seized, forfeited, released, allocated: the value columns."""


# --- statistics ---------------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by linear interpolation between order statistics (as numpy's
    default and ``statistics.quantiles(method="inclusive")``); None for no values."""
    if not 0 <= q <= 1:
        raise ValueError(f"quantile {q} is not between 0 and 1")
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float | None:
    return quantile(values, 0.5)


def p90(values: Sequence[float]) -> float | None:
    return quantile(values, 0.9)


@dataclass(frozen=True)
class Durations:
    """Seconds from transmission to an event, for the requests that reached it."""

    seconds: tuple[float, ...] = ()

    @property
    def median(self) -> float | None:
        return median(self.seconds)

    @property
    def p90(self) -> float | None:
        return p90(self.seconds)


# --- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFacts:
    """What the report needs of one request, read from its visibility record."""

    workflow_id: str
    state: str
    started_at: datetime
    running: bool
    status: str | None
    memo: ReportMemo
    escalation_level: int = 0

    @property
    def confidentiality(self) -> Confidentiality:
        """What the report may disclose (RS 87(3), Rule 99(2)). An opaque workflow id is an
        ex parte request's whatever its memo says; a memo that does not say (written before
        the report recorded it) is read as confidential, the request's default."""
        if self.workflow_id.startswith(OPAQUE_ID_PREFIX):
            return Confidentiality.EX_PARTE
        return self.memo.confidentiality or Confidentiality.CONFIDENTIAL

    @property
    def ex_parte(self) -> bool:
        return self.confidentiality is Confidentiality.EX_PARTE

    @property
    def protected(self) -> bool:
        """Confidential or ex parte: shown only in aggregates over enough of them."""
        return self.confidentiality is not Confidentiality.PUBLIC

    @property
    def answered(self) -> bool:
        return self.memo.acknowledged_at is not None

    @property
    def outstanding(self) -> bool:
        """Still awaited: execution not ended, not closed, and the workflow still running."""
        return (
            self.running
            and self.memo.ended_at is None
            and self.status != RequestStatus.CLOSED.value
        )

    @property
    def escalated(self) -> bool:
        return max(self.memo.max_escalation_level, self.escalation_level) >= 1

    def seconds_to(self, at: datetime | None) -> float | None:
        return None if at is None else max((at - self.started_at).total_seconds(), 0.0)


@dataclass(frozen=True)
class StateStats:
    """One requested State's line in the report."""

    state: str
    sent: int = 0
    answered: int = 0
    outstanding: int = 0
    answered_outstanding: int = 0
    escalated: int = 0
    to_acknowledgement: Durations = Durations()
    to_first_report: Durations = Durations()
    to_execution_end: Durations = Durations()
    totals: dict[str, CurrencyTotals] = field(default_factory=dict)

    @property
    def ended(self) -> int:
        """Sent and no longer outstanding (executed, no assets, denied, withdrawn, closed)."""
        return self.sent - self.outstanding


@dataclass(frozen=True)
class CooperationReport:
    """The year's requests as read, and each State's line over its requests (never an ex
    parte request's: its State is not recorded where the report reads, and must not be
    guessed). Raw figures: only ``published.publish`` decides what leaves the Court."""

    year: int
    generated_at: datetime
    states: tuple[StateStats, ...]
    query: str
    build_seconds: float = 0.0
    requests: tuple[RequestFacts, ...] = ()
    min_group: int = DEFAULT_MIN_GROUP

    @property
    def ex_parte(self) -> int:
        return sum(r.ex_parte for r in self.requests)

    @property
    def sent(self) -> int:
        return sum(s.sent for s in self.states)

    @property
    def answered(self) -> int:
        return sum(s.answered for s in self.states)

    @property
    def outstanding(self) -> int:
        return sum(s.outstanding for s in self.states)

    @property
    def escalated(self) -> int:
        return sum(s.escalated for s in self.states)

    @property
    def totals(self) -> dict[str, CurrencyTotals]:
        """Per-currency sums over all States."""
        return add_totals(s.totals for s in self.states)

    @property
    def currencies(self) -> list[str]:
        return sorted(self.totals)


def add_totals(parts: Iterable[dict[str, CurrencyTotals]]) -> dict[str, CurrencyTotals]:
    out: dict[str, CurrencyTotals] = {}
    for part in parts:
        for currency, t in part.items():
            acc = out.setdefault(currency, CurrencyTotals())
            for name in TOTAL_FIELDS:
                setattr(acc, name, getattr(acc, name) + getattr(t, name))
    return out


def state_stats(state: str, facts: Sequence[RequestFacts]) -> StateStats:
    """Aggregate one State's requests."""
    ack = [s for f in facts if (s := f.seconds_to(f.memo.acknowledged_at)) is not None]
    first = [s for f in facts if (s := f.seconds_to(f.memo.first_report_at)) is not None]
    end = [s for f in facts if (s := f.seconds_to(f.memo.ended_at)) is not None]
    return StateStats(
        state=state,
        sent=len(facts),
        answered=sum(f.answered for f in facts),
        outstanding=sum(f.outstanding for f in facts),
        answered_outstanding=sum(f.outstanding and f.answered for f in facts),
        escalated=sum(f.escalated for f in facts),
        to_acknowledgement=Durations(tuple(ack)),
        to_first_report=Durations(tuple(first)),
        to_execution_end=Durations(tuple(end)),
        totals=add_totals(f.memo.totals for f in facts),
    )


def aggregate(
    year: int,
    facts: Iterable[RequestFacts],
    query: str,
    now: datetime | None = None,
    min_group: int = DEFAULT_MIN_GROUP,
) -> CooperationReport:
    """Each State's line over its requests; ex parte requests are kept aside (Rule 99(2))."""
    requests = tuple(facts)
    by_state: dict[str, list[RequestFacts]] = {}
    for f in requests:
        if not f.ex_parte:
            by_state.setdefault(f.state, []).append(f)
    return CooperationReport(
        year=year,
        generated_at=now or datetime.now(UTC),
        states=tuple(state_stats(s, by_state[s]) for s in sorted(by_state)),
        query=query,
        requests=requests,
        min_group=check_min_group(min_group),
    )


# --- reading visibility -------------------------------------------------------------------


def year_query(year: int, extra_query: str | None = None) -> str:
    """The visibility query of the request workflows started in ``year`` (UTC)."""
    query = (
        f'WorkflowType = "{WORKFLOW_TYPE}" '
        f'AND StartTime >= "{year:04d}-01-01T00:00:00Z" '
        f'AND StartTime < "{year + 1:04d}-01-01T00:00:00Z"'
    )
    return f"{query} AND ({extra_query})" if extra_query else query


def decode_memo(raw: Any) -> ReportMemo:
    """The report memo, tolerant of keys a newer workflow may add; empty if absent."""
    if not isinstance(raw, dict):
        return ReportMemo()
    return ReportMemo.model_validate({k: v for k, v in raw.items() if k in ReportMemo.model_fields})


async def facts_of(wf: WorkflowExecution) -> RequestFacts:
    attrs = wf.typed_search_attributes
    memo = decode_memo(await wf.memo_value("report", None))
    # An ex parte request shows no State (Rule 99(2)); it never makes a State's line.
    state = attrs.get(sa.REQUESTED_STATE) or wf.id.rsplit("/", 1)[-1]
    return RequestFacts(
        workflow_id=wf.id,
        state=state,
        started_at=memo.transmitted_at or wf.start_time,
        running=wf.status in (None, WorkflowExecutionStatus.RUNNING),
        status=attrs.get(sa.REQUEST_STATUS),
        memo=memo,
        escalation_level=attrs.get(sa.ESCALATION_LEVEL) or 0,
    )


def merge_runs(runs: Sequence[RequestFacts]) -> RequestFacts:
    """A request continued-as-new is listed once per run: the latest run says where it
    stands; the earliest listed run's start stands for its transmission."""
    latest = max(runs, key=lambda r: (r.started_at, r.running))
    first = min(r.started_at for r in runs)
    if first == latest.started_at:
        return latest
    return RequestFacts(
        workflow_id=latest.workflow_id,
        state=latest.state,
        started_at=first,
        running=latest.running,
        status=latest.status,
        memo=latest.memo,
        escalation_level=latest.escalation_level,
    )


class Progress:
    """A carriage-return counter on stderr (no dependency), redrawn at most 10 times a second."""

    def __init__(self, total: int, stream: TextIO | None = None, label: str = "requests") -> None:
        self.total, self.stream, self.label = total, stream or sys.stderr, label
        self.done = 0
        self._drawn = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._drawn >= 0.1 or self.done >= self.total:
            self._drawn = now
            self._draw()

    def _draw(self) -> None:
        pct = 100 * self.done // self.total if self.total else 100
        width = 30
        filled = width * min(self.done, self.total) // self.total if self.total else width
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} ({pct}%)")
        self.stream.flush()

    def close(self) -> None:
        self._draw()
        self.stream.write("\n")
        self.stream.flush()


async def build_report(
    client: Client,
    year: int,
    progress: bool,
    extra_query: str | None = None,
    *,
    progress_min: int = PROGRESS_MIN,
    stream: TextIO | None = None,
    min_group: int = DEFAULT_MIN_GROUP,
) -> CooperationReport:
    """The cooperation report of ``year`` from one visibility listing.

    ``extra_query`` narrows the listing (e.g. ``CaseNumber = "ICC-01/22"``). The progress bar
    (stderr, or ``stream``) is shown when ``progress`` and the year holds at least
    ``progress_min`` executions.
    """
    began = time.perf_counter()
    query = year_query(year, extra_query)
    bar: Progress | None = None
    if progress:
        total = (await client.count_workflows(query)).count
        if total >= progress_min:
            bar = Progress(total, stream)
    runs: dict[str, list[RequestFacts]] = {}
    async for wf in client.list_workflows(query, page_size=PAGE_SIZE):
        facts = await facts_of(wf)
        runs.setdefault(facts.workflow_id, []).append(facts)
        if bar is not None:
            bar.advance()
    if bar is not None:
        bar.close()
    report = aggregate(year, (merge_runs(r) for r in runs.values()), query, min_group=min_group)
    return replace(report, build_seconds=time.perf_counter() - began)


def format_duration(seconds: float | None) -> str:
    """``3d 4h``, ``2h 05m``, ``4m 10s``, ``0.8s``; ``-`` for none."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    d = timedelta(seconds=round(seconds))
    days, rest = d.days, d.seconds
    hours, minutes, secs = rest // 3600, rest % 3600 // 60, rest % 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def format_amount(amount: Decimal) -> str:
    return f"{amount:,.2f}"
