"""The deadline policy in force for a request started without one.

A client other than the Court's own (the `temporal` CLI, a Java or TypeScript SDK) starts a
request with the request alone. Its deadlines, reminders and escalation ladder come from the
policy in force and the party's directory, resolved here, on the worker, from the worker's
configuration, exactly as the Court's own client resolves them before a start
(``tracefreeze/client.py``, ``policy_for``); the workflow records the result in its history.
"""

from __future__ import annotations

import structlog
from pydantic import ValidationError
from temporalio import activity

from schemas.policy import RESOLVE_POLICY, PolicyAtStart
from schemas.request import CourtRequest
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.policy import load_directory, load_policy, load_situations, resolve

log = structlog.get_logger(__name__)


class PolicyResolver:
    """Resolves the policy in force with the worker's settings (its policy file, directory
    and situation register, and the party directory workflow's contact in force)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @activity.defn(name=RESOLVE_POLICY)
    async def resolve_policy(self, request: CourtRequest) -> PolicyAtStart:
        s = self.settings
        try:
            policy = resolve(
                load_policy(s.policy_file),
                load_directory(s.state_directory_file),
                request,
                load_situations(s.situation_register_file),
            )
        except (TracefreezeError, OSError, ValidationError, ValueError) as err:
            log.error(
                "no deadline policy for a request", reference=request.reference, error=str(err)
            )
            return PolicyAtStart(
                reason=f"the worker's deadline policy cannot be read: {err}"[:2000]
            )
        try:
            from tracefreeze.directory_client import PartyDirectoryClient

            directory = PartyDirectoryClient(activity.client(), s)
            contact = await directory.contact_for_transmission(
                request.requested_state, policy.contact
            )
            policy = policy.model_copy(update={"contact": contact})
        except Exception as err:  # the static directory's contact stands
            log.warning("party directory not read", state=request.requested_state, error=str(err))
        return PolicyAtStart(policy=policy)
