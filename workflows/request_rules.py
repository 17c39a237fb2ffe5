"""Request-level rules: receipt, consultation, postponement, execution, and the
Court's answers to them (denials and art. 72: ``workflows/denial_rules.py``). Pure functions
over the request's record; deterministic.
"""

from __future__ import annotations

from datetime import datetime

from schemas.answers import (
    Acknowledgement,
    Consultation,
    ConsultationGround,
    ExecutionReport,
    NoAssetsReport,
    Postponement,
    PostponementGround,
)
from schemas.common import Urgency
from schemas.court import (
    CloseRequest,
    ConsultationResponse,
    PostponementDecision,
    ResumeExecution,
    UrgentConfirmation,
    Withdrawal,
)
from schemas.ledger import AssetStatus, LedgerEntry, RequestStatus
from schemas.request import CourtRequest
from workflows.asset_rules import release
from workflows.carry import RequestCarry, RequestVersion
from workflows.enforcement_rules import still_recovering
from workflows.forfeiture_hold import split
from workflows.ledger import apply_result, check_report, fully_executed
from workflows.outcome import Outcome, Refusal

S = RequestStatus


def apply_acknowledgement(
    r: RequestCarry, _: CourtRequest, m: Acknowledgement, at: datetime
) -> Outcome:
    """Acknowledgement of receipt (practice): starts the execution clock."""
    return Outcome(f"acknowledged by {m.authority}", status=S.ACKNOWLEDGED)


def apply_consultation(r: RequestCarry, _: CourtRequest, m: Consultation, at: datetime) -> Outcome:
    """Consultation (RS 97(a), 97(c), 93(3), 96(3)): the clock pauses until the Court answers."""
    r.resume_status = r.status
    r.consultation_ground = m.ground.value
    return Outcome(f"consultation under {m.ground.value}", status=S.IN_CONSULTATION)


PENDING = "pending"
"""How the request records a challenge the Court has before it (its agreement to an RS 95
postponement naming it), beside its rulings (``admissibility_rulings``)."""


def ruling_of(r: RequestCarry, challenge: str) -> str | None:
    """The last outcome recorded for ``challenge`` on this request, if any: ``pending``, or
    the Court's ruling (``workflows/postponements.py``)."""
    found = None
    for recorded in r.admissibility_rulings:
        ref, _, outcome = recorded.rpartition("=")
        if ref == challenge:
            found = outcome
    return found


def apply_postponement(r: RequestCarry, _: CourtRequest, m: Postponement, at: datetime) -> Outcome:
    """A State's postponement holds, and pauses the clock, only once the Court answers: an
    RS 94 period is the State's proposal until the Court agrees to it (the clock runs
    meanwhile, ``workflows/postponements.py`` ends an agreed one); an RS 95 postponement holds
    while the admissibility challenge it names is pending before the Court, so it pauses the
    clock at once only for a challenge the Court has recorded as pending, and otherwise waits,
    the clock running, for the Court's decision on it."""
    r.resume_status = r.status
    if m.ground is PostponementGround.ANOTHER_INVESTIGATION:
        assert m.proposed_until is not None
        r.postponed_until = m.proposed_until
        return Outcome(
            f"postponement proposed under RS 94 until {m.proposed_until:%Y-%m-%d}; the clock "
            "runs until the Court agrees",
            status=S.POSTPONEMENT_PROPOSED,
        )
    r.postponed_until = None
    r.postponement_challenge = m.challenge_reference
    if ruling_of(r, m.challenge_reference or "") == PENDING:
        return Outcome(
            f"execution postponed under RS 95 while the admissibility challenge "
            f"{m.challenge_reference} is pending",
            status=S.POSTPONED,
        )
    return Outcome(
        f"postponement proposed under RS 95 for the admissibility challenge "
        f"{m.challenge_reference}, not recorded as pending before the Court; the clock runs "
        "until the Court answers",
        status=S.POSTPONEMENT_PROPOSED,
    )


EXECUTION_ENDED = frozenset({S.EXECUTED, S.PARTIALLY_EXECUTED})
"""An executed request still takes a supplementary execution report (RS 93(1)(k), 96, 99):
a new lead found after execution is recorded on the same request, without a new one. It
records the assets and leaves the request ended (executed or partially executed), so a State's
further reports never keep the request, or its case, from closing."""


def not_enforcing(request: CourtRequest, what: str) -> None:
    """The Presidency's enforcement request (RS 109) is answered by enforcement reports: an
    RS 99 report of measures executed or of no assets found does not answer its order."""
    if request.enforcement is not None:
        raise Refusal(
            f"{what} answers a request to identify, trace, freeze or seize (RS 93(1)(k), 99); "
            "this is the Presidency's enforcement request (RS 109): report on the order with "
            "an enforcement report"
        )


def _order_of(request: CourtRequest) -> tuple[object, ...]:
    """What a modification may not change: the legal basis, and on an enforcement request the
    order and the assets it names (Rule 218(1)(b))."""
    named = sorted(a.asset_id for a in request.known_assets) if request.enforcement else []
    return request.legal_basis, request.enforcement, named


