"""An enforcement request tells the request it supplements (docs/legal-process.md,
'Enforcement after conviction').

The Presidency's enforcement request (RS 109, Rule 217) usually names assets an earlier
protective request to the same party holds under a forfeiture order. When it starts, it tells
that request (``enforcement_request_made``), which then records no transfer of those assets
itself and no longer waits for them to close: their transfer to the Court (RS 109(3)) and
allocation (Rule 221) are recorded on the enforcement request, once.

What it tells is the Presidency's own act, signed for the supplemented request, which came with
the enforcement request's start input (``RequestRun.enforcement_notice``, signed by the Court's
client that makes the request): relayed as signed, it is checked there as any Court action is
(the Presidency's key, the power table, ``decision_signatures.check_signature``). Nothing is
signed here: whoever can start a request cannot mark a protective request as enforced, nor block
the Presidency's own request, without the Presidency's signature (review M2, #17). Without such
an act, or with one that is not this request's (another enforcement request, case or party,
assets this request does not name), nothing is told and the timeline says why: the Presidency
then tells the protective request with its own signed act.

Sent through the same activity a case sends its Court actions with (``activities/case.py``):
refused only by the other request's rules, retried when it cannot be reached for a moment. Told
once it is taken or refused; not reached, it is told again at the request's next run; what came
of it is on the enforcement request's timeline. Only a forfeiture order's assets are told (Rule
218(1)(b)), and only those the protective request holds under a forfeiture order are let go of
there.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from schemas.case import DELIVER_TO_REQUEST, DeliveryResult, RequestDelivery
    from schemas.court import EnforcementRequestMade, request_address
    from schemas.enforcement import OrderEnforced
    from schemas.request import CourtRequest, request_workflow_id
    from workflows.carry import RequestCarry


async def tell_supplemented(
    rec: RequestCarry, request: CourtRequest, notice: EnforcementRequestMade | None
) -> str | None:
    """Tell the supplemented request of this enforcement request's assets, once, with the
    Presidency's signed ``notice``; returns the timeline note (None when there is nothing to
    tell)."""
    first, order = request.supplements, request.enforcement
    named = tuple(a.asset_id for a in request.known_assets)
    forfeiture = order is not None and order.order is OrderEnforced.FORFEITURE
    if rec.supplemented_told or not forfeiture or first is None or not 0 < len(named) <= 100:
        return None  # RS 109: the assets a forfeiture order names (Rule 218(1)(b))
    address = request_address(first, request.requested_state)
    wrong = "no act of the Presidency signed for it came with this request"
    if notice is None or (wrong := not_this_requests(notice, request, address, named) or ""):
        rec.supplemented_told = True  # nothing to send: the Presidency tells it itself
        return (
            f"request {first} NOT told ({wrong}): the Presidency tells it with its own act "
            "signed for it (enforcement_request_made, RS 109, Rule 217)"
        )
    delivery = RequestDelivery(
        workflow_id=request_workflow_id(first, request.requested_state),
        update="note_enforcement_request",
        action=notice,  # the Presidency's act as signed: nothing is signed here
    )
    try:
        result: DeliveryResult = await workflow.execute_activity(
            DELIVER_TO_REQUEST,
            delivery,
            result_type=DeliveryResult,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(minutes=1)),
            summary=f"enforcement request told to {first}",
        )
    except ActivityError:
        result = DeliveryResult(outcome="ended", reason="it could not be reached")
    if result.outcome == "taken":
        rec.supplemented_told = True
        return (
            f"request {first} told: it records no transfer of what it holds under a "
            "forfeiture order of the assets this order names (RS 109(3))"
        )
    rec.supplemented_told = result.outcome == "refused"  # a refusal stands; else told again
    then = (
        "the Court decides before recording any transfer here"
        if rec.supplemented_told
        else "told again at this request's next run"
    )
    return f"request {first} NOT told ({result.outcome}: {result.reason}): {then}"


def not_this_requests(
    notice: EnforcementRequestMade, request: CourtRequest, address: str, named: tuple[str, ...]
) -> str | None:
    """Why ``notice`` is not the Presidency's act telling the supplemented request (``address``)
    of this enforcement request, if it is not (its signature is verified where it is taken)."""
    theirs = "the Presidency's act that came with this request"
    if notice.signature is None:
        return f"{theirs} is not signed"
    if notice.addressed_to != address:
        return f"{theirs} is signed for another request"
    ours = (request.reference, request.case_number)
    if (notice.enforcement_reference, notice.case_number) != ours:
        return f"{theirs} names another enforcement request or case"
    if not set(notice.asset_ids) <= set(named):
        return f"{theirs} names assets this request does not"
    return None
