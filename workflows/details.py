"""Plain-words Markdown for the Temporal UI: where a request stands and what is awaited.

No names of persons and no asset descriptions: only ids, kinds, statuses and totals.
"""

from __future__ import annotations

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


def current_details(request: CourtRequest, status: RequestStatus, ledger: Ledger) -> str:
    lines = [
        f"**Status:** {status.value.replace('_', ' ')}",
        f"**Awaiting:** {AWAITED[status]}",
        "",
        "| asset | kind | status | contested |",
        "|---|---|---|---|",
    ]
    for asset_id, entry in sorted(ledger.entries.items()):
        contested = "yes" if entry.contested else ""
        lines.append(
            f"| {asset_id} | {entry.asset.kind.value} | {entry.status.value} | {contested} |"
        )
    for currency, t in ledger.totals().items():
        lines.append("")
        lines.append(
            f"**{currency}:** frozen {t.frozen}, seized {t.seized}, identified {t.identified}"
        )
    return "\n".join(lines)


def static_details(request: CourtRequest) -> str:
    """Static details shown on the request's page in the UI."""
    measures = ", ".join(m.value for m in request.measures)
    purposes = ", ".join(p.value for p in request.purposes)
    return "\n".join(
        [
            f"**Request** {request.reference} — case {request.case_number}",
            f"**Requested State:** {request.requested_state}",
            f"**Issued by:** {request.issuing_organ.value} under {request.legal_basis.value}",
            f"**Measures:** {measures}",
            f"**Purposes:** {purposes}",
            f"**Urgency:** {request.urgency.value}; **confidentiality:** "
            f"{request.confidentiality.value}; **origin:** {request.origin.value}",
        ]
    )
