"""A request relays a State's Rule 180 notice to its party's directory, signed with the
workers' relay key (``workflows/notice_signatures.py``): only the Court's workers hold it, so
a notice any other client signals a directory is ignored there."""

from __future__ import annotations

import base64
from pathlib import Path

import structlog
from temporalio import activity
from temporalio.service import RPCError, RPCStatusCode

from schemas.court import OrganSignature
from schemas.directory import FORWARD_NOTICE, NOTICE_SIGNAL, DirectoryNotice, party_workflow_id
from schemas.organ_keys import RELAY
from tracefreeze.security.organ_keys import signer_for
from workflows.notice_signatures import notice_bytes

log = structlog.get_logger(__name__)


def relay_notice(notice: DirectoryNotice, state_dir: Path | None = None) -> DirectoryNotice:
    """``notice`` signed with this installation's relay key (any signature it had left out)."""
    key, key_id = signer_for(RELAY, state_dir)
    bare = notice.model_copy(update={"signature": None})
    raw = key.sign(notice_bytes(bare))
    text = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return bare.model_copy(update={"signature": OrganSignature(key_id=key_id, signature=text)})


@activity.defn(name=FORWARD_NOTICE)
async def forward_notice(notice: DirectoryNotice) -> bool:
    """Signal the directory of the notice's party (the request's own State) the notice, relayed;
    ``False`` if there is no directory to take it (none started, or ended). Anything else is
    transient and raises, so that the activity is retried (the directory takes an event id
    once)."""
    handle = activity.client().get_workflow_handle(party_workflow_id(notice.state))
    try:
        await handle.signal(NOTICE_SIGNAL, relay_notice(notice))
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            log.warning("no party directory took the notice", event_id=notice.event_id)
            return False
        raise
    return True
