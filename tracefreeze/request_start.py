"""How the Court's side starts a request's first run: how long it remembers an answer's
event id (``dedupe_window``) and its start input (``first_run``), as ``RequestClient.submit``
makes them and the long-life benchmark reuses them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from schemas.completeness import CompletenessOverride
from schemas.court import EnforcementRequestMade
from schemas.enforcement import OrderEnforced
from schemas.policy import ResolvedPolicy
from schemas.request import CourtRequest
from schemas.views import SEEN_IDS_CAP
from tracefreeze.config import Settings
from workflows.carry import RequestRun

DEDUPE_MARGIN = timedelta(days=1)
"""Beyond the intake's answer age limit: its clock-skew tolerance and any clock difference."""


def dedupe_window(settings: Settings) -> timedelta:
    """How long a request remembers an answer's event id: the bridge refuses an answer older
    than ``answer_max_age_days`` (``tracefreeze/intake/gate.py``), so an id older than that and a
    margin can never come back (``workflows/request_seen.py``)."""
    return timedelta(days=settings.answer_max_age_days) + DEDUPE_MARGIN


def first_run(
    settings: Settings,
    request: CourtRequest,
    policy: ResolvedPolicy,
    override: CompletenessOverride | None = None,
    window: timedelta | None = None,
    seen_ids_cap: int = SEEN_IDS_CAP,
    notice: EnforcementRequestMade | None = None,
) -> RequestRun:
    """The start input of ``request``'s first run: the configured topics, the deadline policy
    in force, the completeness override if any (RS 96(2), Rule 176(2)), the dedupe window
    (``dedupe_window`` unless ``window`` is given) and the most ids it holds in it; for an
    enforcement request, the Presidency's signed ``notice`` to the request it supplements."""
    topics = settings.topics
    return RequestRun(
        request=request,
        events_topic=topics.request_events,
        escalations_topic=topics.escalations,
        policy=policy,
        dedupe_window=dedupe_window(settings) if window is None else window,
        completeness_override=override,
        seen_ids_cap=seen_ids_cap,
        enforcement_notice=notice,
    )


NOTICE_MAX_ASSETS = 100
"""Most assets an enforcement request tells the request it supplements of (its workflow tells
no more: ``workflows/request_links.py``)."""


def enforcement_notice(
    request: CourtRequest, decided_at: datetime, principal: str | None
) -> EnforcementRequestMade | None:
    """The Presidency's act telling the request an enforcement request supplements of the
    assets its forfeiture order names (RS 109, Rule 217; Rule 218(1)(b)), to be signed by the
    Presidency for that request; None for any other request."""
    named = tuple(a.asset_id for a in request.known_assets)
    if request.enforcing is not OrderEnforced.FORFEITURE or request.supplements is None:
        return None
    if not 0 < len(named) <= NOTICE_MAX_ASSETS:
        return None
    return EnforcementRequestMade(
        event_id=str(uuid.uuid4()),
        decided_by="Presidency",
        decided_at=decided_at,
        principal=principal,
        case_number=request.case_number,
        enforcement_reference=request.reference,
        asset_ids=named,
    )