def check_execution(r: RequestCarry, request: CourtRequest, m: ExecutionReport) -> None:
    not_enforcing(request, "an execution report")
    check_report(r.ledger, request, m)
    if r.status in EXECUTION_ENDED:
        entries = r.ledger.entries.values()
        if entries and all(e.status is AssetStatus.RELEASED for e in entries):
            raise Refusal(
                f"the request is {r.status.value} and every asset of it is released: nothing "
                "is left to execute (the measures' basis is gone, e.g. after an acquittal), so "
                "a supplementary execution report no longer applies (RS 93(1)(k), 99)"
            )
        known = sorted(
            x.asset_id
            for x in m.results
            if x.asset_id in r.ledger.entries and x.asset_id not in r.supplementary_assets
        )
        if known:
            raise Refusal(
                f"the request is {r.status.value}: a supplementary execution report records "
                f"newly found assets only (RS 93(1)(k), 99), and {', '.join(known)} "
                "is already in the ledger"
            )
    for result in m.results:
        entry = r.ledger.entries.get(result.asset_id)
        if entry is not None and not entry.status.executing:
            raise Refusal(
                f"asset {result.asset_id!r} is {entry.status.value}: "
                "execution reports no longer apply"
            )


def apply_execution(
    r: RequestCarry, request: CourtRequest, m: ExecutionReport, at: datetime
) -> Outcome:
    """Execution report (RS 99): per-asset progress, partial or final."""
    _end_postponement(r)
    changed: list[LedgerEntry] = []
    if r.status in EXECUTION_ENDED:
        new = [x.asset_id for x in m.results if x.asset_id not in r.ledger.entries]
        r.supplementary_assets.extend(new)
    for result in m.results:
        before, after = apply_result(r.ledger, result, m.event_id, at, m.sent_at)
        if after != before and after.restrained:
            changed.append(r.ledger.entries[result.asset_id])
    if r.status in EXECUTION_ENDED and not m.final:
        status = r.status  # supplementary and partial: the request stays ended
    elif not m.final:
        status = S.IN_EXECUTION
    else:
        status = S.EXECUTED if fully_executed(r.ledger, request) else S.PARTIALLY_EXECUTED
    kind = "final" if m.final else "partial"
    if r.status in EXECUTION_ENDED:
        kind = f"supplementary {kind}"
    what = f"{kind} execution report on " + ", ".join(x.asset_id for x in m.results)
    return Outcome(what, status=status, assets=changed)


def check_no_assets(r: RequestCarry, request: CourtRequest, m: NoAssetsReport) -> None:
    not_enforcing(request, "a no-assets report")
    if r.ledger.restrained():
        raise Refusal("no-assets report contradicts assets already frozen or seized")


def apply_no_assets(r: RequestCarry, _: CourtRequest, m: NoAssetsReport, at: datetime) -> Outcome:
    """No assets found (RS 99): the measure closes for this State."""
    _end_postponement(r)
    return Outcome("no assets found", status=S.NO_ASSETS)


# --- The Court's side --------------------------------------------------------------------


def check_consultation_response(
    r: RequestCarry, request: CourtRequest, m: ConsultationResponse
) -> None:
    ground = r.consultation_ground
    ends_in_modification = ground is not None and ConsultationGround(ground).ends_in_modification
    if ends_in_modification and m.resolution not in {"request_modified", "conditions_agreed"}:
        raise Refusal(
            f"a consultation under {ground} that did not resolve the matter ends in the Court "
            "modifying the request"
        )
    new = m.modified_request
    kept = ("reference", "requested_state", "case_number", "issuing_organ")
    if new is not None and any(getattr(new, f) != getattr(request, f) for f in kept):
        raise Refusal(
            "a modified request keeps its reference, requested State and case number, and the "
            "organ that made it, whose acts on it are (RS 94(1), 96, 97)"
        )
    if new is not None and _order_of(new) != _order_of(request):
        raise Refusal(
            "a modified request keeps its legal basis, and the order it enforces and the assets "
            "it names: the order is "
            "the Trial Chamber's, given effect as made (RS 109(1); Rules 218-220); another "
            "order is another request"
        )


def apply_consultation_response(
    r: RequestCarry, request: CourtRequest, m: ConsultationResponse, at: datetime
) -> Outcome:
    """The Court supplies information or modifies the request (a new version, history kept)."""
    status = _resume(r)
    r.consultation_ground = None
    if m.modified_request is None:
        return Outcome("the Court supplied information", status=status)
    version = (r.versions[-1].version if r.versions else 1) + 1
    r.versions.append(
        RequestVersion(version=version, at=at, event_id=m.event_id, request=m.modified_request)
    )
    for asset in m.modified_request.known_assets:
        if asset.asset_id not in r.ledger.entries:
            r.ledger.entries[asset.asset_id] = LedgerEntry(asset=asset)
    return Outcome(f"the Court modified the request (version {version})", status=status)


