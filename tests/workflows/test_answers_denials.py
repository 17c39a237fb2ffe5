"""A State's denial of a request (RS 93(4), 93(6), art. 72; docs/legal-process.md, 'What a State
may answer'): real reasons required, the request closed when nothing is restrained, a denial
of a freeze refused with the assets kept frozen, and no denial after the final report.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.answers import Denial
from schemas.ledger import RequestStatus
from tests.workflows.support import (
    acknowledged,
    assert_rejected,
    close_action,
    court_request,
    denial,
    freeze_account,
    in_execution,
    send,
    state_answer,
    view,
)

S = RequestStatus


# --- Denial: RS 93(4), 93(6) -----------------------------------------------------------------


def test_denial_without_real_reasons_is_a_schema_error() -> None:
    """RS 93(6): a State that denies must give reasons; a few words are not reasons."""
    req = court_request()
    with pytest.raises(ValidationError, match="reasons"):
        denial(req, reasons="national security")
    with pytest.raises(ValidationError, match="reasons"):
        state_answer(Denial, req)


async def test_denial_then_close_when_nothing_is_restrained(worker) -> None:
    """RS 93(4): denial on national-security grounds of a request to identify and trace (the
    disclosure of records) makes the request denied; with nothing frozen the Registry may close
    it and the workflow completes."""
    req, handle = await acknowledged(worker, measures=["identify", "trace"])
    answer = denial(req)
    assert (await send(handle, answer)).status is S.DENIED
    assert "RS 93(4)" in (await view(handle)).timeline[-1].what
    await assert_rejected(
        handle,
        worker.published,
        denial(req),
        "denial is not allowed while the request is denied",
    )
    close = close_action()
    assert (await send(handle, close)).status is S.CLOSED
    final = await handle.result()
    assert final.status is S.CLOSED
    assert [t.event_id for t in final.timeline][-2:] == [answer.event_id, close.event_id]


async def test_denial_of_a_request_to_freeze_is_refused_and_the_assets_stay_frozen(
    worker,
) -> None:
    """RS 93(4) reaches only the production of documents or disclosure of evidence relating to
    national security (art. 72), not the freezing or seizure of assets: a denial of a request
    to freeze is refused with the reason, writes nothing, and the frozen assets stay frozen
    (old code accepted it and the request was denied)."""
    req, handle = await in_execution(worker)
    before = await view(handle)
    await assert_rejected(
        handle, worker.published, denial(req), "it does not allow denying the freeze of assets"
    )
    after = await view(handle)
    assert after.status is S.IN_EXECUTION
    assert after.ledger == before.ledger


async def test_denial_after_the_final_report_is_rejected(worker) -> None:
    """RS 93(4): a denial refuses execution; once the State reported the execution as
    complete (RS 99), it can no longer deny it."""
    req, handle = await acknowledged(worker)
    await send(handle, freeze_account(req, final=True))
    await assert_rejected(
        handle,
        worker.published,
        denial(req),
        "denial is not allowed while the request is partially_executed",
    )
