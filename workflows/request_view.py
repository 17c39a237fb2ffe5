"""What a request shows of itself: the ``view`` query's answer, built from its carried state.

Bounded, so the answer stays under the payload limit however many answers the request took:
the ledger with per-currency totals and the most recent timeline entries (``timeline_elided``
counts the older ones, all left as request events on Kafka).
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.request import CourtRequest
    from schemas.views import TIMELINE_SHOWN, RequestView
    from workflows.carry import RequestCarry
    from workflows.request_clocks import clock_view


def request_view(
    req: CourtRequest, rec: RequestCarry, answers_seen: int, now: datetime, wakeup: datetime | None
) -> RequestView:
    """The request's view at ``now``, its next wake-up ``wakeup``."""
    shown = rec.timeline[-TIMELINE_SHOWN:]
    return RequestView(
        reference=req.reference,
        case_number=req.case_number,
        requested_state=req.requested_state,
        status=rec.status,
        ledger=rec.ledger,
        totals=rec.ledger.totals(),
        converted_totals=rec.ledger.converted_totals(),
        timeline=shown,
        timeline_elided=rec.timeline_dropped + len(rec.timeline) - len(shown),
        answers_seen=answers_seen,
        version=rec.versions[-1].version if rec.versions else 1,
        resume_status=rec.resume_status,
        postponed_until=rec.postponed_until,
        postponement_challenge=rec.postponement_challenge,
        urgent_confirmed_at=rec.urgent_confirmed_at,
        rule99_notified_at=rec.rule99_notified_at,
        rule99_application=req.rule99_application,
        national_security_consultations=rec.national_security_consultations,
        denials=rec.denials,
        **clock_view(rec.clocks, now, wakeup),
    )
