"""What a case refuses of the Court's actions, before anything is written: a State added after
the release or without naming the request it supplements (RS 96(2), 93(1)(k)), a judgment
recorded over a final one or older than the one in force (RS 74, 83(2), 84), a release on a
judgment that is not in force or is a conviction (RS 74, 81(3)(c), 83(2); RS 61).

Pure: each rule reads the case's state and returns the reason of its refusal, or ``None``; the
case's validators raise it (``CaseActionRejected``).
"""

from __future__ import annotations

from schemas.case import (
    MAX_CASE_REQUESTS,
    MAX_JUDGMENTS,
    CaseReleaseRecord,
    RequestSummary,
    request_key,
)
from schemas.court import Judgment, JudgmentOutcome
from schemas.ledger import RequestStatus
from schemas.request import CourtRequest
from workflows.outcome import Rejection


def judgment_of(judgments: list[Judgment], reference: str) -> Judgment | None:
    """The judgment of the case under this reference, if it is recorded (its latest record:
    a judgment recorded again once final, ``becomes_final``)."""
    for judgment in reversed(judgments):
        if judgment.judgment_reference == reference:
            return judgment
    return None


def recorded(judgments: list[Judgment], reference: str) -> Judgment:
    """The judgment ``reference`` names, as recorded; refused if the case holds none."""
    judgment = judgment_of(judgments, reference)
    if judgment is None:
        raise Rejection(not_recorded(reference), "CaseActionRejected")
    return judgment


def not_recorded(reference: str) -> str:
    return f"no judgment {reference} is recorded in this case: record it first"


def state_refused(
    case_number: str,
    requests: dict[str, RequestSummary],
    release: CaseReleaseRecord | None,
    request: CourtRequest,
    judgments: list[Judgment],
) -> str | None:
    """A request to a State is added to the case unless the case was released, it belongs to
    another case, the case has it, or a further request to a party does not name the request
    it supplements (RS 96(2), 93(1)(k)); and within the case's bound of requests. The
    Presidency's enforcement request (RS 109) follows the case's final conviction it names."""
    refused = enforcement_refused(judgments, request)
    if refused is not None:
        return refused
    if release is not None:
        return (
            "the case was released: a request to restrain assets is not added after it "
            f"({release.ground}, judgment {release.order.judgment_reference})"
        )
    if request.case_number != case_number:
        return f"{request.reference} belongs to case {request.case_number}"
    party = request.requested_state
    if request_key(request.reference, party) in requests:
        return f"the case already has request {request.reference} to {party}"
    asked = sorted(s.reference for s in requests.values() if s.requested_state == party)
    if asked and request.supplements not in asked:
        return (
            f"the case already has a request to {party}: a further request to it names the "
            f"one it supplements, one of {asked} (RS 96(2), 93(1)(k))"
        )
    if len(requests) >= MAX_CASE_REQUESTS:
        return f"the case holds {MAX_CASE_REQUESTS} requests: open a new one"
    return None


def enforcement_refused(judgments: list[Judgment], request: CourtRequest) -> str | None:
    """An enforcement request (RS 109; Rules 217-218) is added only on the conviction in force
    in the case, once final: execution is suspended while an appeal may be brought or is
    pending (RS 81(4)), and an order falls with a conviction reversed (RS 83(2))."""
    order = request.enforcement
    if order is None:
        return None
    held = judgments[-1] if judgments else None
    if held is None or held.judgment_reference != order.judgment_reference:
        in_force = "no judgment" if held is None else f"judgment {held.judgment_reference}"
        return (
            f"the enforcement request follows judgment {order.judgment_reference}; the case "
            f"has {in_force} in force (RS 109, Rule 217)"
        )
    if held.outcome is not JudgmentOutcome.CONVICTION or held.finality != "final":
        return (
            f"judgment {held.judgment_reference} ({held.outcome.value}, {held.finality}) is not "
            "a final conviction: enforcement follows one (RS 109; RS 81(4))"
        )
    return None


def becomes_final(last: Judgment, judgment: Judgment) -> bool:
    """The judgment in force, recorded while an appeal could still be brought, recorded again
    as final once none was (RS 81; Rule 150: the time limit for an appeal passed): the same
    judgment, outcome, Chamber and date."""
    return (
        last.finality == "appeal_pending"
        and judgment.finality == "final"
        and (last.judgment_reference, last.outcome, last.decided_by, last.delivered_on)
        == (
            judgment.judgment_reference,
            judgment.outcome,
            judgment.decided_by,
            judgment.delivered_on,
        )
    )


def judgment_refused(judgments: list[Judgment], judgment: Judgment) -> str | None:
    """A judgment is recorded once (again only to say it became final, ``becomes_final``),
    never over a final one (a revision under RS 84 is not recorded here), never older than the
    one in force; within the case's bound."""
    if len(judgments) >= MAX_JUDGMENTS:
        return f"the case has recorded {MAX_JUDGMENTS} judgments"
    if judgments and becomes_final(judgments[-1], judgment):
        return None
    if any(j.judgment_reference == judgment.judgment_reference for j in judgments):
        return f"judgment {judgment.judgment_reference} is already recorded"
    if judgments:
        last = judgments[-1]
        if last.finality == "final":
            return (
                f"judgment {last.judgment_reference} is final: no later judgment is "
                "recorded over it (a revision under RS 84 is not recorded here)"
            )
        if judgment.delivered_on < last.delivered_on:
            return (
                f"judgment {judgment.judgment_reference} of {judgment.delivered_on} is older "
                f"than the one in force ({last.judgment_reference} of {last.delivered_on})"
            )
    return None


def release_refused(
    release: CaseReleaseRecord | None, judgments: list[Judgment], reference: str
) -> str | None:
    """A case is released once, on the judgment in force, and only on an acquittal or a
    termination (RS 74, 81(3)(c), 83(2); RS 61)."""
    if release is not None:
        return f"the case was already released ({release.order.judgment_reference})"
    judgment = judgment_of(judgments, reference)
    if judgment is None:
        return not_recorded(reference)
    if judgments[-1] is not judgment:
        return f"judgment {reference} is not the one in force ({judgments[-1].judgment_reference})"
    if not judgment.ends_without_conviction:
        return (
            f"judgment {reference} is a conviction: a case is released on an "
            "acquittal or a termination (RS 74, 81(3)(c), 83(2); RS 61)"
        )
    return None


def still_open(requests: dict[str, RequestSummary]) -> str | None:
    """A case closes only once every request in it is closed: closing it cannot orphan a
    request that still holds frozen assets."""
    open_ = sorted(k for k, s in requests.items() if s.status is not RequestStatus.CLOSED)
    if open_:
        return f"requests {open_} are still open: close them first"
    return None
