"""The typed client for Court users: submit a request, read where it stands, act on it.

Every Court action (``schemas/court.py``) reaches the request as the workflow update of its
kind (``COURT_UPDATES``, from ``workflows/catalog.py``; ``send`` finds it by type), with the
action's event id as the update id: a retried action is recorded once. A rejected action
becomes a ``TracefreezeError`` with the request's reason.
Multi-State cases have their own client in ``tracefreeze/case_client.py``.

An ex parte request (Rule 99(2)) runs under an opaque workflow id derived from its reference
and State with the Court's request-id key (``tracefreeze/security/request_ids.py``), and shows
no case,
State, measure or value in visibility; the client finds it by reference all the same: with
``REF/STATE`` it derives the id, with ``REF`` alone it derives the id for each State of the
directory (the key never leaves the Court, and visibility holds nothing to search).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import ValidationError
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from schemas.answers import AnswerBase
from schemas.completeness import CompletenessOverride, CompletenessReport, SupplementedRequest
from schemas.court import CloseRequest, CourtAction
from schemas.ledger import RequestStatus
from schemas.policy import ResolvedPolicy
from schemas.request import CourtRequest, request_workflow_id
from schemas.views import AnswerReceipt, RequestProgress, RequestView
from tracefreeze import completeness
from tracefreeze.config import Settings
from tracefreeze.court_signing import acting_as, by_user, execute_signed, presidency_notice
from tracefreeze.errors import TracefreezeError
from tracefreeze.policy import load_directory, load_policy, load_situations, resolve
from tracefreeze.request_start import first_run
from tracefreeze.security.identity import Principal
from tracefreeze.security.request_ids import candidate_ids, request_id_key, workflow_id_of
from tracefreeze.temporal import connect
from workflows import catalog
from workflows import search_attributes as sa
from workflows.details import static_details
from workflows.request import RequestWorkflow

COURT_UPDATES: dict[type[CourtAction], str] = {
    kind.contract: kind.update
    for kind in catalog.CATALOG
    if kind.party == "court" and issubclass(kind.contract, CourtAction)
}
"""Which update of the request workflow records each kind of Court action (from the catalog)."""
REQUEST_ID_PREFIX = request_workflow_id("-", "-").split("/", 1)[0] + "/"
"""Workflow ids of requests start so; references never do (they are upper case)."""


class RequestClient:
    """Requests to States as the Court sees them: one workflow per (reference, State)."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def _key(self, ensure: bool = False) -> bytes | None:
        return request_id_key(self.settings.state_dir, ensure=ensure)

    @classmethod
    async def connect(cls, settings: Settings) -> RequestClient:
        return cls(await connect(settings), settings)

    async def check(self, request: CourtRequest) -> CompletenessReport:
        """The completeness check (``tracefreeze/completeness.py``) with what it needs: the
        party's profile (its kind and language from the static directory, the national-law
        requirements it made known in RS 96(3) consultations from its directory workflow's
        register, RS 96(2)(e); that party's and no other's) and, for a supplementary request,
        what the Court's records show of the request it supplements."""
        from tracefreeze.directory_client import PartyDirectoryClient  # it uses plain_errors

        party = request.requested_state
        directory = load_directory(self.settings.state_directory_file)
        profile = completeness.profile_from_directory(directory, party)
        if profile is not None:
            known = await PartyDirectoryClient(self.client, self.settings).requirements_in_force(
                party
            )
            profile = profile.model_copy(update={"national_law_requirements": tuple(known or ())})
        first = None
        if request.supplements is not None:
            first = await self.supplemented(request.supplements, request.requested_state)
        return completeness.check(request, profile, first)

    async def supplemented(self, reference: str, party: str) -> SupplementedRequest:
        """The request ``reference`` to ``party`` as the records show it, or not found for
        this party. Only the same party's request is looked up (by its id, never a visibility
        search, which may lag a fresh start): whether the reference names another party's
        request (perhaps ex parte, Rule 99(2)) is never asked, so nothing about it can reach
        the check's findings (RS 96(2)(f): the link is to the same party's request)."""
        workflow_id = await self._existing(reference, party)
        if workflow_id is None:
            return SupplementedRequest(reference=reference, found=False)
        view = await self.view_id(workflow_id)
        return SupplementedRequest(
            reference=reference,
            found=True,
            case_number=view.case_number,
            party=view.requested_state,
        )

    async def submit(
        self,
        request: CourtRequest,
        policy: ResolvedPolicy | None = None,
        *,
        override_by: str | None = None,
        override_reason: str | None = None,
    ) -> str:
        """Transmit a request; a reference is never reopened. Returns the workflow id.

        The request is checked first (``check``, seed para 11, RS 96(2), 87(2)): an incomplete
        request is refused with its report (``IncompleteRequest``) unless a named person
        overrides the check with a reason (never a blocking finding: ``BlockedRequest``, even
        with an override); the override, with the findings it overrides, is
        recorded in the request's start input, timeline, memo and ``request.transmitted`` event.
        The deadline policy in force (the configured file, with the State's overrides) is
        recorded in the request at start, so a later policy change never rewrites its past;
        so is the party's contact in force in its directory workflow on this day (Rule 180:
        a change takes effect for future requests; the request keeps the contact it was
        transmitted with).
        """
        override = cleared(await self.check(request), override_by, override_reason)
        policy = await self.policy_in_force(request, policy)
        workflow_id = workflow_id_of(request, self._key(ensure=request.ex_parte))
        notice = presidency_notice(request, acting_as(self.settings))  # RS 109, Rule 217
        try:
            handle = await self.client.start_workflow(
                RequestWorkflow.run,
                first_run(self.settings, request, policy, override, notice=notice),
                id=workflow_id,
                task_queue=self.settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    sa.initial_attributes(
                        request, RequestStatus.TRANSMITTED.value, policy.party_kind.value
                    )
                ),
                static_summary=request.ui_summary(),
                static_details=static_details(request),
            )
        except WorkflowAlreadyStartedError as err:
            raise TracefreezeError(
                f"request {request.reference} to {request.requested_state} already exists"
            ) from err
        return handle.id

    async def policy_in_force(
        self, request: CourtRequest, given: ResolvedPolicy | None = None
    ) -> ResolvedPolicy:
        """The policy for ``request`` with the contact in force in its party's directory
        (``tracefreeze/directory_client.py``), the static directory's where it has none.

        A policy the caller gives keeps its numbers and contact, never its own party kind or
        situation: those are the directory's and the situation register's, so no caller can
        open an RS 87(7) finding against a non-State Party or a Security Council referral in
        a situation the Council did not refer (RS 13(b), 87(5)-(7))."""
        from tracefreeze.directory_client import PartyDirectoryClient  # it uses plain_errors

        policy = resolve(
            load_policy(self.settings.policy_file),
            load_directory(self.settings.state_directory_file),
            request,
            load_situations(self.settings.situation_register_file),
        )
        if given is not None:
            fixed = {"party_kind": policy.party_kind, "situation": policy.situation}
            return given.model_copy(update=fixed)
        directory = PartyDirectoryClient(self.client, self.settings)
        contact = await directory.contact_for_transmission(request.requested_state, policy.contact)
        return policy.model_copy(update={"contact": contact})

    async def resolve(self, reference: str) -> str:
        """The workflow id of ``REF/STATE``, or of ``REF`` alone if one State was asked."""
        head, _, last = reference.rpartition("/")
        if head and len(last) == 3 and last.isalpha() and last.isupper():
            found = await self._existing(head, last)
            if found is not None:  # else: a reference that ends in /ABC
                return found
        prefix = request_workflow_id(reference, "")
        ids = {
            wf.id: wf.id.rsplit("/", 1)[1]
            async for wf in self.client.list_workflows(
                f'WorkflowId STARTS_WITH "{prefix}"', limit=10
            )
        }
        if not ids:
            ids = await self._ex_parte(reference)
        if not ids:
            raise TracefreezeError(f"no request with reference {reference}")
        if len(ids) > 1:
            states = ", ".join(sorted(ids.values()))
            raise TracefreezeError(
                f"request {reference} went to several States ({states}): give REF/STATE"
            )
        return next(iter(ids))

    async def _existing(self, reference: str, state: str) -> str | None:
        """The id the request to ``state`` runs under (plain or opaque), if it exists."""
        for workflow_id in candidate_ids(reference, state, self._key()):
            with contextlib.suppress(RPCError):
                return (await self.client.get_workflow_handle(workflow_id).describe()).id
        return None

    async def _ex_parte(self, reference: str) -> dict[str, str]:
        """Ex parte requests with ``reference``: their ids derived for each State of the
        directory (visibility holds nothing to search them by, by design)."""
        key = self._key()
        if key is None:
            return {}
        found: dict[str, str] = {}
        for state in sorted(load_directory(self.settings.state_directory_file).states):
            workflow_id = candidate_ids(reference, state, key)[1]
            with contextlib.suppress(RPCError):
                await self.client.get_workflow_handle(workflow_id).describe()
                found[workflow_id] = state
        return found

    async def workflow_id(self, reference: str, state: str) -> str:
        """The id of the request to ``state`` (plain, or opaque if it is ex parte)."""
        return await self._existing(reference, state) or request_workflow_id(reference, state)

    def handle(self, reference: str, state: str) -> WorkflowHandle:
        """The workflow handle of one request to one State that is not ex parte."""
        return self.client.get_workflow_handle(request_workflow_id(reference, state))

    async def view(self, reference: str, state: str) -> RequestView:
        """Status, ledger, totals and timeline of one request to one State."""
        return await self._ask(reference, state, RequestWorkflow.view)

    async def progress(self, reference: str, state: str) -> RequestProgress:
        """Status and count of answers taken, without ledger or timeline (cheap to poll)."""
        return await self._ask(reference, state, RequestWorkflow.progress)

    async def _ask(self, reference: str, state: str, query: Callable[[RequestWorkflow], Q]) -> Q:
        """``query`` of the request to ``state``, under whichever id it runs (plain, then
        opaque): asked straight away, one round trip for a request under its plain id, not
        a describe first (the query a client polls)."""
        ids = candidate_ids(reference, state, self._key())
        for workflow_id in ids:
            with plain_errors(workflow_id):
                try:
                    return await self.client.get_workflow_handle(workflow_id).query(query)
                except RPCError as err:
                    if err.status is not RPCStatusCode.NOT_FOUND:
                        raise
        raise TracefreezeError(f"no request {ids[0]}")

    async def view_id(self, workflow_id: str) -> RequestView:
        with plain_errors(workflow_id):
            handle = self.client.get_workflow_handle(workflow_id)
            return await handle.query(RequestWorkflow.view)

    async def act(self, reference_or_id: str, action: CourtAction) -> AnswerReceipt:
        """Record a Court action on a request (``REF``, ``REF/STATE`` or a workflow id)."""
        if type(action) not in COURT_UPDATES:
            raise TracefreezeError(f"{type(action).__name__} is not an action on a request")
        workflow_id = (
            reference_or_id
            if reference_or_id.startswith(REQUEST_ID_PREFIX)  # plain or opaque
            else await self.resolve(reference_or_id)
        )
        with plain_errors(workflow_id):
            handle = self.client.get_workflow_handle(workflow_id)
            return await send(handle, action, acting=acting_as(self.settings))

    async def close(self, reference: str, state: str, action: CloseRequest) -> AnswerReceipt:
        """The Registry closes the request (rejected while assets are still restrained)."""
        return await self.close_id(await self.workflow_id(reference, state), action)

    async def close_id(self, workflow_id: str, action: CloseRequest) -> AnswerReceipt:
        with plain_errors(workflow_id):
            handle = self.client.get_workflow_handle(workflow_id)
            return await send(handle, action, acting=acting_as(self.settings))


