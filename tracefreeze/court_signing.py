"""Sending a Court action signed (``docs/signed-decisions.md``): by the organ whose act it is,
with the key configured for that organ (``tracefreeze/security/organ_keys.py``), or, for the
acts the Court's workflows relay to a request, with the workers' relay key.

Each action is signed for the request it is sent to (``addressed_to``: its reference and
party), so no other request takes it. A request that does not know the action's key (the
organs' keys rotated since it read the registry, or it has not read it yet) refuses it saying
so; the action is then sent once more after the request read its registry again
(``refresh_organ_keys``).

Who signs is who acts: a client acting with a token (``tracefreeze whoami``) signs only the
decisions of the organ its token acts for (``check_acting``; RS 34, 38(3), 43: each organ takes
its own decisions), and the action names the token's subject as the person who sent it
(``by_user``). The organ's key itself is held by that organ only
(``tracefreeze/security/organ_keys.py``)."""

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
from schemas.organs import STYLE, Organ, organ_of
from schemas.request import OPAQUE_ID_PREFIX, CourtRequest
from schemas.views import AnswerReceipt
from tracefreeze.config import Settings, get_settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.request_start import enforcement_notice
from tracefreeze.security.identity import Principal, configured_principal
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


def acting_as(settings: Settings | None = None) -> Principal | None:
    """The principal a client of ``settings`` (default: the process's) acts as: its token's."""
    return configured_principal(settings or get_settings())


def by_user(action: A, acting: Principal | None = None) -> A:
    """``action`` naming who sends it: the subject of the token the client acts with
    (``acting``; an action naming someone else is refused), else ``principal``; an action
    signed already is sent as it is (its signature covers what it says)."""
    if action.signature is not None:
        return action
    if acting is not None:
        if action.principal not in (None, acting.subject):
            raise TracefreezeError(
                f"the action names {action.principal[:100]!r} as who sends it, but this client "
                f"acts as {acting.subject} (tracefreeze whoami): a person sends only as themself"
            )
        return action.model_copy(update={"principal": acting.subject})
    if action.principal is not None:
        return action
    return action.model_copy(update={"principal": principal()})


def _organ_name(value: str | None) -> str:
    try:
        return f"the {STYLE[Organ(value or '')]}"
    except ValueError:
        return "no organ" if not value else repr(value[:64])


def check_acting(acting: Principal | None, action: CourtAction) -> None:
    """Refused unless the person acting may sign ``action`` for its organ: their token acts
    for the organ ``decided_by`` names and has not expired. Without a token (the local dev
    server, which has no authorizer) the organ's key is the only guard: it is held by that
    organ alone (``organ_keys.key_path``)."""
    if acting is None:
        return
    organ = organ_of(action.decided_by)
    if acting.expired():
        raise TracefreezeError(
            f"the token of {acting.subject} has expired: renew it (tracefreeze whoami) before "
            "signing a decision"
        )
    if organ is None or acting.organ != organ.value:
        decided = f"the {STYLE[organ]}" if organ is not None else repr(action.decided_by[:64])
        raise TracefreezeError(
            f"{acting.subject} acts for {_organ_name(acting.organ)}: a decision of {decided} is "
            "signed only by that organ, by someone acting for it (tracefreeze whoami)"
        )


def presidency_notice(
    request: CourtRequest, acting: Principal | None = None
) -> EnforcementRequestMade | None:
    """An enforcement request's notice to the request it supplements (RS 109, Rule 217), signed
    by the Presidency for that request, if the person ``acting`` acts for it (the Presidency
    makes its enforcement requests: ``check_acting``): the act the enforcement request relays
    as signed (``workflows/request_links.py``); None for any other request."""
    notice = enforcement_notice(
        request, datetime.now(UTC), acting.subject if acting else principal()
    )
    if notice is None or request.supplements is None:
        return None
    check_acting(acting, notice)
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
    acting: Principal | None = None,
) -> R:
    """Send ``action`` signed (by ``sign``) for the request ``handle`` reaches as ``update``,
    if the person ``acting`` may sign for its organ (``check_acting``); once more after a
    refresh of the request's organ keys if it did not know the key."""
    if action.signature is None:
        check_acting(acting, action)
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
