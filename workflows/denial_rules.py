"""Denials as RS 93(4) and art. 72 have them, and the consultations that come first.

- **Scope** (RS 93(4)): a State Party may deny a request, in whole or in part, only if it
  concerns the production of documents or the disclosure of evidence relating to its national
  security. Of the measures of RS 93(1)(k), identifying and tracing disclose records; freezing
  and seizing an asset disclose nothing, so no denial reaches them. A denial names the measures
  and the assets it covers; what it does not cover goes on.
- **Consultation first** (art. 72(5), 72(6)): the State and the Court seek to resolve the
  matter by cooperative means (modifying or clarifying the request, a determination of
  relevance, another source or form, conditions of the assistance). Only once that
  consultation ended unresolved may the State deny. Conditions agreed in it bind the Court
  (art. 72(5)(d)); so do conditions agreed in an RS 93(3) consultation, which otherwise ends in
  the Court modifying the request.
- **Reasons** (RS 93(6), art. 72(6)): a State that denies gives its reasons promptly, unless a
  specific description of them would itself necessarily prejudice its national security.
- **The road stays open** (art. 72(7)): a denial never meets the full-execution stage, so the
  ladder still reaches the Chamber; the Court determines what follows: it does not pursue the
  matter, requests further consultations (72(7)(a)(i)), or concludes that the State is not
  acting in accordance with its obligations and may refer the matter under RS 87(7)
  (72(7)(a)(ii)).

RS 93(5) (conditions, a later date or another manner, before denying) concerns requests
under RS 93(1)(l); for the requests here (RS 93(1)(k)) its concern is met by the art. 72(5)
consultation, whose cooperative means include conditions (72(5)(d)).

Pure functions over the request's record; deterministic.
"""

from __future__ import annotations

from datetime import datetime

from schemas.answers import Consultation, ConsultationGround, Denial
from schemas.common import Measure
from schemas.court import ConsultationResponse, NationalSecurityDetermination, Stage
from schemas.denials import DenialRecord, NationalSecurityConsultation
from schemas.escalations import EscalationKind as K
from schemas.ledger import RequestStatus
from schemas.policy import PartyKind
from schemas.request import CourtRequest
from workflows import deadlines as dl
from workflows import request_rules as rr
from workflows.asset_rules import annotate
from workflows.carry import RequestCarry
from workflows.ladder import FINDING, ladder_of, referral_targets, referral_wording
from workflows.outcome import Outcome, Refusal, entry_of

S = RequestStatus
NATIONAL_SECURITY = ConsultationGround.NATIONAL_SECURITY
FUNDAMENTAL_PRINCIPLE = ConsultationGround.FUNDAMENTAL_PRINCIPLE

DISCLOSURE = frozenset({Measure.IDENTIFY, Measure.TRACE})
"""The measures of RS 93(1)(k) that produce documents or disclose evidence (records of who
owns what, and where it went): the only ones RS 93(4) lets a State deny."""
ENDED = frozenset({S.EXECUTED, S.PARTIALLY_EXECUTED, S.NO_ASSETS, S.DENIED, S.WITHDRAWN})
MAX_DENIALS = 20
"""Denials one request takes: a State denies in a few steps, and each must deny something not
denied yet, so the record a request carries stays small whatever a party sends."""
FURTHER_CONSULTATION_FROM = frozenset(
    {S.TRANSMITTED, S.ACKNOWLEDGED, S.IN_EXECUTION, S.DENIED, S.EXECUTED}
    | {S.PARTIALLY_EXECUTED, S.NO_ASSETS}
)
"""Where the Court may request further consultations (art. 72(7)(a)(i)): not while another
consultation or a postponement is under way."""


# --- The art. 72(5) consultation ------------------------------------------------------------


def apply_consultation(
    r: RequestCarry, request: CourtRequest, m: Consultation, at: datetime
) -> Outcome:
    """A consultation pauses the clock (RS 97, 93(3), 96(3)); under art. 72(5) it is recorded
    as the step that must precede a denial on national-security grounds."""
    out = rr.apply_consultation(r, request, m, at)
    if m.ground is NATIONAL_SECURITY:
        _open_consultation(r, m.event_id, at)
        out.what = (
            "consultation under art. 72(5): the State and the Court seek to resolve by "
            "cooperative means a disclosure the State says would prejudice its national security"
        )
    return out


