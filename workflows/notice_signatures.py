"""A State's Rule 180 notice reaches a party's directory only as its request relayed it.

The State signs its answer and the bridge's gate verifies it against the State key registry
before the request takes it (``tracefreeze/intake/gate.py``); the signed original stays on
the Kafka record. The request then forwards the notice to the party's directory (signal
``take_notice``), and anyone who can reach Temporal can signal a workflow. So the worker
forwards it signed with the workers' relay key, which only the Court's workers hold, as it
relays the Court's own acts to a request (``decision_signatures.py``, ``RELAY``): the
directory verifies the signature against the organ key registry its own history holds
(``party_keys.py``; deterministic, never on a caller's word) and ignores, with its reason,
a notice unsigned, signed by another key, by a key outside its window or whose signature does
not verify (the signature covers every field, the party and the date of receipt among them).

The context ``DIRECTORY_NOTICE_CONTEXT`` keeps it apart from a State's answer and a Court
action: neither signature ever verifies as the other.
"""

from __future__ import annotations

from datetime import datetime

from schemas.directory import DirectoryNotice
from schemas.organ_keys import RELAY, OrganKeys
from tracefreeze.security import ed25519_keys
from tracefreeze.security.canonical import CanonicalError, canonical_bytes, signed_message

DIRECTORY_NOTICE_CONTEXT = b"tracefreeze/directory-notice/v1\0"
"""Prefixed to a relayed notice's canonical body (domain separation)."""


def notice_bytes(notice: DirectoryNotice) -> bytes:
    """What the relay key's signature covers: the context, then the notice's canonical JSON
    without its ``signature``."""
    body = notice.model_dump(mode="json", exclude={"signature"})
    return signed_message(canonical_bytes(body), DIRECTORY_NOTICE_CONTEXT)


def unrelayed(keys: OrganKeys | None, notice: DirectoryNotice, now: datetime) -> str | None:
    """Why ``notice`` was not relayed by a request of the Court (``None``: it was): the
    directory ignores it with this reason."""
    if notice.signature is None:
        return "not signed: a State's notice reaches the directory only relayed by its request"
    key_id = notice.signature.key_id
    key = keys.get(key_id) if keys is not None else None
    if key is None:
        return f"key {key_id} is not in the organ key registry held here"
    if key.organ != RELAY:
        return f"key {key_id} is the {key.organ}'s, not the workers' relay key"
    if not key.valid_at(now):
        return f"key {key_id} is not valid now ({now.isoformat()})"
    try:  # plain integer arithmetic (no native library in the workflow's sandbox)
        message = notice_bytes(notice)
    except CanonicalError:
        return f"the signature of key {key_id} does not verify: the notice has no canonical form"
    if not ed25519_keys.verify_encoded(key.public_key, message, notice.signature.signature):
        return f"the signature of key {key_id} does not verify"
    return None
