"""Plain-words Markdown for the Temporal UI: where a request stands and what is awaited.

No names of persons and no asset descriptions: only ids, kinds, statuses and totals.
"""

from __future__ import annotations

from collections import Counter

from schemas.ledger import Ledger, RequestStatus
from schemas.request import CourtRequest

AWAITED = {
    RequestStatus.TRANSMITTED: "acknowledgement of receipt from the State",
    RequestStatus.ACKNOWLEDGED: "the State's first execution report (RS 99)",
    RequestStatus.IN_CONSULTATION: "the Court's answer to the State's consultation",
    RequestStatus.POSTPONEMENT_PROPOSED: "the Court's decision on the proposed period (RS 94)",
    RequestStatus.POSTPONED: "the end of the postponement (RS 94, 95)",
    RequestStatus.IN_EXECUTION: "further execution reports until the final one (RS 99)",
    RequestStatus.EXECUTED: "the Court's next step on the restrained assets",
    RequestStatus.PARTIALLY_EXECUTED: "the Court's next step on the restrained assets",
    RequestStatus.NO_ASSETS: "closure by the Registry",
    RequestStatus.DENIED: "the Court's response to the denial (RS 93(4), 93(6))",
    RequestStatus.WITHDRAWN: "closure once every asset is released",
    RequestStatus.CLOSED: "nothing: the request is closed",
}


def _words(value: str) -> str:
    """``pre_trial_chamber`` -> ``pre trial chamber``: enum values as a reader says them."""
    return value.replace("_", " ")


TOTALS = ("identified", "frozen", "seized", "forfeited", "released", "allocated")
"""The per-currency totals shown, in the order a request moves through them."""


def current_details(request: CourtRequest, status: RequestStatus, ledger: Ledger) -> str:
    """Where the request stands, what is awaited, each asset's status and the totals."""
    lines = [
        f"**Status:** {_words(status.value)}",
        f"**Awaiting:** {AWAITED[status]}",
    ]
    if ledger.entries:
        counts = Counter(_words(e.status.value) for e in ledger.entries.values())
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        lines += ["", f"**Assets ({len(ledger.entries)}):** {summary}", ""]
        for asset_id, entry in sorted(ledger.entries.items()):
            contested = " — **contested**" if entry.contested else ""
            lines.append(
                f"- {asset_id}: {_words(entry.asset.kind.value)}, "
                f"{_words(entry.status.value)}{contested}"
            )
    for currency, t in ledger.totals().items():
        amounts = [f"{name} {getattr(t, name):,}" for name in TOTALS if getattr(t, name)]
        lines += ["", f"**{currency}:** " + (", ".join(amounts) or "nothing valued yet")]
    return "\n".join(lines)


def static_details(request: CourtRequest) -> str:
    """Static details shown on the request's page in the UI."""
    measures = ", ".join(_words(m.value) for m in request.measures)
    purposes = ", ".join(_words(p.value) for p in request.purposes)
    return "\n".join(
        [
            f"**Request** {request.reference} — case {request.case_number}",
            f"**Requested State:** {request.requested_state}",
            f"**Issued by:** {_words(request.issuing_organ.value)} under "
            f"{request.legal_basis.value}",
            f"**Measures:** {measures}",
            f"**Purposes:** {purposes}",
            f"**Urgency:** {_words(request.urgency.value)}; **confidentiality:** "
            f"{_words(request.confidentiality.value)}; **origin:** {_words(request.origin.value)}",
        ]
    )