def check_consultation_response(
    r: RequestCarry, request: CourtRequest, m: ConsultationResponse
) -> None:
    """Only an art. 72(5) consultation ends unresolved (then the State may deny, art. 72(6));
    conditions are agreed only under RS 93(3) (another manner or conditions) and art.
    72(5)(d). An RS 93(3) consultation that does not resolve the matter ends in the Court
    modifying the request (``request_rules.check_consultation_response``)."""
    ground = r.consultation_ground
    if m.resolution == "not_resolved" and ground != NATIONAL_SECURITY.value:
        raise Refusal(
            f"only an art. 72(5) consultation ends unresolved; a consultation under {ground} "
            "ends with information supplied or the request modified"
            + (", or conditions agreed (RS 93(3))" if ground == FUNDAMENTAL_PRINCIPLE else "")
        )
    if m.resolution == "conditions_agreed" and ground not in {
        NATIONAL_SECURITY.value,
        FUNDAMENTAL_PRINCIPLE.value,
    }:
        raise Refusal(
            "conditions are agreed in a consultation under RS 93(3) or art. 72(5)(d), "
            f"not under {ground}"
        )
    if ground == FUNDAMENTAL_PRINCIPLE.value and m.resolution == "conditions_agreed":
        return  # RS 93(3): resolved by giving the assistance subject to conditions
    rr.check_consultation_response(r, request, m)


def apply_consultation_response(
    r: RequestCarry, request: CourtRequest, m: ConsultationResponse, at: datetime
) -> Outcome:
    """The Court ends the consultation. Under art. 72(5) its outcome is recorded: unresolved
    (the State may deny, art. 72(6)) or resolved by cooperative means, which lifts a denial
    the further consultations concerned (art. 72(7)(a)(i)) and resumes its execution."""
    ground, back_to = r.consultation_ground, r.resume_status
    out = rr.apply_consultation_response(r, request, m, at)
    if m.resolution == "conditions_agreed":
        out.what = (
            f"the consultation under {ground} ended with the assistance given subject to "
            f"conditions, which the Court abides by: {m.conditions}"
        )
    if ground != NATIONAL_SECURITY.value:
        return out
    _close_consultation(r, m, at)
    if m.resolution == "not_resolved":
        out.what = (
            "the art. 72(5) consultation ended unresolved: every reasonable step was taken "
            f"({m.information}); the State may deny under RS 93(4) (art. 72(6))"
        )
        return out
    lifted = False
    for i, denial in enumerate(r.denials):
        if denial.determination == "further_consultations":
            r.denials[i] = denial.model_copy(update={"determination": "resolved_by_consultation"})
            lifted = True
    if lifted:
        out.what += "; the matter of the denial is resolved by cooperative means (art. 72(5))"
        if back_to is S.DENIED:
            out.status = S.ACKNOWLEDGED  # execution resumes as resolved
    return out


def _open_consultation(r: RequestCarry, event_id: str, at: datetime) -> None:
    step = NationalSecurityConsultation(opened_at=at, event_id=event_id)
    r.national_security_consultations = [*r.national_security_consultations, step]


def _close_consultation(r: RequestCarry, m: ConsultationResponse, at: datetime) -> None:
    steps = list(r.national_security_consultations)
    if steps and steps[-1].outcome is None:
        steps[-1] = steps[-1].model_copy(
            update={
                "outcome": m.resolution,
                "outcome_event_id": m.event_id,
                "conditions": m.conditions,
            }
        )
    r.national_security_consultations = steps


# --- The denial ------------------------------------------------------------------------------


NOT_PART_9 = {
    PartyKind.NON_STATE_PARTY: "a State not party to the Statute, invited to cooperate under "
    "RS 87(5)(a)",
    PartyKind.NON_STATE_PARTY_ARRANGEMENT: "a State not party to the Statute cooperating under "
    "an ad hoc arrangement or agreement (RS 87(5)(a)), whose terms govern what it may decline",
    PartyKind.INTERNATIONAL_ORGANISATION: "an international organisation cooperating as agreed "
    "with it (RS 87(6))",
    PartyKind.SECURITY_COUNCIL_BOUND: "a State bound by the Security Council's resolution "
    "(RS 13(b)), not a State Party",
}
"""Who may not deny under RS 93(4), and how each cooperates instead."""


