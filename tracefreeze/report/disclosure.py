"""What the cooperation report may disclose of confidential and ex parte requests.

The report goes to the Assembly of States Parties (seed para 28 of ICC-ASP/14/Res.3); the
requests it counts are, by default, confidential (RS 87(3): the requested State keeps the
request and its documents confidential, as the Court does), and an ex parte request (Rule
99(1)) is made without notice to the person: nothing about it may show. So:

- **Ex parte requests** are left out of every table, plot and total. The report says only how
  many there were, and only when they are at least ``min_group``; values never.
- **Confidential requests** count only in aggregates over at least ``min_group`` of them
  (k-anonymity): a figure is shown only when the requests behind it include no confidential
  request or at least ``min_group`` of them, so no single confidential request can be read
  off a total. A row that fails is merged into an "other" row; when the other row fails in
  turn, the smallest shown rows holding confidential requests join it (secondary
  suppression), so that the shown rows and the other row, subtracted from the total, never
  leave a group of fewer. When even the total fails, every figure of the table is withheld.
- **Public requests** (``Confidentiality.PUBLIC``) are shown as they are.

A memo written before the report recorded confidentiality is read as confidential, the
request's default (``schemas.request.CourtRequest``). ``min_group`` comes from the settings
(``TRACEFREEZE_REPORT_MIN_GROUP``, default 5, at least 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

DEFAULT_MIN_GROUP = 5
"""Fewest confidential requests an aggregate may show (the settings may raise it)."""
MIN_GROUP_FLOOR = 2
"""A threshold of one would show a single confidential request: never allowed."""
WITHHELD = "withheld"
"""What a cell shows in place of a figure it may not disclose."""

T = TypeVar("T")


def check_min_group(min_group: int) -> int:
    if min_group < MIN_GROUP_FLOOR:
        raise ValueError(
            f"min_group {min_group}: at least {MIN_GROUP_FLOOR}, or a total could show a "
            "single confidential request"
        )
    return min_group


def safe(members: Iterable[T], protected: Callable[[T], bool], min_group: int) -> bool:
    """An aggregate over ``members`` may be shown: none of them is protected, or at least
    ``min_group`` are."""
    count = sum(1 for m in members if protected(m))
    return count == 0 or count >= min_group


@dataclass(frozen=True)
class Partition(Generic[T]):
    """A table's groups after suppression: the rows shown, the merged rest, the total."""

    shown: tuple[tuple[str, tuple[T, ...]], ...]
    other: tuple[T, ...]
    """The members of the groups merged into the "other" row (empty: no such row)."""
    other_groups: int
    other_shown: bool
    """False: the other row's figures are withheld (and then the total's as well)."""
    total: tuple[T, ...]
    total_shown: bool


def partition(
    groups: Mapping[str, Sequence[T]],
    protected: Callable[[T], bool],
    min_group: int,
) -> Partition[T]:
    """Split ``groups`` (row key -> members, disjoint) into shown rows and one "other" row
    so that every figure shown aggregates no protected member or at least ``min_group``.

    Primary suppression: a group with 1 .. min_group-1 protected members goes to "other".
    Secondary suppression: while "other" is not safe, the shown group with the fewest
    protected members (not zero) joins it, so "total - shown rows" is never a small group.
    """
    check_min_group(min_group)

    def count(members: Iterable[T]) -> int:
        return sum(1 for m in members if protected(m))

    shown = {k: tuple(v) for k, v in groups.items() if v and safe(v, protected, min_group)}
    merged = {k: tuple(v) for k, v in groups.items() if v and k not in shown}
    while merged and not safe(_flat(merged.values()), protected, min_group):
        candidates = [k for k, v in shown.items() if count(v) > 0]
        if not candidates:
            break
        smallest = min(candidates, key=lambda k: (count(shown[k]), str(k)))
        merged[smallest] = shown.pop(smallest)
    other = _flat(merged.values())
    total = _flat(tuple(v) for v in groups.values())
    other_shown = safe(other, protected, min_group)
    total_shown = safe(total, protected, min_group)
    return Partition(
        shown=tuple(sorted(shown.items())),
        other=other,
        other_groups=len(merged),
        other_shown=other_shown,
        total=total,
        total_shown=total_shown,
    )


def _flat(parts: Iterable[Sequence[T]]) -> tuple[T, ...]:
    return tuple(m for part in parts for m in part)


def protected_count(count: int, min_group: int) -> str:
    """A count of requests that are all protected (the ex parte requests of the year): the
    number from ``min_group`` up; below it, "fewer than N", whether there were some or none
    (saying "none" would tell, by contrast, when there was one)."""
    return str(count) if count >= min_group else f"fewer than {min_group}"
