"""Request-level rules: receipt, consultation, postponement, denial, execution, and the
Court's answers to them. Pure functions over the request's record; deterministic.
"""

from __future__ import annotations

from datetime import datetime

from schemas.answers import (
    Acknowledgement,
    Consultation,
    ConsultationGround,
    Denial,
    ExecutionReport,
    NoAssetsReport,
    Postponement,
    PostponementGround,
)
from schemas.common import Confidentiality, Measure, Urgency
from schemas.court import (
    CloseRequest,
    ConsultationResponse,
    PostponementDecision,
    ResumeExecution,
    Rule99Decision,
    Rule99Notification,
    UrgentConfirmation,
    Withdrawal,
)
from schemas.ledger import AssetStatus, LedgerEntry, RequestStatus
from schemas.request import CourtRequest
from workflows.asset_rules import annotate, release
from workflows.carry import RequestCarry, RequestVersion
from workflows.ledger import apply_result, check_report, fully_executed
from workflows.outcome import Outcome, Refusal, entry_of

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


def apply_postponement(r: RequestCarry, _: CourtRequest, m: Postponement, at: datetime) -> Outcome:
    """RS 94 postponement awaits the Court's agreement on the period; RS 95 runs until the
    admissibility challenge is decided."""
    r.resume_status = r.status
    if m.ground is PostponementGround.ANOTHER_INVESTIGATION:
        assert m.proposed_until is not None
        r.postponed_until = m.proposed_until
        return Outcome(
            f"postponement proposed under RS 94 until {m.proposed_until:%Y-%m-%d}",
            status=S.POSTPONEMENT_PROPOSED,
        )
    r.postponed_until = None
    return Outcome(
        "execution postponed under RS 95 pending the admissibility challenge", status=S.POSTPONED
    )


NOT_DISCLOSURE = frozenset({Measure.FREEZE, Measure.SEIZE})
"""Measures that are not the production of documents or the disclosure of evidence."""


def check_denial(r: RequestCarry, request: CourtRequest, m: Denial) -> None:
    """RS 93(4) allows a State to deny a request, in whole or in part, only where it concerns
    the production of documents or the disclosure of evidence relating to its national
    security (in accordance with art. 72). It does not reach the freezing or seizure of
    assets: a request that asks for them cannot be denied under RS 93(4)."""
    beyond = sorted(x.value for x in request.measures if x in NOT_DISCLOSURE)
    if beyond:
        raise Refusal(
            f"RS 93(4) covers only the production of documents or disclosure of evidence "
            f"relating to national security (art. 72); it does not allow denying the "
            f"{' and '.join(beyond)} of assets this request asks for"
        )


def apply_denial(r: RequestCarry, _: CourtRequest, m: Denial, at: datetime) -> Outcome:
    """Denial on national-security grounds (RS 93(4), 93(6)), with reasons."""
    r.resume_status, r.consultation_ground = None, None
    return Outcome("denied on national-security grounds (RS 93(4))", status=S.DENIED)


EXECUTION_ENDED = frozenset({S.EXECUTED, S.PARTIALLY_EXECUTED})
"""An executed request still takes a supplementary execution report (RS 93(1)(k), 96, 99):
a new lead found after execution is recorded on the same request, without a new one. It
records the assets and leaves the request ended (executed or partially executed), so a State's
further reports never keep the request, or its case, from closing."""


def check_execution(r: RequestCarry, request: CourtRequest, m: ExecutionReport) -> None:
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


def check_no_assets(r: RequestCarry, _: CourtRequest, m: NoAssetsReport) -> None:
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
    if ends_in_modification and m.resolution != "request_modified":
        raise Refusal(
            f"a consultation under {ground} that did not resolve the matter ends in the Court "
            "modifying the request"
        )
    new = m.modified_request
    if new is not None and (new.reference, new.requested_state, new.case_number) != (
        request.reference,
        request.requested_state,
        request.case_number,
    ):
        raise Refusal("a modified request keeps its reference, requested State and case number")


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
    if m.agreed and m.until is None and r.postponed_until is None:
        raise Refusal("until: an agreed RS 94 postponement needs an end date")
    if m.agreed and m.until is not None and m.until <= m.decided_at:
        raise Refusal("until: an agreed postponement ends after the decision")


