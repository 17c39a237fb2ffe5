"""What a request checks of a Court action before its rule: the organ's signature, the date it
was decided, and room for its id.

A genuine signed act could otherwise be taken twice: an insider who captured it (it is in the
request's history and on the Court's topic) sends it again. Its id stops that for the request's
life (``workflows/request_seen.py`` keeps a Court action's id for ever, at most
``MAX_REQUEST_COURT_ACTIONS``); its date keeps it within the request's life:

- ``decided_at`` may not lie before the request was issued (``issued_at``, less
  ``CLOCK_SKEW``): a decision cannot predate the request it acts on. The request's date is the
  bound, not its transmission: an organ may decide on its request between issuing it and the
  Registry transmitting it (a stage's deadline extended before it went out, say), and the act
  reaches the request once it runs. An act a case relays (a judgment, the release of the case
  and the close after it, signed by the relay key with its Chamber's original inside,
  ``decision_signatures.check_relayed``) acts on the case and keeps its Chamber's date: a
  judgment recorded before a request was added to the case is told to it all the same. So
  does a decision in the case itself (``ON_THE_CASE``: a judgment, the forfeiture order given
  with the sentence, an admissibility ruling), whoever sends it: an enforcement request
  records the final conviction that came before it (RS 81(4), 109; Rule 217), a request
  issued after judgment for assets found since takes the judgment and the order. Its id,
  kept for the request's life, is what stops it being taken twice;
- ``decided_at`` may not lie after the request's now plus ``CLOCK_SKEW``: an act is taken once
  decided, never before (a key valid later could otherwise sign for a date to come, and the
  date of an act would say other than when the Court took it).

A case and a party's directory refuse an act dated after their clock likewise
(``case_keys.py``, ``party_keys.py``): what a case takes it relays, and a request would refuse
it. Each refusal says why in clear (it quotes only the act's own id and date). Deterministic:
the workflow's own clock (``workflow.now()``) and its input.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.court import CourtAction, request_address
    from schemas.organ_keys import RELAY
    from schemas.organs import Organ, organ_of
    from schemas.request import CourtRequest
    from workflows.carry import MAX_REQUEST_COURT_ACTIONS, RequestCarry
    from workflows.decision_signatures import RELAYED, case_of_run, check_signature
    from workflows.outcome import PublicRefusal
    from workflows.request_seen import SeenIds

ON_THE_CASE = frozenset({"judgment", "forfeiture_order", "admissibility_ruling"})
"""Decisions in the case, not on the request's own measures: they may predate the request."""
DECISIONS_RESERVED = 1_000
"""Room among a request's Court actions the Registry's acts never take: however many
administrative acts (exchange rates, deadline extensions, notifications) the Registry records,
a Chamber's or the Presidency's decision (a release, RS 57(3)(e); a withdrawal; Rules 217-221)
always finds room."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far the clock of the client that signs an act may run ahead of the workflow's (or the
request's date be set late): an act dated later than the request's now, or earlier than its
issue, by more is refused. A few minutes: the Court's hosts keep their clocks in time, and an
act is signed as it is sent."""


def admit(
    rec: RequestCarry,
    seen: SeenIds,
    request: CourtRequest,
    m: CourtAction,
    now: datetime,
    signature: bool = True,
) -> None:
    """Refused, with the reason, unless ``m`` is signed for this request by its organ (when
    ``signature``: the validator checks it once), dated within the request's life, and the
    request has room for its id."""
    if signature:  # the organ's signature, for this request, before all else
        address = request_address(request.reference, request.requested_state)
        check_signature(rec.organ_keys, m, now, address, case_of_run())
    on_case = relayed_by_case(rec, m) or getattr(m, "action_type", None) in ON_THE_CASE
    check_decided_at(m, now, None if on_case else request.issued_at)
    check_room(seen.court_actions, MAX_REQUEST_COURT_ACTIONS, m, "this request")


def check_room(taken: int, cap: int, m: CourtAction, where: str) -> None:
    """Refused once ``taken`` Court actions' ids fill ``cap`` (each kept for the life of
    ``where``), or, for the Registry's acts, ``cap`` less ``DECISIONS_RESERVED``."""
    registry = organ_of(m.decided_by) is Organ.REGISTRY
    room = cap - DECISIONS_RESERVED if registry else cap
    if taken >= room:
        whose = "the Registry's acts' share" if registry else "its cap"
        raise PublicRefusal(
            f"{where} has taken {taken} Court actions, {whose} (each one's id is kept for its "
            "life; the Chambers' and the Presidency's decisions keep room of their own): "
            "refused, nothing recorded"
        )


def check_decided_at(m: CourtAction, now: datetime, issued: datetime | None) -> None:
    """Refused if ``m`` is dated after ``now`` (plus ``CLOCK_SKEW``) or before ``issued`` (less
    ``CLOCK_SKEW``), the date of the request it acts on (None: an act on a case or a party's
    directory, or one a case relays, bounded by the clock alone)."""
    what = f"{getattr(m, 'action_type', type(m).__name__)} {m.event_id}"
    when = m.decided_at.isoformat()
    if m.decided_at > now + CLOCK_SKEW:
        raise PublicRefusal(
            f"{what} is dated {when} (decided_at), later than the clock here by more than "
            f"{_minutes(CLOCK_SKEW)}: an act is taken once it is decided, never before"
        )
    if issued is not None and m.decided_at < issued - CLOCK_SKEW:
        raise PublicRefusal(
            f"{what} is dated {when} (decided_at), before this request was issued: a decision "
            "cannot predate the request it acts on"
        )


def relayed_by_case(rec: RequestCarry, m: CourtAction) -> bool:
    """``m`` is an act the case relays (signed by the relay key, its Chamber's original
    inside): it carries the date its Chamber decided it."""
    keys, signed = rec.organ_keys, m.signature
    key = keys.get(signed.key_id) if keys is not None and signed is not None else None
    action_type = getattr(m, "action_type", None)
    return key is not None and key.organ == RELAY and action_type in RELAYED


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} minutes"
