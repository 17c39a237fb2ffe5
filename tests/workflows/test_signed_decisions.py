"""Each Court action is signed by the organ whose act it is, and a request takes none without
a valid signature (docs/signed-decisions.md): the validator verifies it against the organ key
registry the request's own history holds, before anything is written."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from schemas import court as c
from schemas.events import RequestEventType
from schemas.ledger import AssetStatus as A
from schemas.organ_keys import REFRESH_ORGAN_KEYS, OrganKey, OrganKeys
from schemas.organs import Organ
from schemas.views import AnswerReceipt
from tests.builders import (
    court_action,
    new_event_id,
    reasons,
)
from tests.decisions import conviction
from tests.workflows.support import (
    ACCOUNT,
    forfeiture,
    in_execution,
    send,
    snapshot,
    view,
)
from tracefreeze.court_signing import by_user
from tracefreeze.security import ed25519_keys
from tracefreeze.security.organ_keys import (
    FILE_ENV,
    key_path,
    keygen,
    organ_keys_dir,
    organ_keys_file,
    sign_action,
    signed,
    signer_for,
)
from tracefreeze.security.signing import load_private_key, public_key_b64
from workflows import catalog
from workflows.decision_signatures import UNKNOWN_KEY, action_bytes, check_signature
from workflows.outcome import Refusal


async def assert_refused(handle: Any, recorder: Any, action: c.CourtAction, fragment: str) -> None:
    """Sent as it is (no client signing it on the way): refused by the validator with
    ``fragment`` in the reason, and nothing written."""
    before = await snapshot(handle, recorder)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            catalog.update_of(action), action, id=action.event_id, result_type=AnswerReceipt
        )
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "AnswerRejected", cause
    assert fragment in cause.message, cause.message
    assert await snapshot(handle, recorder) == before


def release(**fields: Any) -> c.Release:
    data = {"asset_ids": [ACCOUNT], "ground": "withdrawal", **reasons(), **fields}
    return court_action(c.Release, **data)


async def test_unsigned_and_wrongly_signed_actions_are_refused_and_nothing_released(
    worker,
) -> None:
    """No signature; a signature of the Registry's key on a Chamber's release; a signature
    over other words than those sent; the workers' relay key on an act no workflow relays:
    each refused with its reason, the asset stays frozen. The Chamber's own release is
    taken."""
    req, handle = await in_execution(worker)
    await assert_refused(handle, worker.published, release(), "is not signed")
    registry_key, registry_id = signer_for(Organ.REGISTRY)
    as_registry = sign_action(release(addressed_to=req.workflow_id), registry_key, registry_id)
    await assert_refused(handle, worker.published, as_registry, "is the registry's, not that of")
    tampered = signed(release(), req.workflow_id)
    tampered = tampered.model_copy(update={"reasons": "Other reasons, not signed."})
    await assert_refused(handle, worker.published, tampered, "does not verify")
    relay_key, relay_id = signer_for("relay")
    as_relay = sign_action(release(addressed_to=req.workflow_id), relay_key, relay_id)
    await assert_refused(handle, worker.published, as_relay, "relays the Court's own acts")
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.FROZEN
    await send(handle, release())  # the Court's client signs it with the Chamber's key
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.RELEASED


async def test_a_chambers_valid_forfeiture_order_is_taken_signed_with_its_key(worker) -> None:
    """RS 77(2)(b): the Trial Chamber's order, signed with the Trial Chamber's key, after a
    conviction: taken."""
    req, handle = await in_execution(worker)
    await send(handle, conviction())
    order = signed(forfeiture(ACCOUNT), req.workflow_id)
    assert order.signature is not None and order.signature.key_id.startswith("trial_chamber")
    await send(handle, order)
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.FORFEITURE_ORDERED


async def test_a_rotated_key_is_taken_once_the_request_reads_its_registry_again(
    worker,
) -> None:
    """Key history: a new key of the Pre-Trial Chamber, added after the request read its
    registry, is unknown to it; the Court's client asks it to read the registry again
    (``refresh_organ_keys``) and the action is taken. Sent alone, it is refused."""
    req, handle = await in_execution(worker)
    new_id = f"pre_trial_chamber-rotated-{datetime.now(UTC):%H%M%S%f}"
    since = datetime(2000, 1, 1, tzinfo=UTC)
    keygen(Organ.PRE_TRIAL_CHAMBER, new_id, organ_keys_dir(), organ_keys_file(), since)
    key = load_private_key(key_path(organ_keys_dir(), Organ.PRE_TRIAL_CHAMBER, new_id))
    action = sign_action(release(addressed_to=req.workflow_id), key, new_id)
    await assert_refused(handle, worker.published, action, UNKNOWN_KEY)
    await send(handle, action)
    found = await view(handle)
    assert found.ledger.entries[ACCOUNT].status is A.RELEASED
    assert any("organ key registry" in t.what for t in found.timeline)


async def test_an_action_signed_for_one_request_is_refused_by_another(worker) -> None:
    """Each request is the Court's act towards one party (RS 87(1)(a), 96(1)): the Chamber's
    release signed for the request to one State, sent as it is to the request to another
    (same reference and case), is refused with the reason and releases nothing there; so is
    a signed action that names no request, and one whose request was changed after signing.
    The request it was signed for takes it."""
    first, to_first = await in_execution(worker, requested_state="NLD")
    second, to_second = await in_execution(worker, requested_state="BEL", reference=first.reference)
    assert first.workflow_id != second.workflow_id
    action = signed(release(), first.workflow_id)
    assert action.addressed_to == first.workflow_id
    await assert_refused(to_second, worker.published, action, "was signed for another request")
    key, key_id = signer_for(Organ.PRE_TRIAL_CHAMBER)
    nowhere = sign_action(release(), key, key_id)
    await assert_refused(to_second, worker.published, nowhere, "names no request it is signed")
    moved = action.model_copy(update={"addressed_to": second.workflow_id})
    await assert_refused(to_second, worker.published, moved, "does not verify")
    assert (await view(to_second)).ledger.entries[ACCOUNT].status is A.FROZEN
    await to_first.execute_update(
        catalog.update_of(action), action, id=action.event_id, result_type=AnswerReceipt
    )
    assert (await view(to_first)).ledger.entries[ACCOUNT].status is A.RELEASED


def test_a_key_signs_only_within_its_window() -> None:
    """A key used after its end, or for a decision dated before its start, verifies
    nothing (key history: on rotation, let the windows overlap); inside it, it verifies."""
    key, key_id = signer_for(Organ.PRE_TRIAL_CHAMBER)
    window = OrganKey(
        key_id=key_id,
        organ=Organ.PRE_TRIAL_CHAMBER,
        public_key=public_key_b64(key),
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
        not_after=datetime(2026, 6, 1, tzinfo=UTC),
    )
    keys = OrganKeys(keys=(window,))
    to = "request/ICC-01/22-REQ-0001/NLD"
    decided = "2026-05-01T10:00:00+02:00"
    action = sign_action(release(decided_at=decided, addressed_to=to), key, key_id)
    inside = datetime(2026, 5, 2, tzinfo=UTC)
    check_signature(keys, action, inside, to)
    with pytest.raises(Refusal, match="is not valid now"):
        check_signature(keys, action, inside + timedelta(days=365), to)
    early = release(decided_at="2025-12-01T00:00:00Z", addressed_to=to)
    with pytest.raises(Refusal, match="is not valid at decided_at"):
        check_signature(keys, sign_action(early, key, key_id), inside, to)


def test_the_session_keys_are_no_repository_file() -> None:
    """Organ keys are made locally, never committed."""
    assert not str(organ_keys_file()).startswith(str(Path(__file__).resolve().parents[2]))


async def test_a_court_actions_event_says_who_for_which_organ_and_what_was_signed(
    worker, monkeypatch
) -> None:
    """Audit: the Court action's event on the Court's topic names the Court user who sent it
    (the client's principal), the organ, the key, the signature and the digest of what it
    signed, on the request it concerns; no search attribute holds the user."""
    monkeypatch.setenv("TRACEFREEZE_PRINCIPAL", "registry.officer-7")
    req, handle = await in_execution(worker)
    action = signed(by_user(release()), req.workflow_id)
    await send(handle, action)
    event = next(
        e
        for e in worker.published.events(req.reference)
        if e.caused_by == action.event_id and e.type is RequestEventType.COURT_ACTION
    )
    audit = event.audit
    assert audit is not None and event.action == "release" and event.subject == req.reference
    assert audit.principal == "registry.officer-7" and audit.decided_by == "pre_trial_chamber"
    assert action.signature is not None and audit.key_id == action.signature.key_id
    assert audit.signed_digest == hashlib.sha256(action_bytes(action)).hexdigest()
    described = await handle.describe()
    assert "registry.officer-7" not in str(described.typed_search_attributes)


async def test_a_signature_is_verified_once_per_action(worker, monkeypatch) -> None:
    """The validator verifies the organ's signature; the handler that then applies the same
    action does not verify it again (about 40 ms of plain-integer Ed25519 each time)."""
    req, handle = await in_execution(worker)
    action = signed(release(), req.workflow_id)
    calls: list[int] = []
    verify = ed25519_keys.verify

    def counted(*args: Any) -> bool:
        calls.append(1)
        return verify(*args)

    monkeypatch.setattr(ed25519_keys, "verify", counted)
    await send(handle, action)
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.RELEASED
    assert len(calls) == 1


async def test_a_refresh_that_cannot_read_the_registry_keeps_the_one_in_force(
    worker, monkeypatch, tmp_path: Path
) -> None:
    """Anyone who reaches a request may ask it to read its organ keys again: a read that fails
    (the file missing for a moment) keeps the registry in force and says so, so the Chamber's
    release is still taken, with no other refresh (RS 57(3)(e): its measures stay under the
    Court's decisions)."""
    req, handle = await in_execution(worker)
    held = os.environ[FILE_ENV]
    monkeypatch.setenv(FILE_ENV, str(tmp_path / "missing.toml"))
    digest = await handle.execute_update(REFRESH_ORGAN_KEYS, id=new_event_id(), result_type=str)
    monkeypatch.setenv(FILE_ENV, held)
    assert digest and any(
        "ORGAN KEYS NOT READ AGAIN" in t.what for t in (await view(handle)).timeline
    )
    action = signed(release(), req.workflow_id)
    await handle.execute_update(
        catalog.update_of(action), action, id=action.event_id, result_type=AnswerReceipt
    )
    assert (await view(handle)).ledger.entries[ACCOUNT].status is A.RELEASED