class IncompleteRequest(TracefreezeError):
    """The completeness check found the request incomplete; ``report`` says what and why."""

    def __init__(self, report: CompletenessReport) -> None:
        super().__init__(completeness.render(report))
        self.report = report


def cleared(
    report: CompletenessReport, override_by: str | None, override_reason: str | None
) -> CompletenessOverride | None:
    """May the request the check reported on leave the Court (seed para 11; RS 96(2), 87(2))?
    A complete one may (``None``: nothing overridden); an incomplete one only with a named
    person's override and its reason, returned to be recorded with the request; a blocking
    finding never (``BlockedRequest``). Otherwise ``IncompleteRequest`` with the report."""
    if not report.overridable:
        raise BlockedRequest(report)
    if report.complete:
        return None
    if not (override_by and override_by.strip()) or not (
        override_reason and override_reason.strip()
    ):
        raise IncompleteRequest(report)
    try:
        return CompletenessOverride(
            by=override_by, reason=override_reason, at=datetime.now(UTC), findings=report.findings
        )
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise TracefreezeError(
            "the override is refused: who overrides is one line of printable text "
            "(at most 200 characters), why at most 2000 characters without control "
            f"characters other than newlines ({problems})"
        ) from None


class BlockedRequest(IncompleteRequest):
    """The check found what no override may pass (a blocking finding, e.g. a supplementary
    request that does not name the same party's request in the same case, RS 96(2)(f)):
    the request is refused even with ``override_by`` and ``override_reason``."""

    def __init__(self, report: CompletenessReport) -> None:
        super().__init__(report)
        self.args = (
            completeness.render(report)
            + "\nno override transmits this request: correct the findings marked blocking",
        )


