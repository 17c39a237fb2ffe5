"""Court actions and State notices that act on the clocks: escalation decisions, deadline
extensions, answers to freeze-limit proposals, and Rule 180 channel changes."""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.answers import ChannelChangeNotice, FreezeLimitProposal
from schemas.clocks import (
    ChannelChange,
    Clocks,
    DeadlineExtension,
    EscalationDecision,
    FreezeLimitClock,
    FreezeLimitResponse,
)
from schemas.escalations import EscalationKind as K
from schemas.request import CourtRequest
from schemas.views import RequestCarry
from workflows import deadlines as d
from workflows.asset_rules import apply_freeze_limit
from workflows.ladder import LADDER, level_of
from workflows.outcome import Outcome, Rejection


def _clocks(r: RequestCarry) -> Clocks:
    if r.clocks is None:
        raise Rejection("this request runs without a deadline policy: there is no clock to act on")
    return r.clocks


def check_decision(r: RequestCarry, _: CourtRequest, m: EscalationDecision) -> None:
    c = _clocks(r)
    if c.ladder.proposed is None:
        raise Rejection("no escalation step is awaiting a decision")
    proposed = LADDER[c.ladder.proposed].name
    if m.step != proposed:
        raise Rejection(f"the step awaiting a decision is {proposed}, not {m.step}")
    if m.step == "non_compliance_finding" and m.proceed and m.referral_to is None:
        raise Rejection("referral_to: an RS 87(7) finding refers the State to the Assembly or UNSC")


def apply_decision(
    r: RequestCarry, _: CourtRequest, m: EscalationDecision, at: datetime
) -> Outcome:
    """Steps 3-5: the system proposed, a person decides (RS 87(7), ICC-ASP/10/Res.5)."""
    c = _clocks(r)
    index = c.ladder.proposed
    assert index is not None
    step = LADDER[index]
    c.ladder.proposed = c.ladder.proposed_at = None
    if m.proceed:
        c.ladder.rung, c.ladder.reached_at = index + 1, at
        firing = d.Firing(
            K.STEP_REACHED, step.level, step.name, d.active_stage(c), addressee=step.addressee
        )
        what = f"escalation: {step.name} decided ({step.basis})"
        if m.referral_to:
            what += f", referral to the {m.referral_to.replace('_', ' ')}"
    else:
        c.ladder.reached_at = at  # the proposal returns after the step's interval
        firing = d.Firing(K.STEP_DECLINED, level_of(c.ladder.rung), step.name, d.active_stage(c))
        what = f"escalation: {step.name} declined"
    return Outcome(what, firings=[firing])


def check_extension(r: RequestCarry, _: CourtRequest, m: DeadlineExtension) -> None:
    if m.stage in _clocks(r).met:
        raise Rejection(f"the {m.stage.value} stage is already met: nothing to extend")


def apply_extension(
    r: RequestCarry, _: CourtRequest, m: DeadlineExtension, at: datetime
) -> Outcome:
    """A Chamber extends a deadline (audited); an overdue stage that is no longer due steps down."""
    c = _clocks(r)
    c.extensions[m.stage] = c.extensions.get(m.stage, timedelta(0)) + m.by
    deadline = d.stage_deadline(c, m.stage, at)
    firings = [
        d.Firing(K.DEADLINE_EXTENDED, level_of(c.ladder.rung), stage=m.stage, deadline=deadline)
    ]
    if d.active_stage(c) is m.stage and at < deadline:
        if m.stage in c.reminded:
            c.reminded.remove(m.stage)
        firings += d.deescalate(c, at)
    return Outcome(
        f"{m.stage.value} deadline extended to {deadline:%Y-%m-%d %H:%M} UTC", firings=firings
    )


def apply_freeze_limit_clock(
    r: RequestCarry, req: CourtRequest, m: FreezeLimitProposal, at: datetime
) -> Outcome:
    """The proposal starts a clock the Court must beat (cf. EU 2018/1805 art. 12)."""
    out = apply_freeze_limit(r, req, m, at)
    if r.clocks is not None:
        silence = at + r.clocks.policy.clocks.freeze_limit_silence
        r.clocks.freeze_limits = [
            f for f in r.clocks.freeze_limits if f.asset_id not in m.asset_ids
        ]
        for asset_id in m.asset_ids:
            r.clocks.freeze_limits.append(
                FreezeLimitClock(asset_id=asset_id, silence_due=silence, until=m.proposed_until)
            )
    return out


def check_freeze_limit_response(r: RequestCarry, _: CourtRequest, m: FreezeLimitResponse) -> None:
    pending = {
        f.asset_id
        for f in _clocks(r).freeze_limits
        if f.objected is None and not f.accepted_by_silence
    }
    missing = sorted(set(m.asset_ids) - pending)
    if missing:
        raise Rejection(f"no freeze-limit proposal awaits the Court's answer for {missing}")


def apply_freeze_limit_response(
    r: RequestCarry, _: CourtRequest, m: FreezeLimitResponse, at: datetime
) -> Outcome:
    """The Court objects (the freeze stays) or accepts (it lapses on the proposed date)."""
    for fl in _clocks(r).freeze_limits:
        if fl.asset_id in m.asset_ids:
            fl.objected = m.objected
    verb = "objected to" if m.objected else "accepted"
    return Outcome(f"the Court {verb} the freeze limit on {', '.join(m.asset_ids)}")


def apply_channel_change(
    r: RequestCarry, _: CourtRequest, m: ChannelChangeNotice, at: datetime
) -> Outcome:
    """Rule 180: a change of channel or language takes effect 45 days after notice."""
    if r.clocks is None:
        return Outcome(f"channel change to {m.channel} ({m.language}) noted; no clock to apply it")
    effective = at + r.clocks.policy.clocks.channel_change_notice
    r.clocks.channel_change = ChannelChange(
        channel=m.channel, language=m.language, effective_at=effective
    )
    return Outcome(
        f"channel change to {m.channel} ({m.language}) effective {effective:%Y-%m-%d} (Rule 180)"
    )
