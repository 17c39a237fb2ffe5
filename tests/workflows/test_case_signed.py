"""A case takes a Court action only signed by the organ whose act it is, for this case, from
an organ the table of powers gives it to; what it relays to its requests carries the organ's
signed original, and a request refuses a relayed act whose original does not verify or says
something else (docs/signed-decisions.md). A judgment is the Trial Chamber's (RS 74, 83(2)),
a State is added by the organ that makes the requests (RS 57(3)(e), 96), a case is closed by
the Registry or a Chamber (RS 43(1)): the relay key of the workers attests only the relay."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from schemas import court as c
from schemas.case import AddState, CaseView, CloseCase
from schemas.organ_keys import REFRESH_ORGAN_KEYS
from schemas.organs import Organ
from schemas.views import AnswerReceipt
from tests.builders import new_event_id
from tests.workflows.case_support import (
    case_act,
    case_request,
    case_view,
    decided_now,
    judgment,
    open_case,
    started,
    until,
)
from tracefreeze.security.organ_keys import sign_action, signed, signer_for
from workflows.case import CaseWorkflow
from workflows.case_deliveries import relay_copy


async def refused(call: Awaitable[Any], fragment: str, kind: str) -> None:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await call
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == kind, cause
    assert fragment in cause.message, cause.message


async def keys_read(handle: WorkflowHandle) -> None:
    """The request or case has read its organ key registry (a precondition, constructed)."""
    await until(lambda: started(handle))
    await handle.execute_update(REFRESH_ORGAN_KEYS, id=f"keys-{uuid.uuid4()}", result_type=str)


async def test_a_case_takes_no_act_unsigned_forged_signed_elsewhere_or_by_an_organ_without_power(
    case_worker,
) -> None:
    """An acquittal (RS 74) unsigned, signed for another case, signed with the Registry's key
    in the Trial Chamber's name, or signed by the workers' relay key; a State added by the
    Registry or by the Presidency for a Pre-Trial Chamber's request (the organ that makes the
    request adds the party, RS 57(3)(e), 96); the case
    closed by the Presidency (RS 43(1)): each refused in clear with its reason, nothing
    recorded. The Trial Chamber's acquittal signed for this case is taken."""
    client, queue, _ = case_worker
    nld = case_request("NLD")
    case = await open_case(client, queue, nld)
    await keys_read(case)
    acquittal = judgment("acquittal")

    def record(act: c.Judgment) -> Awaitable[CaseView]:
        return case.execute_update(CaseWorkflow.record_judgment, act, id=act.event_id)

    kind = "CaseActionRejected"
    await refused(record(acquittal), "is not signed", kind)
    elsewhere = signed(acquittal, "case/ICC-02/05-01/20-ORD-ELSEWHERE")
    await refused(record(elsewhere), "was signed for another request, case or party", kind)
    for organ, fragment in (
        (Organ.REGISTRY, "is the registry's, not that of"),
        ("relay", "relayed without the organ's signed original"),
    ):
        key, key_id = signer_for(organ)
        forged = sign_action(acquittal.model_copy(update={"addressed_to": case.id}), key, key_id)
        await refused(record(forged), fragment, kind)
    for by, fragment in (
        ("Registry", "the Registry may not take add_state"),
        ("Presidency", "the Presidency may not take add_state on this request"),  # a Chamber's
    ):
        add = signed(decided_now(AddState, request=case_request("BEL"), decided_by=by), case.id)
        await refused(case.execute_update(CaseWorkflow.add_state, add), fragment, kind)
    close = signed(decided_now(CloseCase, reason="done", decided_by="Presidency"), case.id)
    await refused(
        case.execute_update(CaseWorkflow.close_case, close), "may not take close_case", kind
    )
    view = await case_view(case)
    assert view.judgments == [] and set(view.parties()) == {"NLD"} and not view.closed
    view = await case_act(case, "record_judgment", acquittal)
    assert [j.judgment_reference for j in view.judgments] == [acquittal.judgment_reference]


async def test_a_request_refuses_a_relayed_act_whose_organ_original_does_not_hold(
    case_worker,
) -> None:
    """The relay key signs a judgment for the request it relays it to, but attests only the
    relay: a relayed judgment without the Chamber's original, with an original altered after
    signing, with an original signed for another case, or saying other than its original, is
    refused by the request; the judgment as the case relays it (the Chamber's signed original
    inside) is taken (RS 74, 83(2))."""
    client, queue, _ = case_worker
    nld = case_request("NLD")
    case = await open_case(client, queue, nld)
    request = client.get_workflow_handle(nld.workflow_id)
    await keys_read(request)
    acquittal = signed(judgment("acquittal"), case.id)  # the Chamber's, for the case
    key, key_id = signer_for("relay")

    def relay(act: c.Judgment) -> c.Judgment:
        return sign_action(act.model_copy(update={"addressed_to": nld.workflow_id}), key, key_id)

    def take(act: c.Judgment) -> Awaitable[AnswerReceipt]:
        return request.execute_update(
            "record_judgment", act, id=act.event_id, result_type=AnswerReceipt
        )

    as_relayed = relay_copy(acquittal, new_event_id())
    bare = relay(as_relayed.model_copy(update={"original": None}))
    altered = acquittal.model_copy(update={"finality": "appeal_pending"})
    other_case = signed(judgment("acquittal"), "case/ICC-02/05-01/20-ORD-ELSEWHERE")
    says_other = as_relayed.model_copy(update={"finality": "appeal_pending"})
    for act, fragment in (
        (bare, "relayed without the organ's signed original"),
        (relay_copy(altered, new_event_id()), "does not verify"),
        (relay_copy(other_case, new_event_id()), "was signed for another request, case or party"),
        (says_other, "says other than the organ's original"),
    ):
        await refused(take(relay(act)), fragment, "AnswerRejected")
    receipt = await take(relay(as_relayed))
    assert not receipt.duplicate and receipt.rejected is None


async def test_an_event_id_seen_before_closes_nothing(case_worker) -> None:
    """A seen event id passes the validator unchecked (its handler is a no-op): an unsigned
    close under the event id of the judgment the case took does not close the case, whose
    requests are open (RS 43(1): a case closes once every request in it is closed)."""
    client, queue, _ = case_worker
    case = await open_case(client, queue, case_request("NLD"))
    await keys_read(case)
    acquittal = judgment("acquittal")
    await case_act(case, "record_judgment", acquittal)
    reused = decided_now(CloseCase, reason="forged", event_id=acquittal.event_id)
    await case.execute_update(CaseWorkflow.close_case, reused, id=f"reuse-{uuid.uuid4()}")
    assert not (await case_view(case)).closed