async def send(
    handle: WorkflowHandle[Any, Any],
    message: AnswerBase | CourtAction,
    update_id: str | None = None,
    acting: Principal | None = None,
) -> AnswerReceipt:
    """Send a State answer or Court action to a request as the update its type calls for
    (``workflows/catalog.py``), with its event id as the update id unless given; a Court
    action signed by its organ, if the person ``acting`` may (``court_signing.py``)."""
    if isinstance(message, CourtAction):
        update = catalog.update_of(message)
        sent = by_user(message, acting)
        update_id = update_id or message.event_id
        return await execute_signed(handle, update, sent, update_id, acting=acting)
    return await handle.execute_update(
        catalog.update_of(message),
        message,
        id=update_id or message.event_id,
        result_type=AnswerReceipt,
    )


Q = TypeVar("Q")


@contextlib.contextmanager
def plain_errors(workflow_id: str, what: str = "request") -> Iterator[None]:
    """An unknown request (or case) or a rejected action becomes one ``TracefreezeError``."""
    try:
        yield
    except WorkflowUpdateFailedError as err:
        reason = getattr(err.cause, "message", None) or str(err.cause)
        raise TracefreezeError(f"{workflow_id}: rejected: {reason}") from err
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise TracefreezeError(f"no {what} {workflow_id}") from err
        raise TracefreezeError(f"{workflow_id}: {err.message}") from err


def close_action(reason: str, decided_by: str) -> CloseRequest:
    """A Court closing action with a fresh event id, decided now."""
    return CloseRequest(
        event_id=str(uuid.uuid4()),
        decided_by=decided_by,
        decided_at=datetime.now(UTC),
        reason=reason,
    )


def ui_url(settings: Settings, workflow_id: str) -> str:
    """The request's page in the Temporal UI."""
    return f"{settings.temporal_ui_url}/workflows/{quote(workflow_id, safe='')}"
