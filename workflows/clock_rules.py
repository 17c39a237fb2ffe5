"""Court actions and State notices that act on the clocks: escalation decisions, deadline
extensions, freeze-limit proposals and the Chamber's answers to them (RS 97), and Rule 180
notices of a change of channel or language."""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.answers import ChannelChangeNotice, FreezeLimitProposal
from schemas.court import DeadlineExtension, EscalationDecision, FreezeLimitResponse
from schemas.directory import RULE_180_NOTICE
from schemas.escalations import DirectoryChange
from schemas.escalations import EscalationKind as K
from schemas.policy import ResolvedPolicy
from schemas.request import CourtRequest
from workflows import deadlines as d
from workflows import freeze_limits
from workflows.asset_rules import apply_freeze_limit
from workflows.carry import Clocks, RequestCarry
from workflows.firing import Firing
from workflows.ladder import Step, ladder_of, level_of, referral_targets, referral_wording
from workflows.outcome import Outcome, Refusal


def _clocks(r: RequestCarry) -> Clocks:
    if r.clocks is None:
        raise Refusal("this request runs without a deadline policy: there is no clock to act on")
    return r.clocks


def check_decision(r: RequestCarry, _: CourtRequest, m: EscalationDecision) -> None:
    c = _clocks(r)
    if c.ladder.proposed is None:
        raise Refusal("no escalation step is awaiting a decision")
    step = ladder_of(c.policy)[c.ladder.proposed]
    if m.step != step.name:
        raise Refusal(f"the step awaiting a decision is {step.name}, not {m.step}")
    if m.referral_to is not None or (step.refers and m.proceed):
        check_referral(c.policy, step, m)


def check_referral(policy: ResolvedPolicy, step: Step, m: EscalationDecision) -> None:
    """A referral goes only where the law lets this step send it."""
    if m.referral_to is None and m.proceed:
        raise Refusal(f"referral_to: {step.basis}: say to whom the matter goes")
    if m.referral_to == "security_council" and not (
        policy.situation is not None and policy.situation.council_referred
    ):
        where = policy.situation.number if policy.situation else "this request's situation"
        raise Refusal(
            f"no referral to the Security Council: the Council did not refer {where} "
            "(RS 13(b)); a finding or information goes to the Council only where it referred "
            "the situation (RS 87(5)(b), 87(7))"
        )
    if m.referral_to is not None and m.referral_to not in referral_targets(policy, step):
        if not step.refers:
            raise Refusal(f"{step.name} refers nothing to anyone ({step.basis})")
        raise Refusal(
            f"{step.name} goes to the {' or '.join(referral_targets(policy, step))} "
            f"only ({step.basis})"
        )


def apply_decision(
    r: RequestCarry, _: CourtRequest, m: EscalationDecision, at: datetime
) -> Outcome:
    """Steps 3-5: the system proposed, a person decides (RS 87(7), ICC-ASP/10/Res.5)."""
    c = _clocks(r)
    index = c.ladder.proposed
    assert index is not None
    step = ladder_of(c.policy)[index]
    c.ladder.proposed = c.ladder.proposed_at = None
    if m.proceed:
        c.ladder.rung, c.ladder.reached_at = index + 1, at
        firing = d.Firing(
            K.STEP_REACHED, step.level, step.name, d.active_stage(c), addressee=step.addressee
        )
        what = f"escalation: {step.name} decided ({step.basis})"
        if m.referral_to:
            what += f", {referral_wording(step, m.referral_to)}"
    else:
        c.ladder.reached_at = at  # the proposal returns after the step's interval
        firing = d.Firing(
            K.STEP_DECLINED, level_of(c.policy, c.ladder.rung), step.name, d.active_stage(c)
        )
        what = f"escalation: {step.name} declined"
    return Outcome(what, firings=[firing])


