"""The audit of a Court action, on its event on the Court's topic and so in the record store:
who sent it (the Court user, ``principal``), for which organ, with which key and signature,
and the digest of what the signature covers; the event itself says what, when and on which
request. Never in a search attribute (``request_publishing.py`` writes none of it)."""

from __future__ import annotations

import hashlib

from schemas.court import CourtAction
from schemas.events import CourtActionAudit
from workflows.decision_signatures import action_bytes


def audit_of(m: CourtAction) -> CourtActionAudit:
    sig = m.signature
    return CourtActionAudit(
        principal=m.principal,
        decided_by=m.decided_by,
        decided_at=m.decided_at,
        key_id=sig.key_id if sig else None,
        signature=sig.signature if sig else None,
        signed_digest=hashlib.sha256(action_bytes(m)).hexdigest() if sig else None,
    )
