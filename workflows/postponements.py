"""Pauses that end (docs/legal-process.md, "Pauses that end"): an RS 94 postponement lasts
for the period agreed with the Court, and an RS 95 postponement only while the admissibility
challenge it names is under consideration by the Court.

- RS 94: the State proposes a period; the clock runs until the Court agrees to it (the
  Court's silence is not agreement). At the end of the agreed period the request resumes by
  itself: the Court is reminded, the State told (``postponement_period_ended``), and the stage
  clock resumes where it stopped. A period only proposed never ends or pauses anything.
- RS 95: the postponement names its challenge, and holds (the clock paused) only while that
  challenge is pending before the Court: at once for a challenge the Court recorded as pending
  (its agreement to an earlier RS 95 postponement naming it), otherwise once the Court agrees
  (``postponement_decision``), the clock running until then. The Court's ruling on that
  challenge (``admissibility_ruling``), or its order that the collection may go on while the
  challenge is pending, ends it. A ruling on another challenge leaves it as it is, and a
  postponement naming a challenge already ruled on is refused.

Pure functions over the request's record; deterministic.
"""

from __future__ import annotations

from datetime import datetime

from schemas.answers import Postponement, PostponementGround
from schemas.court import AdmissibilityRuling
from schemas.escalations import EscalationKind as K
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from workflows.carry import RequestCarry
from workflows.firing import Firing
from workflows.outcome import Outcome, Refusal
from workflows.request_rules import PENDING, resume_status, ruling_of

DECIDED = ("admissible", "inadmissible")
COURT = "Registry"
"""The Court's organ reminded when an agreed period ends (the Registry, RS 43(1), Rule 176)."""


def _ruling(r: RequestCarry, challenge: str) -> str | None:
    """The Court's last ruling on ``challenge`` recorded on this request, if any (a challenge
    recorded only as pending has none)."""
    found = ruling_of(r, challenge)
    return None if found == PENDING else found


def check_postponement(r: RequestCarry, _: CourtRequest, m: Postponement) -> None:
    """RS 95 allows a postponement only while the challenge is under consideration and the
    Court has not ordered that the collection may go on."""
    if m.ground is not PostponementGround.ADMISSIBILITY_CHALLENGE:
        return  # an RS 94 period ending before it is proposed is refused by bounds.py
    assert m.challenge_reference is not None
    outcome = _ruling(r, m.challenge_reference)
    if outcome is not None:
        said = "ordered that the collection may go on" if outcome not in DECIDED else "decided it"
        raise Refusal(
            f"RS 95: the admissibility challenge {m.challenge_reference} is no longer a ground "
            f"to postpone: the Court {said} ({outcome})"
        )


def check_ruling(r: RequestCarry, _: CourtRequest, m: AdmissibilityRuling) -> None:
    if _ruling(r, m.challenge_reference) in DECIDED:
        raise Refusal(f"the challenge {m.challenge_reference} was already decided on this request")


def apply_ruling(r: RequestCarry, _: CourtRequest, m: AdmissibilityRuling, at: datetime) -> Outcome:
    """RS 95: the ruling ends a postponement that waits for this challenge; execution resumes
    and the clock with it. Nothing is released or withdrawn by the ruling itself."""
    r.admissibility_rulings.append(f"{m.challenge_reference}={m.outcome}")
    what = f"admissibility challenge {m.challenge_reference}: {m.outcome.replace('_', ' ')}"
    if r.status is RequestStatus.POSTPONED and r.postponement_challenge == m.challenge_reference:
        r.postponement_challenge = None
        return Outcome(f"{what}; the RS 95 postponement ends, execution resumes", resume_status(r))
    return Outcome(f"{what}; no postponement of this request waits for it")


def period_end(r: RequestCarry) -> datetime | None:
    """When an agreed RS 94 postponement ends (none while only proposed, or under RS 95)."""
    if r.status is RequestStatus.POSTPONED and r.postponement_challenge is None:
        return r.postponed_until
    return None


def end_if_due(r: RequestCarry, now: datetime, level: int) -> list[Firing]:
    """RS 94: the agreed period is over: the request resumes and the Court is reminded."""
    until = period_end(r)
    if until is None or now < until:
        return []
    r.postponed_until = None
    r.status = resume_status(r)
    return [Firing(K.POSTPONEMENT_PERIOD_ENDED, level, deadline=until, addressee=COURT)]