def check_extension(r: RequestCarry, _: CourtRequest, m: DeadlineExtension) -> None:
    if m.stage in _clocks(r).met:
        raise Refusal(f"the {m.stage.value} stage is already met: nothing to extend")


def apply_extension(
    r: RequestCarry, _: CourtRequest, m: DeadlineExtension, at: datetime
) -> Outcome:
    """A Chamber extends a deadline (audited); an overdue stage that is no longer due steps down."""
    c = _clocks(r)
    c.extensions[m.stage] = c.extensions.get(m.stage, timedelta(0)) + m.by
    deadline = d.stage_deadline(c, m.stage, at)
    firings = [
        d.Firing(
            K.DEADLINE_EXTENDED, level_of(c.policy, c.ladder.rung), stage=m.stage, deadline=deadline
        )
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
    """A State proposes to limit a freeze: an RS 97 consultation with the Court. The freeze
    stays in force; the Registry is told now and the Court reminded on the policy's
    schedule until a Chamber decides (the Court's silence never accepts the proposal)."""
    out = apply_freeze_limit(r, req, m, at)
    if r.clocks is not None:
        level = level_of(r.clocks.policy, r.clocks.ladder.rung)
        out.firings += freeze_limits.open_consultation(r.clocks, m, at, level)
    out.what += " (RS 97 consultation; the freeze stays in force until a Chamber decides)"
    return out


def check_freeze_limit_response(r: RequestCarry, _: CourtRequest, m: FreezeLimitResponse) -> None:
    missing = freeze_limits.pending_for(_clocks(r), m.asset_ids)
    if missing:
        raise Refusal(f"no freeze-limit proposal awaits the Court's answer for {missing}")


def apply_freeze_limit_response(
    r: RequestCarry, _: CourtRequest, m: FreezeLimitResponse, at: datetime
) -> Outcome:
    """The Chamber answers, however late: the freeze is maintained (the proposal is closed)
    or limited (the Chamber's decision lifts it on the date it sets, at once if passed)."""
    decided = freeze_limits.decide(_clocks(r), r.ledger, m, at)
    assets = ", ".join(m.asset_ids)
    chamber = m.chamber.replace("_", " ")
    if m.outcome == "freeze_maintained":
        for f in decided:
            r.ledger.entries[f.asset_id].freeze_limit_until = None
        return Outcome(f"the {chamber} maintained the freeze on {assets} (RS 97 consultation)")
    lift_at = min(f.lift_at for f in decided if f.lift_at is not None)
    for f in decided:
        r.ledger.entries[f.asset_id].freeze_limit_until = f.lift_at
    return Outcome(
        f"the {chamber} limited the freeze on {assets}: lifted from {lift_at:%Y-%m-%d %H:%M} UTC"
    )


def apply_channel_change(
    r: RequestCarry, req: CourtRequest, m: ChannelChangeNotice, at: datetime
) -> Outcome:
    """Rule 180: a change of channel or language takes effect at the agreed time or, failing
    agreement, 45 days after notice — without prejudice to requests already made. This
    request keeps its channel and language; the notice is recorded, published for the Registry
    and forwarded to the party's directory (``workflows/party_directory.py``) for future
    requests."""
    notice = (
        r.clocks.policy.clocks.channel_change_notice if r.clocks is not None else RULE_180_NOTICE
    )
    change = DirectoryChange(
        channel=m.channel, language=m.language, effective_at=at + notice, noticed_at=at
    )
    out = Outcome(
        f"Rule 180 notice: {m.channel} ({m.language}) for requests made from "
        f"{change.effective_at:%Y-%m-%d}; this request keeps its channel and language",
        directory=change,
    )
    if r.clocks is not None:
        out.firings.append(
            Firing(
                K.CHANNEL_CHANGE_NOTIFIED,
                level_of(r.clocks.policy, r.clocks.ladder.rung),
                deadline=change.effective_at,
                addressee="Registry",
                directory_change=change,
            )
        )
    return out