def apply_postponement_decision(
    r: RequestCarry, _: CourtRequest, m: PostponementDecision, at: datetime
) -> Outcome:
    """RS 94: the postponement lasts for a period agreed with the Court, or is refused."""
    if not m.agreed:
        r.postponed_until = None
        return Outcome("the Court refused the postponement", status=_resume(r))
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


def check_rule99_notification(
    r: RequestCarry, request: CourtRequest, m: Rule99Notification
) -> None:
    if request.confidentiality is not Confidentiality.EX_PARTE:
        raise Refusal(
            "Rule 99 notification follows an ex parte measure; this request is not ex parte"
        )
    if not r.ledger.restrained():
        raise Refusal(
            "Rule 99 notification follows the execution of a measure: nothing is restrained yet"
        )
    unknown = set(m.notified_party_ids) - {p.party_id for p in request.parties}
    if unknown:
        raise Refusal(f"notified_party_ids {sorted(unknown)} are not parties to the request")


def apply_rule99_notification(
    r: RequestCarry, _: CourtRequest, m: Rule99Notification, at: datetime
) -> Outcome:
    """Rule 99: the person and interested parties are notified and invited to observe."""
    r.rule99_notified_at = at
    return Outcome(f"Rule 99 notification of {len(m.notified_party_ids)} person(s)")


def check_rule99_decision(r: RequestCarry, _: CourtRequest, m: Rule99Decision) -> None:
    if r.rule99_notified_at is None:
        raise Refusal("the Chamber rules on observations only after the Rule 99 notification")
    for asset_id in m.asset_ids:
        if not entry_of(r, asset_id).status.restrained:
            raise Refusal(f"asset {asset_id!r} is not restrained")


def apply_rule99_decision(
    r: RequestCarry, _: CourtRequest, m: Rule99Decision, at: datetime
) -> Outcome:
    """Rule 99(3): observations may lead to the measure being revoked or modified. A
    revocation releases the assets it names; a modification is not a revocation: the measure
    stays in force on the modified terms, recorded on each asset it concerns, and any release
    is left to an explicit release by the Court."""
    out = Outcome(f"measure {m.outcome} after Rule 99 observations")
    if m.outcome == "maintained":
        return out
    if m.outcome == "modified":
        assert m.terms is not None
        for asset_id in m.asset_ids:
            entry = r.ledger.entries[asset_id]
            entry.rule99_modifications = [*entry.rule99_modifications, m.terms]
            annotate(entry, m.event_id, at, f"measure modified under Rule 99(3): {m.terms}")
        out.what = f"measure modified after Rule 99 observations on {', '.join(m.asset_ids)}"
        return out
    for asset_id in m.asset_ids:
        out.assets.append(release(r.ledger.entries[asset_id], "revocation", m.event_id, at))
    return out


def apply_withdrawal(r: RequestCarry, _: CourtRequest, m: Withdrawal, at: datetime) -> Outcome:
    """The Court withdraws the request: every frozen or seized asset is released."""
    out = Outcome("request withdrawn by the Court", status=S.WITHDRAWN)
    for entry in r.ledger.restrained():
        out.assets.append(release(entry, "withdrawal", m.event_id, at))
    return out


def check_close(r: RequestCarry, _: CourtRequest, m: CloseRequest) -> None:
    open_assets = sorted(a for a, e in r.ledger.entries.items() if not e.status.settled)
    if open_assets:
        raise Refusal(
            f"assets {open_assets} are still frozen or seized, or await transfer or "
            "allocation: release them, or forfeit, transfer and allocate them first"
        )


def apply_close(r: RequestCarry, _: CourtRequest, m: CloseRequest, at: datetime) -> Outcome:
    """The Registry closes the request; every asset is settled."""
    return Outcome(f"closed: {m.reason}", status=S.CLOSED)


def _resume(r: RequestCarry) -> RequestStatus:
    status = r.resume_status or S.ACKNOWLEDGED
    r.resume_status = None
    return status


def _end_postponement(r: RequestCarry) -> None:
    """A State that reports during a postponement has resumed execution."""
    if r.status is S.POSTPONED:
        r.postponed_until, r.resume_status = None, None
