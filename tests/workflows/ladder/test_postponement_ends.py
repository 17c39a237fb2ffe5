"""Pauses that end (RS 94, 95; docs/legal-process.md, "Pauses that end"), on a time-skipping
server: an RS 94 postponement agreed until a date ends on that date (the Court reminded, the
State told, the clock resumes where it stopped); a period only proposed ends nothing; an RS 95
postponement names its admissibility challenge and ends when the Court records its ruling on
that challenge, or orders that the collection may go on.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from activities.party import is_for_state
from schemas import court as c
from schemas.ledger import RequestStatus
from tests.builders import CHALLENGE
from tests.workflows.ladder.support import DAY, K, Ladder, close_to, of_kind, started_at, view
from tests.workflows.support import (
    acknowledgement,
    assert_rejected,
    court_action,
    court_request,
    postponement,
    reasons,
    send,
    settle,
)

S = RequestStatus


def agreed() -> c.PostponementDecision:
    """The Court agrees to the postponement proposed (RS 94 for the period proposed; RS 95:
    the challenge it names is pending before the Court)."""
    return court_action(c.PostponementDecision, agreed=True, **reasons())


def ruling(challenge: str, outcome: str = "admissible") -> c.AdmissibilityRuling:
    return court_action(
        c.AdmissibilityRuling, challenge_reference=challenge, outcome=outcome, **reasons()
    )


async def test_rs94_postponement_ends_on_the_agreed_date_and_the_clock_resumes(
    ladder: Ladder,
) -> None:
    """RS 94: on day 4 of BEL's P14D first-report stage the State postpones for another
    investigation until day 30 and the Court agrees. Nothing runs until day 30; then the
    request resumes by itself: the Court is reminded and the State told
    (postponement_period_ended, due on the agreed date), the status returns to acknowledged,
    and the first report falls due 26 days (the time postponed) later than it would have —
    the reminder comes on that date (old code: postponed forever, no clock)."""
    req = court_request(requested_state="BEL")
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await send(handle, acknowledgement(req))
    await ladder.advance_to(handle, t0 + 4 * DAY)
    until = t0 + 30 * DAY
    await send(handle, postponement(req, "RS 94", proposed_until=until.isoformat()))
    await send(handle, court_action(c.PostponementDecision, agreed=True, **reasons()))
    await settle(handle)
    paused_at = next(e.at for e in (await view(handle)).timeline if "RS 94" in e.what)

    await ladder.advance_to(handle, until - timedelta(minutes=1))
    v = await view(handle)
    assert (v.status, v.postponed_until) == (S.POSTPONED, until)
    assert ladder.events(req) == []

    await ladder.advance_to(handle, until + timedelta(minutes=1))
    v = await view(handle)
    assert (v.status, v.postponed_until) == (S.ACKNOWLEDGED, None)
    [ended] = ladder.events(req)
    assert (ended.kind, ended.deadline, ended.addressee) == (
        K.POSTPONEMENT_PERIOD_ENDED,
        until,
        "Registry",
    )
    assert close_to(ended.time, until) and is_for_state(ended)
    due = t0 + 14 * DAY + (until - paused_at)
    assert v.next_deadline is not None and close_to(v.next_deadline, due - 2 * DAY)

    await ladder.advance_to(handle, due + timedelta(hours=1))
    reminder = of_kind(ladder.events(req), K.STEP_REACHED)[-1]
    assert (reminder.step, reminder.stage) == ("reminder", "first_report")
    assert reminder.deadline is not None and close_to(reminder.deadline, due)


async def test_rs94_period_only_proposed_ends_nothing_on_the_courts_silence(
    ladder: Ladder,
) -> None:
    """RS 94: the period is one agreed with the Court. A State's proposal the Court has not
    answered does not end (or start) anything when its date passes: the request stays
    postponement_proposed; a period that ends before it is proposed is refused. Nor does the
    proposal pause the clock: the first report falls due on day 14 as if nothing had been
    proposed, and the ladder reminds the State (old code: the proposal alone paused the clock
    until the Court answered, however long it stayed silent)."""
    req = court_request(requested_state="BEL")
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await send(handle, acknowledgement(req))
    await assert_rejected(
        handle,
        ladder.published,
        postponement(req, "RS 94", proposed_until="2026-03-01T00:00:00+00:00"),
        "a postponement period ends after it is proposed",
    )
    await send(handle, postponement(req, "RS 94", proposed_until=(t0 + 10 * DAY).isoformat()))
    await ladder.advance_to(handle, t0 + 40 * DAY)
    assert (await view(handle)).status is S.POSTPONEMENT_PROPOSED
    assert of_kind(ladder.events(req), K.POSTPONEMENT_PERIOD_ENDED) == []
    reminders = [e for e in of_kind(ladder.events(req), K.STEP_REACHED) if e.step == "reminder"]
    assert reminders and reminders[0].stage == "first_report"
    assert reminders[0].deadline is not None and close_to(reminders[0].deadline, t0 + 14 * DAY)


async def test_rs95_postponement_ends_when_the_court_rules_on_the_challenge_it_names(
    ladder: Ladder,
) -> None:
    """RS 95: the State postpones while the admissibility challenge CHALLENGE is pending; the
    postponement holds, and the clock pauses, once the Court agrees (the challenge is pending
    before it). A ruling on another challenge leaves it postponed; the ruling on CHALLENGE
    ends it, the request resumes and its clock with it. A ruling is recorded on a postponed
    request only, and a new RS 95 postponement naming the challenge decided is refused (it is
    no longer under consideration)."""
    req = court_request(requested_state="BEL")
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await send(handle, acknowledgement(req))
    await ladder.advance_to(handle, t0 + 4 * DAY)
    await send(handle, postponement(req, "RS 95"))
    v = await view(handle)
    assert (v.status, v.postponement_challenge) == (S.POSTPONEMENT_PROPOSED, CHALLENGE)
    assert v.next_deadline is not None  # the clock runs until the Court answers
    await send(handle, agreed())
    v = await view(handle)
    assert (v.status, v.postponement_challenge, v.next_deadline) == (S.POSTPONED, CHALLENGE, None)

    await ladder.advance_to(handle, t0 + 20 * DAY)
    await send(handle, ruling("ICC-01/22-AC-9", "inadmissible"))
    v = await view(handle)
    assert (v.status, v.postponement_challenge) == (S.POSTPONED, CHALLENGE)
    assert "no postponement of this request waits for it" in v.timeline[-1].what

    decided = ruling(CHALLENGE)
    assert (await send(handle, decided)).status is S.ACKNOWLEDGED
    v = await view(handle)
    assert v.postponement_challenge is None and v.next_deadline is not None
    assert "the RS 95 postponement ends" in v.timeline[-1].what
    await assert_rejected(
        handle,
        ladder.published,
        ruling("ICC-01/22-AC-9", "admissible"),
        "admissibility_ruling is not allowed while the request is acknowledged",
    )
    await assert_rejected(
        handle,
        ladder.published,
        postponement(req, "RS 95"),
        f"the admissibility challenge {CHALLENGE} is no longer a ground to postpone",
    )


async def test_rs95_postponement_ends_when_the_court_orders_the_collection_to_go_on(
    ladder: Ladder,
) -> None:
    """RS 95 ('unless the Court has specifically ordered that the Prosecutor may pursue the
    collection'; RS 19(8)): the order ends the postponement though the challenge is still
    pending, and the challenge is no longer a ground for a new RS 95 postponement. A ruling on
    another challenge while postponed is recorded once: recording its decision twice is
    refused."""
    req = court_request(requested_state="BEL")
    handle = await ladder.start(req)
    await send(handle, acknowledgement(req))
    await send(handle, postponement(req, "RS 95", challenge_reference="ICC-01/22-AC-2"))
    await send(handle, agreed())
    await send(handle, ruling(CHALLENGE, "inadmissible"))
    await assert_rejected(
        handle, ladder.published, ruling(CHALLENGE), f"{CHALLENGE} was already decided"
    )
    ordered = ruling("ICC-01/22-AC-2", "collection_ordered")
    assert (await send(handle, ordered)).status is S.ACKNOWLEDGED
    await assert_rejected(
        handle,
        ladder.published,
        postponement(req, "RS 95", challenge_reference="ICC-01/22-AC-2"),
        "the Court ordered that the collection may go on (collection_ordered)",
    )


def test_an_rs95_postponement_names_its_challenge() -> None:
    """RS 95: a postponement pending an admissibility challenge names the challenge; an RS 94
    postponement names none."""
    req = court_request()
    with pytest.raises(ValidationError, match="names the admissibility challenge"):
        postponement(req, "RS 95", challenge_reference=None)
    with pytest.raises(ValidationError, match="only an RS 95 postponement waits"):
        postponement(req, "RS 94", challenge_reference=CHALLENGE)


async def test_rs95_a_postponement_for_an_unrecorded_challenge_pauses_nothing_until_agreed(
    ladder: Ladder,
) -> None:
    """RS 95 applies only while an admissibility challenge is pending before the Court. A
    postponement naming a challenge the Court has not recorded as pending leaves the clock
    running: the first report falls due on day 14 and the ladder reminds the State (old code:
    any challenge named paused the clock at once). Once the Court agrees, the challenge is
    recorded as pending; after the Court lets execution resume, a new RS 95 postponement naming
    the same challenge, still pending, pauses the clock at once. The Court's refusal of an
    RS 95 postponement resumes execution."""
    req = court_request(requested_state="BEL")
    handle = await ladder.start(req)
    t0 = await started_at(handle)
    await send(handle, acknowledgement(req))
    await ladder.advance_to(handle, t0 + 4 * DAY)
    await send(handle, postponement(req, "RS 95", challenge_reference="ICC-01/22-AC-7"))
    await ladder.advance_to(handle, t0 + 20 * DAY)
    assert (await view(handle)).status is S.POSTPONEMENT_PROPOSED
    reminders = [e for e in of_kind(ladder.events(req), K.STEP_REACHED) if e.step == "reminder"]
    assert reminders and close_to(reminders[0].deadline, t0 + 14 * DAY)  # type: ignore[arg-type]

    await send(handle, agreed())
    await send(handle, court_action(c.ResumeExecution, **reasons()))
    again = postponement(req, "RS 95", challenge_reference="ICC-01/22-AC-7")
    assert (await send(handle, again)).status is S.POSTPONED  # recorded pending: at once
    assert (await view(handle)).next_deadline is None
    await send(handle, court_action(c.ResumeExecution, **reasons()))
    await send(handle, postponement(req, "RS 95", challenge_reference="ICC-01/22-AC-8"))
    refused = court_action(c.PostponementDecision, agreed=False, **reasons())
    assert (await send(handle, refused)).status is S.ACKNOWLEDGED
    assert (await view(handle)).postponement_challenge is None