def check_party(r: RequestCarry) -> None:
    """RS 93(4): "a State Party may deny a request for assistance" (Part 9, RS 86): the ground
    is a State Party's. A party of another kind is refused with the provision; the request
    runs on. A request without a deadline policy has no party kind recorded and is not
    refused on this ground (every request the Court's client starts resolves one)."""
    kind = r.clocks.policy.party_kind if r.clocks is not None else None
    if kind is not None and kind is not PartyKind.STATE_PARTY:
        raise Refusal(
            f"RS 93(4) is a State Party's ground to deny (Part 9, RS 86, 93(4); art. 72): this "
            f"party is {NOT_PART_9[kind]}"
        )


def check_denial(r: RequestCarry, request: CourtRequest, m: Denial) -> None:
    """RS 93(4): a State Party's denial (``check_party``), in whole or in part, reaches only
    the production of documents or the disclosure of evidence relating to national security,
    and comes in accordance with art. 72: after the art. 72(5) consultation ended unresolved
    (art. 72(6))."""
    check_party(r)
    measures = m.measures or request.measures
    beyond = [x.value for x in Measure if x in measures and x not in DISCLOSURE]
    if beyond:
        raise Refusal(
            "RS 93(4) covers only the production of documents or disclosure of evidence "
            "relating to national security (art. 72); it does not allow denying the "
            f"{' and '.join(beyond)} of assets this request asks for; a denial in part names "
            "the identify or trace measures it denies (measures) and the assets (asset_ids)"
        )
    unasked = [x.value for x in m.measures if x not in request.measures]
    if unasked:
        raise Refusal(f"measures: the request does not ask to {' or '.join(unasked)}")
    for asset_id in m.asset_ids:
        entry_of(r, asset_id)
    if len(r.denials) >= MAX_DENIALS:
        raise Refusal(f"this request already took {MAX_DENIALS} denials: no more are taken")
    targets: list[str | None] = list(m.asset_ids) or [None]
    if all(_denied(r, x.value, a) for x in measures for a in targets):
        raise Refusal("everything this denial covers is already denied on this request")
    consultations = r.national_security_consultations
    if not consultations:
        raise Refusal(
            "RS 93(4) is invoked in accordance with art. 72: before denying, the State and the "
            "Court seek to resolve the matter by cooperative means (art. 72(5)); consult under "
            "RS 72(5) first and deny only once that consultation ended unresolved (art. 72(6))"
        )
    last = consultations[-1]
    if last.outcome is None:
        raise Refusal(
            "the art. 72(5) consultation is still under way: the State denies only once every "
            "reasonable step was taken without resolving the matter (art. 72(6))"
        )
    if last.outcome != "not_resolved":
        raise Refusal(
            f"the art. 72(5) consultation resolved the matter ({last.outcome}"
            + (f": {last.conditions}" if last.conditions else "")
            + "): execute the request as resolved, or consult again under RS 72(5)"
        )


def _denied(r: RequestCarry, measure: str, asset_id: str | None) -> bool:
    """Whether a denial in force covers ``measure`` for ``asset_id`` (None: every asset)."""
    return any(
        measure in d.measures
        and (not d.asset_ids or (asset_id is not None and asset_id in d.asset_ids))
        for d in r.denials
        if d.determination != "resolved_by_consultation"
    )


def apply_denial(r: RequestCarry, request: CourtRequest, m: Denial, at: datetime) -> Outcome:
    """A denial in whole ends execution (status denied); a denial in part records what it
    covers, on each asset it names, and the rest of the request runs on. Either way it
    leaves the full-execution stage open (art. 72(7), RS 87(7))."""
    measures = [x for x in Measure if x in (m.measures or request.measures)]
    asset_ids = sorted(m.asset_ids)
    whole = set(measures) >= set(request.measures) and (
        not asset_ids or set(asset_ids) >= set(r.ledger.entries)
    )
    record = DenialRecord(
        event_id=m.event_id,
        at=at,
        whole=whole,
        measures=[x.value for x in measures],
        asset_ids=asset_ids,
        reasons_withheld=m.specific_reasons_withheld,
    )
    r.denials = [*r.denials, record]
    denied = " and ".join(x.value for x in measures)
    reasons = (
        "specific reasons withheld as their description would itself prejudice national "
        "security (art. 72(6))"
        if m.specific_reasons_withheld
        else "with reasons (RS 93(6))"
    )
    for asset_id in asset_ids:
        note = f"{denied} denied on national-security grounds (RS 93(4), art. 72)"
        annotate(r.ledger.entries[asset_id], m.event_id, at, note)
    if whole:
        r.resume_status, r.consultation_ground = None, None
        return Outcome(
            f"denied in whole on national-security grounds (RS 93(4)), {reasons}", status=S.DENIED
        )
    of = f" of {', '.join(asset_ids)}" if asset_ids else ""
    return Outcome(
        f"denied in part on national-security grounds (RS 93(4)): {denied}{of}, {reasons}; "
        "the rest of the request is executed"
    )


