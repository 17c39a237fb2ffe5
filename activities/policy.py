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
    and situation register, and the party directory workflow's contact in force). A file that
    cannot be read, or a directory that cannot be reached, raises: the activity is retried. A
    file read but not a valid policy is the request's loud "no deadlines"."""

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
        except (TracefreezeError, ValidationError) as err:  # a file read but wrong: said loudly
            log.error(
                "no deadline policy for a request", reference=request.reference, error=str(err)
            )
            return PolicyAtStart(
                reason=f"the worker's deadline policy cannot be read: {err}"[:2000]
            )
        # The contact in force (Rule 180); a directory not reached is retried, never guessed.
        from tracefreeze.directory_client import PartyDirectoryClient

        directory = PartyDirectoryClient(activity.client(), s)
        contact = await directory.contact_for_transmission(request.requested_state, policy.contact)
        return PolicyAtStart(policy=policy.model_copy(update={"contact": contact}))