def check_postponement_decision(r: RequestCarry, _: CourtRequest, m: PostponementDecision) -> None:
    if r.postponement_challenge is not None:
        if m.until is not None:
            raise Refusal(
                "until: an RS 95 postponement lasts while the admissibility challenge is "
                "pending, not to a date"
            )
        return
    if m.agreed and m.until is None and r.postponed_until is None:
        raise Refusal("until: an agreed RS 94 postponement needs an end date")
    if m.agreed and m.until is not None and m.until <= m.decided_at:
        raise Refusal("until: an agreed postponement ends after the decision")


def apply_postponement_decision(
    r: RequestCarry, _: CourtRequest, m: PostponementDecision, at: datetime
) -> Outcome:
    """RS 94: the postponement lasts for a period agreed with the Court, or is refused. RS 95:
    the Court's agreement records the challenge as pending before it, and the postponement
    holds until its ruling (``workflows/postponements.py``); a refusal ends it. The clock
    pauses only once the postponement holds."""
    challenge = r.postponement_challenge
    if not m.agreed:
        r.postponed_until, r.postponement_challenge = None, None
        return Outcome("the Court refused the postponement", status=_resume(r))
    if challenge is not None:
        r.admissibility_rulings.append(f"{challenge}={PENDING}")
        return Outcome(
            f"the Court agreed to postpone under RS 95 while the admissibility challenge "
            f"{challenge} is pending before it",
            status=S.POSTPONED,
        )
    r.postponed_until = m.until or r.postponed_until
    assert r.postponed_until is not None
    return Outcome(
        f"the Court agreed to postpone until {r.postponed_until:%Y-%m-%d}", status=S.POSTPONED
    )


def apply_resume(r: RequestCarry, _: CourtRequest, m: ResumeExecution, at: datetime) -> Outcome:
    """A postponement ends (RS 95 challenge decided, or the RS 94 period ran out)."""
    r.postponed_until = None
    return Outcome(f"execution resumes: {m.reasons}", status=_resume(r))


def check_urgent_confirmation(
    r: RequestCarry, request: CourtRequest, m: UrgentConfirmation
) -> None:
    if request.urgency is not Urgency.URGENT:
        raise Refusal("only an urgent request is confirmed through the formal channel (RS 96(1))")
    if r.urgent_confirmed_at is not None:
        raise Refusal("the urgent request was already confirmed")


def apply_urgent_confirmation(
    r: RequestCarry, _: CourtRequest, m: UrgentConfirmation, at: datetime
) -> Outcome:
    """RS 96(1): an urgent request is confirmed through the formal channel."""
    r.urgent_confirmed_at = at
    return Outcome(f"urgent request confirmed through {m.channel} (RS 96(1))")


def apply_withdrawal(r: RequestCarry, _: CourtRequest, m: Withdrawal, at: datetime) -> Outcome:
    """The Court withdraws the protective request: every frozen or seized asset is
    released. An asset held under a forfeiture order (RS 77(2)(b)) stays held: the order is
    the Trial Chamber's, enforced under RS 109 and Rules 217-218, and withdrawing the
    request that protected the asset does not set it aside. It goes on to transfer and
    allocation, and the request closes only once it is settled."""
    out = Outcome("request withdrawn by the Court", status=S.WITHDRAWN)
    free, held = split(r.ledger.restrained())
    for entry in free:
        out.assets.append(release(entry, "withdrawal", m.event_id, at))
    if held:
        kept = ", ".join(f"{e.asset.asset_id} ({e.forfeiture_order})" for e in held)
        out.what += f"; held under forfeiture orders, not released: {kept} (RS 77(2)(b), 109)"
    return out


def check_close(r: RequestCarry, _: CourtRequest, m: CloseRequest) -> None:
    recovering = still_recovering(r)
    if recovering:
        raise Refusal(
            f"the State is still recovering the value of {recovering} (RS 109(2)): the "
            "request closes once it reports what it recovered or that it cannot"
        )
    open_assets = sorted(
        a
        for a, e in r.ledger.entries.items()
        if not e.status.settled
        and not (e.enforced_by is not None and e.status is AssetStatus.FORFEITURE_ORDERED)
    )
    if open_assets:
        raise Refusal(
            f"assets {open_assets} are still frozen or seized, or await transfer or "
            "allocation: release them, or forfeit, transfer and allocate them first"
        )


def apply_close(r: RequestCarry, _: CourtRequest, m: CloseRequest, at: datetime) -> Outcome:
    """The Registry closes the request; every asset is settled."""
    return Outcome(f"closed: {m.reason}", status=S.CLOSED)


def resume_status(r: RequestCarry) -> RequestStatus:
    """Where a consultation or postponement that ends returns the request to."""
    status = r.resume_status or S.ACKNOWLEDGED
    r.resume_status = None
    r.postponement_challenge = None
    return status


_resume = resume_status


def _end_postponement(r: RequestCarry) -> None:
    """A State that reports during a postponement has resumed execution."""
    if r.status is S.POSTPONED:
        r.postponed_until, r.resume_status, r.postponement_challenge = None, None, None