def settles_stages(r: RequestCarry) -> bool:
    """Whether an ended request's status may end every stage clock: not while a denial
    stands that the Court has not determined (art. 72(7)), so the ladder still reaches the
    Chamber and RS 87(7); a withdrawal by the Court ends them whatever stands."""
    return r.status is S.WITHDRAWN or not any(d.holds_stages_open for d in r.denials)


# --- The Court's determination (art. 72(7)) --------------------------------------------------


def check_determination(r: RequestCarry, _: CourtRequest, m: NationalSecurityDetermination) -> None:
    denial = _denial(r, m.denial_event_id)
    if denial.determination not in {None, "further_consultations"}:
        raise Refusal(
            f"the Court already determined this denial ({denial.determination}, art. 72(7))"
        )
    if m.outcome == "further_consultations" and r.status not in FURTHER_CONSULTATION_FROM:
        raise Refusal(
            f"further consultations (art. 72(7)(a)(i)) wait until the request is no longer "
            f"{r.status.value}"
        )
    if m.referral_to is not None:
        if r.clocks is None:
            raise Refusal("this request runs without a deadline policy: there is no ladder")
        if FINDING not in ladder_of(r.clocks.policy):
            raise Refusal(
                "RS 87(7) refers a State Party's non-compliance; this party is "
                f"{r.clocks.policy.party_kind.value}: its ladder ends otherwise"
            )
        targets = referral_targets(r.clocks.policy, FINDING)
        if m.referral_to not in targets:
            raise Refusal(f"RS 87(7): the matter goes to the {' or '.join(targets)} only")


def apply_determination(
    r: RequestCarry, _: CourtRequest, m: NationalSecurityDetermination, at: datetime
) -> Outcome:
    """art. 72(7): the Court does not pursue the denied matter (its stage clocks end once
    nothing else holds them), requests further consultations (an art. 72(5) consultation,
    the clock paused) or concludes the State is not acting in accordance with its
    obligations, and may refer the matter under RS 87(7) (the ladder's finding is reached)."""
    i = next(i for i, d in enumerate(r.denials) if d.event_id == m.denial_event_id)
    r.denials[i] = r.denials[i].model_copy(
        update={"determination": m.outcome, "determination_event_id": m.event_id}
    )
    if m.outcome == "further_consultations":
        r.resume_status, r.consultation_ground = r.status, NATIONAL_SECURITY.value
        _open_consultation(r, m.event_id, at)
        return Outcome(
            "the Court requests further consultations on the denial (art. 72(7)(a)(i))",
            status=S.IN_CONSULTATION,
        )
    if m.outcome == "not_pursued":
        out = Outcome("the Court does not pursue the matter of the denial (art. 72(7))")
        if r.clocks is not None and r.status in ENDED and settles_stages(r):
            out.firings += dl.meet(r.clocks, set(Stage), at)
        return out
    out = Outcome(
        "the Court concludes that, by invoking RS 93(4), the State is not acting in "
        "accordance with its obligations (art. 72(7)(a)(ii))"
    )
    if m.referral_to is not None:
        c = r.clocks
        assert c is not None
        index = ladder_of(c.policy).index(FINDING)
        c.ladder.rung = max(c.ladder.rung, index + 1)
        c.ladder.reached_at, c.ladder.proposed, c.ladder.proposed_at = at, None, None
        firing = dl.Firing(
            K.STEP_REACHED, FINDING.level, FINDING.name, dl.active_stage(c),
            addressee=FINDING.addressee,
        )  # fmt: skip
        out.firings.append(firing)
        out.what += f"; {referral_wording(FINDING, m.referral_to)}"
    return out


def _denial(r: RequestCarry, event_id: str) -> DenialRecord:
    denial = next((d for d in r.denials if d.event_id == event_id), None)
    if denial is None:
        raise Refusal(f"no denial {event_id} on this request")
    return denial
