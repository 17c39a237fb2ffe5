"""Consulting on a request, agreeing or ending its postponement and withdrawing it are the acts
of the organ that made it (RS 94(1), 96, 97), read from the request's own ``issuing_organ``:
the Presidency, which may take these acts on its own enforcement requests (RS 109; Rule
217), does not withdraw a Pre-Trial Chamber's request (RS 57(3)(e)); that Chamber does."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from schemas import court as c
from schemas.ledger import RequestStatus
from tests.builders import court_action, reasons
from tests.workflows.support import assert_rejected, consultation, in_execution, send, view


async def test_the_presidency_does_not_withdraw_a_chambers_request_the_chamber_does(
    worker,
) -> None:
    req, handle = await in_execution(worker)
    assert req.issuing_organ.value == "pre_trial_chamber"
    by_presidency = court_action(c.Withdrawal, decided_by="Presidency", **reasons())
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await send(handle, by_presidency)  # signed with the Presidency's own key
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "AnswerRejected", cause
    assert "the Presidency may not take withdrawal on this request" in cause.message
    assert (await view(handle)).status is RequestStatus.IN_EXECUTION
    await send(handle, court_action(c.Withdrawal, decided_by="Pre-Trial Chamber II", **reasons()))
    assert (await view(handle)).status is RequestStatus.WITHDRAWN


async def test_a_modification_does_not_hand_the_request_to_another_organ(worker) -> None:
    """RS 93(3), 96(3), 97: the organ that made the request modifies it after consultation,
    but a modification that names another issuing organ is refused: which organ acts on the
    request (RS 94(1), 97) is not changed by one of its own acts."""
    req, handle = await in_execution(worker)
    await send(handle, consultation(req, "RS 96(3)"))
    other = {**req.model_dump(mode="json"), "issuing_organ": "trial_chamber"}
    await assert_rejected(
        handle,
        worker.published,
        court_action(c.ConsultationResponse, resolution="request_modified", modified_request=other),
        "and the organ that made it",
    )
    assert (await view(handle)).version == 1
