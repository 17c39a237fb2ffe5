"""Sending a Court action signed (``docs/signed-decisions.md``): by the organ whose act it is,
with the key configured for that organ (``tracefreeze/security/organ_keys.py``), or, for the
acts the Court's workflows relay to a request, with the workers' relay key.

Each action is signed for the request it is sent to (``addressed_to``: its reference and
party), so no other request takes it. A request that does not know the action's key (the
organs' keys rotated since it read the registry, or it has not read it yet) refuses it saying
so; the action is then sent once more after the request read its registry again
(``refresh_organ_keys``)."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from schemas.case import RequestSummary
from schemas.court import CourtAction, EnforcementRequestMade, request_address
from schemas.organ_keys import REFRESH_ORGAN_KEYS
from schemas.request import OPAQUE_ID_PREFIX, CourtRequest
from schemas.views import AnswerReceipt
from tracefreeze.config import get_settings
from tracefreeze.request_start import enforcement_notice
from tracefreeze.security.identity import configured_principal
from tracefreeze.security.organ_keys import signed
from workflows.decision_signatures import UNKNOWN_KEY

A = TypeVar("A", bound=CourtAction)
R = TypeVar("R")


PRINCIPAL_ENV = "TRACEFREEZE_PRINCIPAL"
_PRINCIPAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


def principal() -> str | None:
    """The Court user acting here: the subject of the token this client acts with
    (``TRACEFREEZE_TEMPORAL_TOKEN_FILE``, ``tracefreeze whoami``), else
    ``$TRACEFREEZE_PRINCIPAL``, else the system user; ``None`` if not a plain identifier."""
    acting = configured_principal(get_settings())
    name = acting.subject if acting else os.environ.get(PRINCIPAL_ENV) or getpass.getuser()
    return name if _PRINCIPAL.fullmatch(name) else None


def by_user(action: A) -> A:
    """``action`` naming who sends it (``principal``), unless it names someone already or is
    signed already (its signature covers what it says)."""
    if action.principal is not None or action.signature is not None:
        return action
    return action.model_copy(update={"principal": principal()})


def presidency_notice(request: CourtRequest) -> EnforcementRequestMade | None:
    """An enforcement request's notice to the request it supplements (RS 109, Rule 217), signed
    by the Presidency for that request: the act the enforcement request relays as signed
    (``workflows/request_links.py``); None for any other request."""
    notice = enforcement_notice(request, datetime.now(UTC), principal())
    if notice is None or request.supplements is None:
        return None
    return signed(notice, request_address(request.supplements, request.requested_state))


def address_of_target(target: str) -> str | None:
    """The address (``request/REFERENCE/PARTY``) of the request ``target`` names: a plain
    workflow id or ``REF/STATE``; ``None`` when it cannot be told without asking the request
    (an opaque id, Rule 99(2), or a reference alone)."""
    if target.startswith(OPAQUE_ID_PREFIX):
        return None
    if target.startswith(("request/", "case/", "party/")):  # case_address, party_address
        return target
    head, _, last = target.rpartition("/")
    if head and len(last) == 3 and last.isalpha() and last.isupper():
        return request_address(head, last)
    return None


async def address_of(handle: WorkflowHandle[Any, Any]) -> str:
    """The address of the request ``handle`` reaches: from its plain id, else (an ex parte
    request's opaque id) as the request itself says (its ``case_summary``)."""
    known = address_of_target(handle.id)
    if known is not None:
        return known
    summary = await handle.query("case_summary", result_type=RequestSummary)
    return request_address(summary.reference, summary.requested_state)


def _unknown_key(err: WorkflowUpdateFailedError) -> bool:
    return UNKNOWN_KEY in (getattr(err.cause, "message", None) or "")


async def execute_signed(
    handle: WorkflowHandle[Any, Any],
    update: str,
    action: CourtAction,
    update_id: str,
    sign: Callable[[CourtAction, str], CourtAction] = signed,
    result_type: type[R] = AnswerReceipt,  # type: ignore[assignment]
) -> R:
    """Send ``action`` signed (by ``sign``) for the request ``handle`` reaches as ``update``;
    once more after a refresh of the request's organ keys if it did not know the key."""
    if action.signature is None:
        action = sign(action, await address_of(handle))
    try:
        return await handle.execute_update(update, action, id=update_id, result_type=result_type)
    except WorkflowUpdateFailedError as err:
        if not _unknown_key(err):
            raise
    await handle.execute_update(REFRESH_ORGAN_KEYS, id=f"{update_id}~keys", result_type=str)
    return await handle.execute_update(
        update, action, id=f"{update_id}~signed", result_type=result_type
    )
