"""What the Assembly asks about beyond the per-State figures (seed para 28 of
ICC-ASP/14/Res.3), each a table built from ``table.py``'s primitives: requests by kind of party,
legal basis, origin (Defence requests apart, RS 57(3)(b)) and furthest follow-up step (findings
of non-compliance, RS 87(7)); completeness overrides (RS 96(2); Rule 176(2)); assets released
by the ground of the Court's decision, acquittal and termination first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from schemas.common import LegalBasis, Origin
from schemas.court import ReleaseGround
from schemas.policy import PartyKind
from tracefreeze.report.cooperation import CooperationReport, RequestFacts, format_amount
from tracefreeze.report.disclosure import WITHHELD, partition
from tracefreeze.report.table import (
    NOT_RECORDED,
    NOT_RECORDED_YET,
    Table,
    count_table,
    protected,
    subset_row,
)

PARTY_KIND_LABELS = {
    PartyKind.STATE_PARTY: "State Party (RS 86)",
    PartyKind.NON_STATE_PARTY_ARRANGEMENT: "State under an arrangement (RS 87(5))",
    PartyKind.NON_STATE_PARTY: "non-party State (RS 87(5)(a))",
    PartyKind.SECURITY_COUNCIL_BOUND: "State bound by a Security Council resolution (RS 13(b))",
    PartyKind.INTERNATIONAL_ORGANISATION: "international organisation (RS 87(6))",
}
ORIGIN_LABELS = {
    Origin.CHAMBER: "Chamber",
    Origin.PROSECUTION: "Prosecution",
    Origin.DEFENCE: "Defence (RS 57(3)(b))",
}


def _party_kind(f: RequestFacts) -> str:
    kind = f.memo.party_kind
    return PARTY_KIND_LABELS[kind] if kind else NOT_RECORDED


def _legal_basis(f: RequestFacts) -> str:
    return f.memo.legal_basis.value if f.memo.legal_basis else NOT_RECORDED


def _origin(f: RequestFacts) -> str:
    """The request's origin; a memo without one but resting on RS 57(3)(b) is the Defence's
    (the Pre-Trial Chamber acts on the arrested person's request there)."""
    if f.memo.origin is not None:
        return ORIGIN_LABELS[f.memo.origin]
    if f.memo.legal_basis is LegalBasis.RS_57_3_B:
        return ORIGIN_LABELS[Origin.DEFENCE]
    return NOT_RECORDED


ESCALATION_LABELS = {
    0: "0: none",
    1: "1: reminder to the focal point (seed para 9)",
    2: "2: Registry follow-up or consultation (RS 87(1)(a), 87(6))",
    3: "3: report to the Chamber",
    4: "4: finding of non-compliance (RS 87(7)), or the Assembly or Council informed "
    "(RS 87(5)(b), 13(b))",
    5: "5: the Assembly's non-cooperation procedures (ICC-ASP/10/Res.5)",
}


def _escalation(f: RequestFacts) -> str:
    level = max(f.memo.max_escalation_level, f.escalation_level)
    return ESCALATION_LABELS.get(level, f"{level}")


def breakdowns(report: CooperationReport) -> tuple[Table, ...]:
    return (
        count_table(
            report,
            "by_party_kind",
            "Requests by kind of party",
            "Kind of party",
            _party_kind,
            note="Not recorded: requests started without a deadline policy (the kind of "
            "party is the policy's).",
        ),
        count_table(
            report, "by_legal_basis", "Requests by legal basis", "Legal basis", _legal_basis
        ),
        count_table(
            report,
            "by_origin",
            "Requests by origin (Defence requests: RS 57(3)(b))",
            "Origin",
            _origin,
        ),
        count_table(
            report,
            "by_escalation",
            "Requests by the furthest step of follow-up reached",
            "Step",
            _escalation,
            note="A step from 3 on is taken only on a person's decision.",
        ),
    )


def _overridden_articles(f: RequestFacts) -> set[str]:
    override = f.memo.completeness_override
    return {x.article for x in override.findings} if override is not None else set()


def completeness(report: CooperationReport) -> Table:
    """Requests transmitted complete or on an override (RS 96(2); Rule 176(2)), and the
    overrides by the article of the finding overridden."""
    requests = [f for f in report.requests if not f.ex_parte]
    overridden = [f for f in requests if f.memo.completeness_override is not None]
    complete = [f for f in requests if f.memo.completeness_override is None]
    groups = {"transmitted complete": complete, "transmitted on an override": overridden}
    shown = dict(partition(groups, protected, report.min_group).shown)

    def count(m: Sequence[RequestFacts]) -> tuple[str, ...]:
        return (str(len(m)),)

    rows: list[tuple[str, ...]] = [
        (label, str(len(shown[label])) if label in shown else WITHHELD)
        for label, members in groups.items()
        if members
    ]
    for article in sorted(set().union(*map(_overridden_articles, overridden))):
        citing = [f for f in overridden if article in _overridden_articles(f)]
        label = f"override of a finding under {article}"
        rows.append(subset_row(label, citing, overridden, report.min_group, count, 1))
    note = (
        "An override is a named person's decision to transmit a request the completeness "
        "check found incomplete (RS 96(2); Rule 176(2)). Requests the check stopped and "
        "nobody transmitted are no workflow and are not counted here."
    )
    headers = ("Requests", "Count")
    title = "Completeness of the requests transmitted"
    return Table("completeness", title, headers, tuple(rows), note)


# --- releases -----------------------------------------------------------------------------

RELEASE_LABELS = {
    "acquittal": "acquittal",
    "termination": "termination of proceedings",
    "withdrawal": "withdrawal of the request",
    "revocation": "revocation of the measure",
    "third_party": "third party's claim upheld (Rule 99(3))",
    "domestic_remedy": "domestic remedy upheld",
    "freeze_limited_by_chamber": "freeze limited by the Chamber (RS 97)",
}
ASKED_GROUNDS = ("acquittal", "termination")
"""The grounds the Assembly asks about: a row even when nothing was released on them."""
RELEASE_HEADERS = ("Ground of release", "Requests", "Assets", "Value (public requests only)")


def _release_value(facts: Iterable[RequestFacts], ground: str) -> str:
    sums: dict[str, Decimal] = {}
    for f in facts:
        if f.protected or ground not in f.memo.released:
            continue
        for currency, amount in f.memo.released[ground].values.items():
            sums[currency] = sums.get(currency, Decimal(0)) + amount
    return "; ".join(f"{format_amount(v)} {c}" for c, v in sorted(sums.items())) or "-"


def releases(report: CooperationReport) -> Table:
    """Assets released by ground. Values only of public requests: a confidential request's
    released value shows only in the per-State value table, under its threshold."""
    requests = [f for f in report.requests if not f.ex_parte]
    releasing = [f for f in requests if f.memo.released]
    recorded = {g.value for g in ReleaseGround}
    grounds = sorted({g for f in releasing for g in f.memo.released} | set(ASKED_GROUNDS))
    grounds = [g for g in ASKED_GROUNDS if g in grounds] + [
        g for g in grounds if g not in ASKED_GROUNDS
    ]
    rows: list[tuple[str, ...]] = []
    not_yet: list[str] = []
    for ground in grounds:
        label = RELEASE_LABELS.get(ground, ground.replace("_", " "))
        members = [f for f in releasing if ground in f.memo.released]
        if ground not in recorded and not members:
            rows.append((label, NOT_RECORDED_YET, NOT_RECORDED_YET, NOT_RECORDED_YET))
            not_yet.append(ground)
            continue

        def cells(m: Sequence[RequestFacts], g: str = ground) -> tuple[str, ...]:
            assets = sum(f.memo.released[g].assets for f in m)
            return (str(len(m)), str(assets), _release_value(m, g))

        rows.append(subset_row(label, members, releasing, report.min_group, cells, 3))
    note = "Each release is a decision of a Chamber or the Presidency; nothing lapses."
    if not_yet:
        note += (
            f" Not recorded yet: no release records the ground {', '.join(not_yet)} (the death "
            "of the accused or the withdrawal of the charges); such releases count under the "
            "ground the Court's release gave."
        )
    return Table(
        "releases",
        "Assets released, by the ground of the Court's decision",
        RELEASE_HEADERS,
        tuple(rows),
        note,
    )
