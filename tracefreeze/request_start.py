"""How the Court's side starts a request's first run: how long it remembers an answer's
event id (``dedupe_window``) and its start input (``first_run``), as ``RequestClient.submit``
makes them and the long-life benchmark reuses them."""

from __future__ import annotations

from datetime import timedelta

from schemas.completeness import CompletenessOverride
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
) -> RequestRun:
    """The start input of ``request``'s first run: the configured topics, the deadline policy
    in force, the completeness override if any (RS 96(2), Rule 176(2)), the dedupe window
    (``dedupe_window`` unless ``window`` is given) and the most ids it holds in it."""
    topics = settings.topics
    return RequestRun(
        request=request,
        events_topic=topics.request_events,
        escalations_topic=topics.escalations,
        policy=policy,
        dedupe_window=dedupe_window(settings) if window is None else window,
        completeness_override=override,
        seen_ids_cap=seen_ids_cap,
    )
