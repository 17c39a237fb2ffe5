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

from temporalio import workflow

from schemas.court import CaseRelease, CourtAction, Judgment, ReleaseCase
from schemas.organ_keys import RELAY, OrganKey, OrganKeys
from schemas.organs import organ_of
from tracefreeze.security import ed25519_keys
from tracefreeze.security.canonical import (
    COURT_ACTION_CONTEXT,
    CanonicalError,
    canonical_bytes,
    signed_message,
)
from workflows.outcome import PublicRefusal

RELAYED = frozenset({"judgment", "case_release", "close"})
"""The acts a case sends its requests under the relay key: its judgment, its release and the
closing of a settled request (``workflows/case_deliveries.py``, ``case_release.py``), each
carrying its organ's signed original (``check_relayed``). Sent by the worker's delivery
activity, which signs with the relay key those that do not carry their organ's own signature:
the relay key is held only where the workflow code runs. An enforcement request's notice to the
request it supplements is not one: it is the Presidency's own act, relayed as signed
(``request_links.py``; review M2, #17: under the relay key alone, whoever could start a request
claiming RS 109 could mark a protective request as enforced)."""
UNKNOWN_KEY = "not in the organ key registry held here"
"""Part of the reason for a key a request or case does not know: the Court's client then asks
it to read the registry again (``refresh_organ_keys``) and sends the action once more."""


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
            f"{what} was signed for another request, case or party, not this {noun}: an organ "
            "signs "
            f"each action for the {noun} it acts on"
        )


def action_bytes(action: CourtAction) -> bytes:
    """What an organ's signature covers: the context, then the action's canonical JSON
    without its ``signature``."""
    body = action.model_dump(mode="json", exclude={"signature"})
    return signed_message(canonical_bytes(body), COURT_ACTION_CONTEXT)


def check_signature(
    keys: OrganKeys | None, m: CourtAction, now: datetime, address: str, case: str | None = None
) -> None:
    """Refused unless ``m`` carries a valid signature of the organ ``decided_by`` names, made
    for ``address`` (the request or case it reached: ``schemas.court.request_address``,
    ``case_address``). An act a case relays (``RELAYED``, signed by the relay key) is
    refused unless the organ's own original inside it verifies, signed for ``case`` (the
    request's case: ``case_of_run``), and says what the relayed act says."""
    what = f"{getattr(m, 'action_type', type(m).__name__)} {m.event_id}"
    if m.signature is None:
        raise PublicRefusal(f"{what} is not signed: a Court action carries its organ's signature")
    check_address(m, address, what)
    key = _key(keys, m.signature.key_id, what)
    action_type = getattr(m, "action_type", None)
    if key.organ == RELAY and action_type not in RELAYED:
        raise PublicRefusal(f"{what}: key {key.key_id} relays the Court's own acts, not this one")
    if key.organ != RELAY and key.organ is not organ_of(m.decided_by):
        raise PublicRefusal(
            f"{what}: key {key.key_id} is the {key.organ}'s, not that of {m.decided_by!r}"
        )
    for moment, when in (("now", now), ("at decided_at", m.decided_at)):
        if not key.valid_at(when):
            raise PublicRefusal(
                f"{what}: key {key.key_id} is not valid {moment} ({when.isoformat()})"
            )
    _verify(key, m, what)
    if key.organ == RELAY and action_type in RELAYED:
        check_relayed(keys, m, case, what)


def check_relayed(keys: OrganKeys | None, m: CourtAction, case: str | None, what: str) -> None:
    """The relay key attests only that the case relayed ``m``: the Chamber's own act inside it
    (``original``) must verify, signed for the request's own case, and say what ``m`` says
    (a judgment as recorded, RS 74, 83(2); the release of the case, RS 74, 81(3)(c), 83(2),
    for a release or the close that follows it)."""
    original = getattr(m, "original", None)
    if original is None:
        raise PublicRefusal(f"{what}: relayed without the organ's signed original inside it")
    if case is None:
        raise PublicRefusal(f"{what}: a case relays its acts only to its own requests")
    check_original(keys, original, case, what)
    if isinstance(m, Judgment):
        agrees = _said(m) == _said(original)
    elif isinstance(m, CaseRelease):
        check_original(keys, m.judgment, case, f"{what} (its judgment)")
        agrees = isinstance(original, ReleaseCase) and (
            (m.decided_by, m.decided_at, m.reasons, m.judgment.judgment_reference)
            == (
                original.decided_by,
                original.decided_at,
                original.reasons,
                original.judgment_reference,
            )
        )
    else:  # a close after the release of the case: the release's Chamber closes
        agrees = isinstance(original, ReleaseCase) and m.decided_by == original.decided_by
    if not agrees:
        raise PublicRefusal(f"{what}: says other than the organ's original inside it")


def check_original(keys: OrganKeys | None, original: CourtAction, case: str, what: str) -> None:
    """Refused unless ``original`` is signed by the organ it names (never the relay), for
    ``case``, with a key valid when it was decided."""
    label = f"{what}: the original of the {original.decided_by}"
    if original.signature is None:
        raise PublicRefusal(f"{label} is not signed")
    check_address(original, case, label)
    key = _key(keys, original.signature.key_id, label)
    if key.organ == RELAY or key.organ is not organ_of(original.decided_by):
        raise PublicRefusal(f"{label}: key {key.key_id} is not that organ's")
    if not key.valid_at(original.decided_at):
        raise PublicRefusal(f"{label}: key {key.key_id} is not valid at its decided_at")
    _verify(key, original, label)


def case_of_run() -> str | None:
    """The address of the case this request runs in (its parent, ``case/ORDER``), if any."""
    parent = workflow.info().parent
    if parent is None or not parent.workflow_id.startswith("case/"):
        return None
    return parent.workflow_id


RELAY_FIELDS = frozenset({"event_id", "addressed_to", "signature", "original"})
"""What a relayed act holds of its own, beside what its original says."""


def _said(m: CourtAction) -> dict[str, object]:
    return m.model_dump(mode="json", exclude=set(RELAY_FIELDS))


def _key(keys: OrganKeys | None, key_id: str, what: str) -> OrganKey:
    if keys is None or not keys.keys:
        why = keys.reason if keys is not None and keys.reason else "not read yet"
        raise PublicRefusal(f"{what}: key {key_id} {UNKNOWN_KEY} ({why})")
    key = keys.get(key_id)
    if key is None:
        raise PublicRefusal(f"{what}: key {key_id} {UNKNOWN_KEY}")
    return key


def _verify(key: OrganKey, m: CourtAction, what: str) -> None:
    assert m.signature is not None
    try:  # plain integer arithmetic (no native library in the workflow's sandbox)
        raw = base64.urlsafe_b64decode(m.signature.signature + "==")
        public = base64.b64decode(key.public_key)
        good = ed25519_keys.verify(public, action_bytes(m), raw)
    except (binascii.Error, ValueError, CanonicalError):
        good = False
    if not good:
        raise PublicRefusal(f"{what}: the signature of key {key.key_id} does not verify")
