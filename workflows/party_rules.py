"""The rules of a party's directory: Rule 180 changes of channel or language, and RS 96(3)
consultations with the register of national-law requirements they produce.

Each Court action has a ``check`` (reads only, raises ``Refusal`` with a reason the Registry can
act on) and an ``apply`` (writes, returns what happened in words). A State's notice arrives
already taken by its request (``take_notice``); it is never refused back to the request, only
ignored with a warning when it cannot belong here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from schemas.directory import (
    MAX_CHANGES_KEPT,
    MAX_CONSULTATIONS_KEPT,
    MAX_OPEN_CONSULTATIONS,
    MAX_PENDING,
    MAX_REQUIREMENTS,
    MAX_SEEN,
    RULE_180_NOTICE,
    AgreedContactChange,
    CloseNationalLawConsultation,
    ContactChange,
    DirectoryNotice,
    IgnoredNotice,
    NationalLawConsultation,
    NationalRequirement,
    OpenNationalLawConsultation,
    PartyCarry,
)
from workflows import court_admission as admission
from workflows.outcome import Refusal


def remember(carry: PartyCarry, event_id: str) -> None:
    """Count a Court action's event id as taken, for the directory's life: never forgotten, so
    a genuine signed act sent again (an agreed change of channel, Rule 180(2), captured and
    replayed) is a no-op however many acts came after it. ``check_room`` bounds them."""
    if event_id not in carry.seen:
        carry.seen.append(event_id)


def check_room(carry: PartyCarry, m: Any) -> None:
    """Refuse a new Court action once the directory holds ``MAX_SEEN`` of their ids (the
    Registry's acts stop ``DECISIONS_RESERVED`` short of it, so a Chamber's or the
    Presidency's always has room): its record stays bounded, and no id is ever dropped to make
    room."""
    admission.check_room(len(carry.seen), MAX_SEEN, m, "this party's directory")


def _keep(ids: list[str], event_id: str) -> None:
    ids.append(event_id)
    if len(ids) > MAX_SEEN:
        del ids[: len(ids) - MAX_SEEN]


NOTICE_RELAY_WINDOW = timedelta(days=1)
"""How long after its request received it a State's notice may reach the directory: a request
relays it at once (its activity retries for minutes). An older one is ignored, with the
reason: a relayed notice replayed once its id has left ``notices_seen``, or one forged with an
old receipt to take effect at once, changes nothing."""


def take_notice(carry: PartyCarry, code: str, n: DirectoryNotice, now: datetime) -> str | None:
    """Rule 180(2): the State's notice takes effect 45 days after the Court received it, for
    requests transmitted from then on. The directory counts them itself, from the notice's
    receipt by its request (``noticed_at``, covered by the relay signature) and never later
    than it reached the directory; the date the message gives is not taken. Returns why it was
    ignored: another party's notice, or one taken before.

    A party has one notice of its own pending at a time: its newest (by the time the Court
    received it) stands, and the one it replaces is kept among the superseded notices, never
    in force. So however many notices a State sends, they hold one place among the pending
    changes, and nothing it sends can stop the Court agreeing a change or a change taking
    effect."""
    if n.state != code:
        return f"a notice of {n.state} is not for the directory of {code}"
    if n.event_id in carry.notices_seen or n.event_id in carry.seen:
        return "taken before"
    if n.noticed_at < now - NOTICE_RELAY_WINDOW:
        return (
            f"received {n.noticed_at.isoformat()}, more than {NOTICE_RELAY_WINDOW.days} day "
            "before it reached the directory: a request relays its State's notice within "
            "minutes, so this is a replay or a forgery"
        )
    received = min(n.noticed_at, now)
    change = ContactChange(
        event_id=n.event_id,
        channel=n.channel,
        languages=(n.language,),
        effective_at=received + RULE_180_NOTICE,
        recorded_at=now,
        source="state_notice",
        noticed_at=received,
        request_reference=n.request_reference,
    )
    earlier = next((c for c in carry.pending if c.source == "state_notice"), None)
    if earlier is not None and _received(earlier) > _received(change):
        supersede(carry, change, by=earlier.event_id)  # arrived late: the newer one stands
    else:
        if earlier is not None:
            carry.pending.remove(earlier)
            supersede(carry, earlier, by=change.event_id)
        carry.pending.append(change)
    _keep(carry.notices_seen, n.event_id)  # never in the Court's ``seen``
    return None


def _received(c: ContactChange) -> tuple[datetime, datetime]:
    return (c.noticed_at or c.recorded_at, c.recorded_at)


def ignore(carry: PartyCarry, notice: IgnoredNotice) -> None:
    """Keep a notice not taken with its reason (the most recent ``MAX_CHANGES_KEPT``; older
    ones are counted)."""
    carry.ignored_notices.append(notice)
    dropped = max(0, len(carry.ignored_notices) - MAX_CHANGES_KEPT)
    if dropped:
        del carry.ignored_notices[:dropped]
        carry.ignored_dropped += dropped


def supersede(carry: PartyCarry, notice: ContactChange, *, by: str) -> None:
    """Keep a State notice that will never take effect, with what replaced it (the most
    recent ``MAX_CHANGES_KEPT``; older ones are counted)."""
    carry.superseded_notices.append(notice.model_copy(update={"superseded_by": by}))
    dropped = max(0, len(carry.superseded_notices) - MAX_CHANGES_KEPT)
    if dropped:
        del carry.superseded_notices[:dropped]
        carry.superseded_dropped += dropped


def bring_into_force(carry: PartyCarry, now: datetime) -> list[ContactChange]:
    """Every pending change whose time has come takes effect, in the order of its effective
    date: the contact in force changes; requests already transmitted keep theirs."""
    due = sorted(
        (c for c in carry.pending if c.effective_at <= now),
        key=lambda c: (c.effective_at, c.recorded_at),
    )
    for change in due:
        carry.pending.remove(change)
        carry.contact = carry.contact.model_copy(
            update={"channel": change.channel, "languages": change.languages}
        )
        carry.history.append(change)
    dropped = max(0, len(carry.history) - MAX_CHANGES_KEPT)
    if dropped:
        del carry.history[:dropped]
        carry.history_dropped += dropped
    return due


def next_effective(carry: PartyCarry) -> datetime | None:
    return min((c.effective_at for c in carry.pending), default=None)


# --- Court actions ----------------------------------------------------------------------------


def _settles(carry: PartyCarry, notice_event_id: str) -> ContactChange | None:
    """The State notice an agreement settles: pending, or replaced by a later notice of the
    State (which the State cannot use to undo what it agreed with the Court)."""
    for c in carry.pending:
        if c.event_id == notice_event_id and c.source == "state_notice":
            return c
    for c in carry.superseded_notices:
        if c.event_id == notice_event_id and c.event_id not in carry.superseded:
            return c
    return None


def check_agreed_change(carry: PartyCarry, m: AgreedContactChange, now: datetime) -> None:
    if m.notice_event_id is not None and _settles(carry, m.notice_event_id) is None:
        raise Refusal(
            f"no pending notice {m.notice_event_id}: an agreement settles a notice not yet "
            "in force (one in force is changed by a new agreement without it)"
        )
    if m.effective_at is not None and m.effective_at < now:
        raise Refusal(
            f"agreed time {m.effective_at:%Y-%m-%d %H:%M} UTC is past: a change takes effect "
            "for future requests only (Rule 180(2)); record it from now"
        )
    agreed = sum(c.source == "court_agreement" for c in carry.pending)
    if agreed >= MAX_PENDING:  # the State's notice never counts: it cannot block the Court
        raise Refusal(f"{MAX_PENDING} agreed changes already pending")


def apply_agreed_change(carry: PartyCarry, m: AgreedContactChange, now: datetime) -> str:
    """Rule 180(2): the time agreed between the Court and the State; an agreement on a pending
    notice replaces the notice's 45-day date (a notice the State has since replaced by a later
    one is settled all the same; its later notice stays pending)."""
    if m.notice_event_id is not None:
        settled = _settles(carry, m.notice_event_id)
        if settled is not None and settled in carry.pending:
            carry.pending.remove(settled)
            supersede(carry, settled, by=m.event_id)
        carry.superseded.append(m.notice_event_id)
        del carry.superseded[:-MAX_CHANGES_KEPT]
    effective_at = m.effective_at or now
    carry.pending.append(
        ContactChange(
            event_id=m.event_id,
            channel=m.channel,
            languages=m.languages,
            effective_at=effective_at,
            recorded_at=now,
            source="court_agreement",
            agreed_by=m.decided_by,
            supersedes=m.notice_event_id,
        )
    )
    return (
        f"Rule 180 agreed change: {m.channel} ({', '.join(m.languages)}) for requests "
        f"transmitted from {effective_at:%Y-%m-%d %H:%M} UTC"
    )


def check_open_consultation(
    carry: PartyCarry, m: OpenNationalLawConsultation, now: datetime
) -> None:
    if sum(c.open for c in carry.consultations) >= MAX_OPEN_CONSULTATIONS:
        raise Refusal(f"{MAX_OPEN_CONSULTATIONS} consultations already open: close one first")


def apply_open_consultation(
    carry: PartyCarry, m: OpenNationalLawConsultation, now: datetime
) -> str:
    """RS 96(3): the Court consults the party, generally or about one request."""
    carry.consultations.append(
        NationalLawConsultation(
            consultation_id=m.event_id,
            opened_at=now,
            opened_by=m.decided_by,
            request_reference=m.request_reference,
            questions=m.questions,
        )
    )
    closed = [c for c in carry.consultations if not c.open]
    if len(carry.consultations) > MAX_CONSULTATIONS_KEPT and closed:
        carry.consultations.remove(closed[0])
    about = f"about {m.request_reference}" if m.request_reference else "general"
    return f"RS 96(3) consultation opened ({about})"


def _consultation(carry: PartyCarry, consultation_id: str) -> NationalLawConsultation:
    for c in carry.consultations:
        if c.consultation_id == consultation_id:
            return c
    raise Refusal(f"no RS 96(3) consultation {consultation_id} with this party")


def check_close_consultation(
    carry: PartyCarry, m: CloseNationalLawConsultation, now: datetime
) -> None:
    found = _consultation(carry, m.consultation_id)
    if not found.open:
        raise Refusal(f"consultation {m.consultation_id} is already closed ({found.outcome})")
    if m.learnt_at is not None and m.learnt_at > now:
        raise Refusal("learnt_at is in the future")


def apply_close_consultation(
    carry: PartyCarry, m: CloseNationalLawConsultation, now: datetime
) -> str:
    """RS 96(3): the consultation ends when the requirements are advised (information
    supplied), or with none to report, or withdrawn; the requirements enter the register."""
    found = _consultation(carry, m.consultation_id)
    index = carry.consultations.index(found)
    carry.consultations[index] = found.model_copy(
        update={"closed_at": now, "outcome": m.outcome, "replied_by": m.replied_by}
    )
    learnt_at = m.learnt_at or now
    carry.requirements += [
        NationalRequirement(
            text=text,
            learnt_at=learnt_at,
            consultation_id=m.consultation_id,
            request_reference=found.request_reference,
        )
        for text in m.requirements
    ]
    del carry.requirements[:-MAX_REQUIREMENTS]
    return f"RS 96(3) consultation {m.outcome}: {len(m.requirements)} requirement(s) registered"
