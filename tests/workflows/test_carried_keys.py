"""A registry in a first run's input is never trusted: only a run that continues the
workflow's own previous run takes the organ keys it carries (``request_keys.inherited``).

Found by a hostile read: a Court user who can start workflows could start a request with a
``carried`` state holding its own "Trial Chamber" key, and every order signed with that key
would be taken (RS 77(2)(b), 93(1)(k): a forfeiture by whoever holds a key of their making).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import WorkflowUpdateFailedError

from schemas import court as c
from schemas.court import request_address
from schemas.events import RequestEventType
from schemas.ledger import RequestStatus as S
from schemas.organ_keys import OrganKey, OrganKeys
from schemas.organs import Organ
from tests.builders import court_action
from tests.events import request_event
from tests.workflows.support import court_request, settle, start_request, view
from tracefreeze.security.organ_keys import sign_action, signed
from tracefreeze.security.signing import public_key_b64
from workflows.carry import RequestCarry
from workflows.decision_signatures import UNKNOWN_KEY
from workflows.ledger import ledger_from_request


@pytest.mark.parametrize("queued", [False, True], ids=["read-alone", "read-in-the-round"])
async def test_a_registry_put_in_a_first_runs_input_is_not_the_one_verified_against(
    worker: Any, queued: bool
) -> None:
    """Whether or not the carry a first run was given holds an event queued to publish (which
    is dropped with the keys: ``own_carry``), the first run reads the worker's registry by the
    registry activity, and the forger's keys are never the ones in force; the organ's own
    are."""
    req = court_request()
    forger = Ed25519PrivateKey.generate()
    forged = OrganKeys(
        keys=(
            OrganKey(
                key_id="forged-pre-trial",
                organ=Organ.PRE_TRIAL_CHAMBER,
                public_key=public_key_b64(forger),
                not_before=datetime(2020, 1, 1, tzinfo=UTC),
                not_after=datetime(2099, 1, 1, tzinfo=UTC),
            ),
        )
    )
    outbox = [request_event(req, RequestEventType.TRANSMITTED)] if queued else []
    carried = RequestCarry(
        status=S.TRANSMITTED,
        ledger=ledger_from_request(req),
        timeline=[],
        organ_keys=forged,
        outbox=outbox,
    )
    handle = await start_request(worker.client, worker.task_queue, req, carried=carried)
    await settle(handle)
    # A first run's carried queue is dropped too (own_carry): no round goes, and the registry
    # is read alone, whatever the starter queued.
    assert worker.published.rounds == []
    withdrawal = court_action(c.Withdrawal, reasons="Withdrawn by a forged key.")
    address = request_address(req.reference, req.requested_state)
    forged_act = sign_action(
        withdrawal.model_copy(update={"addressed_to": address}), forger, "forged-pre-trial"
    )
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("withdraw", forged_act, id=forged_act.event_id)
    assert UNKNOWN_KEY in str(err.value.cause)  # the worker's registry, not the forger's
    own = signed(court_action(c.Withdrawal, reasons="Withdrawn."), address)
    await handle.execute_update("withdraw", own, id=own.event_id)
    assert (await view(handle)).status is S.WITHDRAWN
