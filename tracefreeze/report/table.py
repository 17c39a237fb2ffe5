"""The report's tables as every renderer shows them, and the primitives that build them with
what ``disclosure.py`` withholds already withheld: a row below the group threshold merged into
"Other", a subset row shown only when neither it nor the rest singles a request out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tracefreeze.report.cooperation import CooperationReport, RequestFacts, state_stats
from tracefreeze.report.disclosure import WITHHELD, partition, safe

NOT_RECORDED = "not recorded"
NOT_RECORDED_YET = "not recorded yet"
COUNT_HEADERS = ("Sent", "Answered", "Outstanding", "Escalated")


def protected(f: RequestFacts) -> bool:
    return f.protected


@dataclass(frozen=True)
class Table:
    """One table of the report: what every renderer shows, cells already disclosed."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


def counts(facts: Sequence[RequestFacts]) -> tuple[str, ...]:
    s = state_stats("", facts)
    return (str(s.sent), str(s.answered), str(s.outstanding), str(s.escalated))


def withheld(n: int) -> tuple[str, ...]:
    return (WITHHELD,) * n


def other_label(n: int, what: str = "States") -> str:
    return f"Other {what} ({n}, merged)"


def merged_note(rows: Sequence[Sequence[str]], k: int, note: str = "") -> str:
    """The table's note, and what "Other ... (merged)" means when the table has one."""
    if not any(row[0].startswith("Other ") for row in rows):
        return note
    merged = (
        f"Other (merged): rows that alone would cover fewer than {k} confidential requests "
        "(RS 87(3)), with, where needed, the smallest row that would let them be computed "
        "from the total."
    )
    return f"{note} {merged}".strip()


def by(
    report: CooperationReport, key: Callable[[RequestFacts], str]
) -> dict[str, list[RequestFacts]]:
    groups: dict[str, list[RequestFacts]] = {}
    for f in report.requests:
        if not f.ex_parte:
            groups.setdefault(key(f), []).append(f)
    return groups


def count_table(
    report: CooperationReport,
    key: str,
    title: str,
    first: str,
    group: Callable[[RequestFacts], str],
    note: str = "",
) -> Table:
    part = partition(by(report, group), protected, report.min_group)
    rows = [(label, *counts(m)) for label, m in part.shown]
    if part.other:
        cells = counts(part.other) if part.other_shown else withheld(len(COUNT_HEADERS))
        rows.append((other_label(part.other_groups, "groups"), *cells))
    total = counts(part.total) if part.total_shown else withheld(len(COUNT_HEADERS))
    rows.append(("All", *total))
    if note.startswith("Not recorded") and not any(row[0] == NOT_RECORDED for row in rows):
        note = ""
    note = merged_note(rows, report.min_group, note)
    return Table(key, title, (first, *COUNT_HEADERS), tuple(rows), note)


def subset_row(
    label: str,
    members: Sequence[RequestFacts],
    among: Sequence[RequestFacts],
    min_group: int,
    cells: Callable[[Sequence[RequestFacts]], tuple[str, ...]],
    width: int,
) -> tuple[str, ...]:
    """A row over ``members``, a subset of ``among`` that other rows may overlap: shown only
    when both the subset and the rest of ``among`` are safe (``among`` minus the row must
    not single a request out either)."""
    ids = {f.workflow_id for f in members}
    rest = [f for f in among if f.workflow_id not in ids]
    if safe(members, protected, min_group) and safe(rest, protected, min_group):
        return (label, *cells(members))
    return (label, *withheld(width))
