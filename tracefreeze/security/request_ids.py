"""The Court's request-id key: under it an ex parte request's workflow id is derived from its
reference and State (``schemas.request.opaque_request_workflow_id``), so that nothing in the
id every Temporal user sees reveals the request, while the Court's tools (the client, the
CLI, the bridge routing a State's answer) find the request from the reference and State alone.

Key (read by ``request_id_key``)
--------------------------------
- ``TRACEFREEZE_REQUEST_ID_KEY``: base64 of at least 32 random bytes; a Secret in production,
  the same for every process of the Court (client, CLI, bridge). Never rotated while an ex
  parte request runs: a new key derives other ids (list the old one's requests first).
- Otherwise the file ``<state_dir>/keys/request-id-key`` (base64, one line), made with 32
  random bytes by the first process that needs it (``ensure=True``) — the local stack's way.
"""

from __future__ import annotations

from pathlib import Path

from schemas.request import CourtRequest, opaque_request_workflow_id, request_workflow_id
from tracefreeze.errors import TracefreezeError
from tracefreeze.security.court_keys import court_key

KEY_ENV = "TRACEFREEZE_REQUEST_ID_KEY"
KEY_FILE = Path("keys") / "request-id-key"


def request_id_key(state_dir: Path | None = None, *, ensure: bool = False) -> bytes | None:
    """The key from the environment, else from the state dir's file (made if ``ensure``)."""
    return court_key(KEY_ENV, KEY_FILE, "request-id key", state_dir, ensure=ensure)


def workflow_id_of(request: CourtRequest, key: bytes | None) -> str:
    """Where the request runs: opaque if ex parte (a key is then required), else plain."""
    if not request.ex_parte:
        return request.workflow_id
    if key is None:
        raise TracefreezeError(
            f"an ex parte request needs the request-id key ({KEY_ENV} or {KEY_FILE} in the "
            "state dir) so that its workflow id reveals nothing"
        )
    return opaque_request_workflow_id(request.reference, request.requested_state, key)


def candidate_ids(reference: str, state: str, key: bytes | None) -> list[str]:
    """Where a request to ``state`` with ``reference`` may run: plain id, then opaque id."""
    ids = [request_workflow_id(reference, state)]
    if key is not None:
        ids.append(opaque_request_workflow_id(reference, state, key))
    return ids
