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
from schemas.ledger import RequestStatus as S
from schemas.organ_keys import OrganKey, OrganKeys
from schemas.organs import Organ
from tests.builders import court_action
from tests.workflows.support import court_request, start_request
from tracefreeze.security.organ_keys import sign_action
from tracefreeze.security.signing import public_key_b64
from workflows.carry import RequestCarry
from workflows.decision_signatures import UNKNOWN_KEY
from workflows.ledger import ledger_from_request


async def test_a_registry_put_in_a_first_runs_input_is_not_the_one_verified_against(
    worker: Any,
) -> None:
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
    carried = RequestCarry(
        status=S.TRANSMITTED, ledger=ledger_from_request(req), timeline=[], organ_keys=forged
    )
    handle = await start_request(worker.client, worker.task_queue, req, carried=carried)
    withdrawal = court_action(c.Withdrawal, reasons="Withdrawn by a forged key.")
    addressed = withdrawal.model_copy(
        update={"addressed_to": request_address(req.reference, req.requested_state)}
    )
    signed = sign_action(addressed, forger, "forged-pre-trial")
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("withdraw", signed, id=signed.event_id)
    assert UNKNOWN_KEY in str(err.value.cause)  # the worker's registry, not the forger's
