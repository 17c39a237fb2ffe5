"""Requests still outstanding at the report's date, by how long ago they were transmitted
(what the Assembly asks: seed para 28 of ICC-ASP/14/Res.3). A request outstanding a year
after transmission is the one a focal point follows up first.

The age runs from transmission to the moment the report is generated. The same disclosure as
every table (``disclosure.py``): an age band covering fewer than ``min_group`` confidential
requests is merged into "Other", ex parte requests are in none (Rule 99(2)).
"""

from __future__ import annotations

from collections.abc import Sequence

from tracefreeze.report.cooperation import CooperationReport, RequestFacts
from tracefreeze.report.disclosure import partition
from tracefreeze.report.table import Table, merged_note, other_label, protected, withheld

DAY = 86_400.0
BANDS: tuple[tuple[float, str], ...] = (
    (30, "under 30 days"),
    (90, "30 to 89 days"),
    (180, "90 to 179 days"),
    (365, "180 to 364 days"),
    (float("inf"), "a year or more"),
)
"""Upper bound in days (exclusive) and the label of each age band, youngest first."""
AGE_HEADERS = ("Age since transmission", "Outstanding", "Answered", "Escalated")


def band(f: RequestFacts, report: CooperationReport) -> str:
    days = max((report.generated_at - f.started_at).total_seconds(), 0.0) / DAY
    return next(label for bound, label in BANDS if days < bound)


def _cells(facts: Sequence[RequestFacts]) -> tuple[str, ...]:
    answered = sum(f.answered for f in facts)
    escalated = sum(f.escalated for f in facts)
    return (str(len(facts)), str(answered), str(escalated))


def outstanding_by_age(report: CooperationReport) -> Table:
    """The outstanding requests by age band, youngest first, then "Other" and "All"."""
    groups: dict[str, list[RequestFacts]] = {}
    for f in report.requests:
        if f.outstanding and not f.ex_parte:
            groups.setdefault(band(f, report), []).append(f)
    part = partition(groups, protected, report.min_group)
    order = [label for _, label in BANDS]
    shown = sorted(part.shown, key=lambda item: order.index(item[0]))
    width = len(AGE_HEADERS) - 1
    rows = [(label, *_cells(members)) for label, members in shown]
    if part.other:
        cells = _cells(part.other) if part.other_shown else withheld(width)
        rows.append((other_label(part.other_groups, "age bands"), *cells))
    if groups:
        rows.append(
            ("All outstanding", *(_cells(part.total) if part.total_shown else withheld(width)))
        )
    note = (
        "Age from transmission to the report's date; answered: acknowledged by the party. "
        if rows
        else "No request outstanding."
    )
    return Table(
        "outstanding_by_age",
        "Requests outstanding, by age",
        AGE_HEADERS,
        tuple(rows),
        merged_note(rows, report.min_group, note.strip()),
    )
