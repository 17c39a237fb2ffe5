"""The Court's client for the party directory (``workflows/party_directory.py``).

``contact_for_transmission`` is what a request records when it is submitted: the contact in
force in the party's directory workflow, read from its memo (Rule 180: a change takes effect
for requests transmitted from its date), or, where the party has no directory workflow yet,
the static directory's contact, with the directory workflow started from it so that a later
notice has a directory to change. A directory that exists but cannot be read refuses the
transmission: a request is never sent through a channel that may no longer be in force.
``requirements_in_force`` is what the completeness check reads of the party's register of
national-law requirements (RS 96(3), 96(2)(e)). The memo, not a query, is read so that a
submission never waits for a worker to answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from schemas.completeness import NationalRequirement as CheckedRequirement
from schemas.directory import (
    ContactChange,
    PartyCarry,
    PartyContact,
    PartyRun,
    PartyView,
    party_workflow_id,
)
from schemas.policy import StateContact
from tracefreeze.client import plain_errors
from tracefreeze.config import Settings
from tracefreeze.court_signing import acting_as, by_user, execute_signed
from tracefreeze.errors import TracefreezeError
from workflows.party_catalog import PARTY_UPDATES
from workflows.party_directory import (
    MEMO_CONTACT,
    MEMO_PENDING,
    MEMO_REQUIREMENTS,
    PartyDirectoryWorkflow,
    memo_of,
)
from workflows.party_rules import bring_into_force


class PartyDirectoryClient:
    """One party's directory: its contact in force, its history, its RS 96(3) register."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    async def contact_in_force(self, code: str) -> PartyContact | None:
        """The party's contact in force, or None when it has no directory workflow.

        Read from the directory's memo (no worker needed: a submission never waits on one):
        the contact the directory last put in force, with any pending change whose time has
        come by this client's clock applied (the directory's own timer may not have run yet).
        """
        memo = await self._memo(code)
        if memo is None:
            return None
        try:
            carry = PartyCarry(
                contact=PartyContact.model_validate(memo[MEMO_CONTACT]),
                pending=[ContactChange.model_validate(c) for c in memo.get(MEMO_PENDING, [])],
            )
        except (KeyError, ValidationError) as err:
            raise TracefreezeError(f"party directory of {code} cannot be read: {err}") from err
        bring_into_force(carry, datetime.now(UTC))
        return carry.contact

    async def requirements_in_force(self, code: str) -> list[CheckedRequirement] | None:
        """The national-law requirements the party has made known in RS 96(3) consultations
        (RS 96(2)(e)), as the completeness check reads them, or None when it has no directory
        workflow. Read from the directory's memo (``memo_of``: at most
        ``MAX_PARTY_REQUIREMENTS``, each text within the check's bound), never a query: a
        check never waits for a worker. A memo that cannot be read refuses."""
        memo = await self._memo(code)
        if memo is None:
            return None
        try:
            return [CheckedRequirement.model_validate(r) for r in memo.get(MEMO_REQUIREMENTS, [])]
        except (TypeError, ValidationError) as err:
            raise TracefreezeError(f"party directory of {code} cannot be read: {err}") from err

    async def _memo(self, code: str) -> Mapping[str, Any] | None:
        """The party directory's memo, or None when it has no directory workflow."""
        handle = self.client.get_workflow_handle(party_workflow_id(code))
        try:
            described = await handle.describe()
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return None
            raise TracefreezeError(f"party directory of {code}: {err.message}") from err
        return await described.memo()

    async def ensure(self, code: str, seed: StateContact) -> None:
        """Start the party's directory from the static directory's contact, if it has none."""
        await self.client.start_workflow(
            PartyDirectoryWorkflow.run,
            PartyRun(code=code, seed=PartyContact.of(seed)),
            id=party_workflow_id(code),
            task_queue=self.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,  # as the server asks
            memo=memo_of(PartyCarry(contact=PartyContact.of(seed))),
            static_summary=f"Party directory of {code} (Rule 180, RS 96(3))",
        )

    async def contact_for_transmission(
        self, code: str, static: StateContact | None
    ) -> StateContact | None:
        """The contact a request to ``code`` transmitted now records (Rule 180(2))."""
        in_force = await self.contact_in_force(code)
        if in_force is not None:
            return in_force.for_request(code)
        if static is not None:
            await self.ensure(code, static)
        return static

    async def view(self, code: str) -> PartyView:
        workflow_id = party_workflow_id(code)
        with plain_errors(workflow_id, what="party directory"):
            handle = self.client.get_workflow_handle(workflow_id)
            return await handle.query(PartyDirectoryWorkflow.view)

    async def act(self, code: str, action: Any) -> PartyView:
        """Record a Court action on the party's directory (``PARTY_ACTIONS``), signed by the
        organ ``decided_by`` names for this party, with its event id as the update id: a
        retried action is recorded once."""
        update = PARTY_UPDATES.get(type(action))
        if update is None:
            raise TracefreezeError(f"{type(action).__name__} is not an action on a party")
        workflow_id = party_workflow_id(code)
        with plain_errors(workflow_id, what="party directory"):
            handle = self.client.get_workflow_handle(workflow_id)
            person = acting_as(self.settings)
            return await execute_signed(  # by its organ, for this party (party_keys.py)
                handle,
                update,
                by_user(action, person),
                action.event_id,
                result_type=PartyView,
                acting=person,
            )
