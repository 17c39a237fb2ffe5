"""Sending a Court action signed (``docs/signed-decisions.md``): by the organ whose act it is,
with the key configured for that organ (``tracefreeze/security/organ_keys.py``), or, for the
acts the Court's workflows relay to a request, with the workers' relay key.

A request that does not know the action's key (the organs' keys rotated since it read the
registry, or it has not read it yet) refuses it saying so; the action is then sent once
more after the request read its registry again (``refresh_organ_keys``)."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from schemas.court import CourtAction
from schemas.organ_keys import REFRESH_ORGAN_KEYS
from schemas.views import AnswerReceipt
from tracefreeze.config import get_settings
from tracefreeze.security.identity import configured_principal
from tracefreeze.security.organ_keys import signed
from workflows.decision_signatures import UNKNOWN_KEY

A = TypeVar("A", bound=CourtAction)


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


def _unknown_key(err: WorkflowUpdateFailedError) -> bool:
    return UNKNOWN_KEY in (getattr(err.cause, "message", None) or "")


async def execute_signed(
    handle: WorkflowHandle[Any, Any],
    update: str,
    action: CourtAction,
    update_id: str,
    sign: Callable[[CourtAction], CourtAction] = signed,
) -> AnswerReceipt:
    """Send ``action`` signed (by ``sign``) as ``update``; once more after a refresh of the
    request's organ keys if it did not know the key."""
    action = sign(action)
    try:
        return await handle.execute_update(update, action, id=update_id, result_type=AnswerReceipt)
    except WorkflowUpdateFailedError as err:
        if not _unknown_key(err):
            raise
    await handle.execute_update(REFRESH_ORGAN_KEYS, id=f"{update_id}~keys", result_type=str)
    return await handle.execute_update(
        update, action, id=f"{update_id}~signed", result_type=AnswerReceipt
    )
