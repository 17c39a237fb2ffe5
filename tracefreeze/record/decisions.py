"""A Court action's signed original as evidence: verified when recorded, re-verifiable for
years after Temporal's retention deleted the request's history (RS 93(1)(k), 57(3)(e), 75(4):
the orders to identify, trace, freeze, seize and forfeit are the Chambers' and the
Presidency's acts; who decided is part of the decision).

The record store keeps each action exactly as the request took it (``schemas/court_record.py``,
the Court-internal topic ``tracefreeze.court-actions``) and checks it with the very function
the request's validator uses (``workflows.decision_signatures.check_signature``), so a change
of what a signature covers applies here too: the organ's key by the key id it names, the key's
organ, its window at ``decided_at`` and at the moment the request took the action, the
signature over the action's canonical JSON. Against the organ key registry the recorder holds
when it records the action (``$TRACEFREEZE_ORGAN_KEYS_FILE``), which the store keeps as it was
(``key_registry_versions``, public keys only): a key rotated out or revoked since does not
change what the action was when it was taken. ``reverify`` runs the check again on the stored
original against that stored registry.

A signature is not the whole of a decision's validity: the organ must also have the power to
take it (the catalog's table of powers, ``workflows/powers.py``), checked here as the request
checks it, so a Registry's forfeiture order with a good Registry signature is recorded as
``no_power``, never ``verified`` (RS 76, 77(2)(b): the Trial Chamber's). A row the law gives to
the organ that made the request is checked against the organ only: which organ made it is the
request's own record, and the request checked it when it took the action; so is a row the
request decides (a release, by what holds its assets: ``powers.check_organ_power``).

Only a verified original is recorded once by its id: one that does not verify (or whose organ
had no power) is filed beside it and never takes its place, so nothing sent first under a
genuine act's id can keep the genuine act out of the record.
"""

from __future__ import annotations

from pydantic import ValidationError

from schemas.court import request_address
from schemas.court_record import SignedCourtAction
from schemas.organ_keys import OrganKeys
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.record.evidence import VERIFIED, Check
from tracefreeze.security.organ_keys import load_organ_keys, organ_keys_file
from workflows.catalog import POWERS
from workflows.decision_signatures import check_signature
from workflows.outcome import Refusal
from workflows.powers import check_organ_power

NOT_VERIFIED = "not_verified"
NO_POWER = "no_power"
UNREADABLE = "unreadable"


def organ_registry(settings: Settings) -> OrganKeys:
    """The organ key registry the recorder holds now (its reason, if it cannot be read)."""
    try:
        return load_organ_keys(organ_keys_file(settings.state_dir))
    except TracefreezeError as err:
        return OrganKeys(reason=str(err)[:2000])


def check_action(value: bytes | None, registry: OrganKeys) -> Check:
    """Verify one signed original as the request's validator did, at the moment it took it."""
    try:
        signed = SignedCourtAction.model_validate_json(value or b"")
    except (ValidationError, ValueError, RecursionError) as err:
        return Check(UNREADABLE, f"not a signed Court action: {str(err)[:500]}", None, None)
    action = signed.action
    key_id = action.signature.key_id if action.signature else None
    try:
        check_signature(registry, action, signed.time, *_addresses(signed))
    except Refusal as refusal:
        return Check(NOT_VERIFIED, str(refusal), key_id, None)
    try:
        check_organ_power(POWERS, action.action_type, action)
    except Refusal as refusal:
        return Check(NO_POWER, str(refusal), key_id, None)
    detail = (
        f"{action.action_type} signed for {action.decided_by} with key {key_id}, "
        f"decided {action.decided_at.isoformat()}, sent by {action.principal or '-'}"
    )
    return Check(VERIFIED, detail, key_id, None)


def _addresses(signed: SignedCourtAction) -> tuple[str, str | None]:
    """What the action was signed for (its request: the plain address, Rule 99(2) aside) and,
    for an act a case relayed, the case its organ's original inside was signed for (that the
    request belonged to that case is the workflow's check; the record shows the original)."""
    original = getattr(signed.action, "original", None)
    case = original.addressed_to if original is not None else None
    return request_address(signed.subject, signed.requested_state), case


def registry_of(raw: str) -> OrganKeys:
    """An organ key registry as the store kept it."""
    return OrganKeys.model_validate_json(raw)
