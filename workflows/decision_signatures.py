"""A Court action is taken only with a valid signature of the organ whose act it is.

Checked by the request's validator before anything is written, before the power to act
(``workflows/powers.py``), against the organ key registry the request's own history holds
(``schemas/organ_keys.py``, ``workflows/request_keys.py``): deterministic, so a replay
decides exactly as the first run. Refused, each with its reason: no signature; an action
signed for another request or case than the one it reached (``addressed_to``, covered by the
signature: an action signed for the request to one party is refused by every other request,
RS 87(1)(a), 96(1): each request is the Court's act towards one party); a key id the registry
does not hold; a key of another organ than the one ``decided_by`` names; a key outside its
validity window now (when the request receives it) or at ``decided_at`` (a key signs only
within its window: on rotation, let the windows overlap); a signature that does not verify
over ``COURT_ACTION_CONTEXT`` and the action's canonical JSON without its signature
(``tracefreeze/security/canonical.py``: the same canonical form as a State's answer, under
another context, so neither ever verifies as the other). The signature is checked by
``ed25519_keys.verify`` (RFC 8032 in plain integers: about 40 ms, once per action, never on
replay, where validators do not run).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from schemas.court import CourtAction
from schemas.organ_keys import RELAY, OrganKeys
from schemas.organs import organ_of
from tracefreeze.security import ed25519_keys
from tracefreeze.security.canonical import (
    COURT_ACTION_CONTEXT,
    CanonicalError,
    canonical_bytes,
    signed_message,
)
from workflows.outcome import PublicRefusal

RELAYED = frozenset({"judgment", "case_release", "close", "enforcement_request_made"})
"""The acts the Court's own workflows send a request: a case its judgment, its release and the
closing of a settled request (``workflows/case_deliveries.py``, ``case_release.py``), an
enforcement request its notice (``request_links.py``). Sent by the worker's delivery activity,
which signs with the relay key those that do not carry their organ's own signature: the relay
key is held only where the workflow code runs, which derived them."""
UNKNOWN_KEY = "not in this request's organ key registry"
"""Part of the reason for a key the request does not know: the Court's client then asks the
request to read the registry again (``refresh_organ_keys``) and sends the action once more."""


def check_address(m: CourtAction, address: str, what: str) -> None:
    """Refused unless ``m`` was signed for ``address``: neither address is said (an ex parte
    request's reference is not to be revealed, Rule 99(2))."""
    noun = address.split("/", 1)[0]
    if m.addressed_to is None:
        raise PublicRefusal(
            f"{what} names no {noun} it is signed for (addressed_to): an organ signs each "
            f"action for the {noun} it acts on"
        )
    if m.addressed_to != address:
        raise PublicRefusal(
            f"{what} was signed for another request or case, not this {noun}: an organ signs "
            f"each action for the {noun} it acts on"
        )


def action_bytes(action: CourtAction) -> bytes:
    """What an organ's signature covers: the context, then the action's canonical JSON
    without its ``signature``."""
    body = action.model_dump(mode="json", exclude={"signature"})
    return signed_message(canonical_bytes(body), COURT_ACTION_CONTEXT)


def check_signature(keys: OrganKeys | None, m: CourtAction, now: datetime, address: str) -> None:
    """Refused unless ``m`` carries a valid signature of the organ ``decided_by`` names, made
    for ``address`` (the request or case it reached: ``schemas.court.request_address``,
    ``case_address``)."""
    what = f"{getattr(m, 'action_type', type(m).__name__)} {m.event_id}"
    if m.signature is None:
        raise PublicRefusal(f"{what} is not signed: a Court action carries its organ's signature")
    check_address(m, address, what)
    key_id = m.signature.key_id
    if keys is None or not keys.keys:
        why = keys.reason if keys is not None and keys.reason else "not read yet"
        raise PublicRefusal(f"{what}: key {key_id} {UNKNOWN_KEY} ({why})")
    key = keys.get(key_id)
    if key is None:
        raise PublicRefusal(f"{what}: key {key_id} {UNKNOWN_KEY}")
    organ = organ_of(m.decided_by)
    if key.organ == RELAY and m.action_type not in RELAYED:  # type: ignore[attr-defined]
        raise PublicRefusal(f"{what}: key {key_id} relays the Court's own acts, not this one")
    if key.organ != RELAY and key.organ is not organ:
        raise PublicRefusal(
            f"{what}: key {key_id} is the {key.organ}'s, not that of {m.decided_by!r}"
        )
    for moment, when in (("now", now), ("at decided_at", m.decided_at)):
        if not key.valid_at(when):
            raise PublicRefusal(f"{what}: key {key_id} is not valid {moment} ({when.isoformat()})")
    try:  # plain integer arithmetic (no native library in the workflow's sandbox)
        raw = base64.urlsafe_b64decode(m.signature.signature + "==")
        public = base64.b64decode(key.public_key)
        good = ed25519_keys.verify(public, action_bytes(m), raw)
    except (binascii.Error, ValueError, CanonicalError):
        good = False
    if not good:
        raise PublicRefusal(f"{what}: the signature of key {key_id} does not verify")
