"""Rule 99 in full (docs/legal-process.md, "Rule 99"): notice of a protective measure and the
Chamber's ruling on the observations. The application behind the measure (Rule 99(1): the
Chamber's own motion, the Prosecutor's application, victims' request) is recorded on the
request itself (``CourtRequest.rule99_application``).

- Rule 99(2): notice is given before the measure is executed only where the Chamber
  determined that it could not jeopardise the measures' effectiveness (``prior``), never on an
  order made ex parte.
- Rule 99(3): an order made without prior notice (ex parte) is notified once executed to the
  person against whom it is made and, to the extent possible, to interested persons — bona
  fide third parties included, i.e. the claimants of third-party claims on this request.
- Rule 99(3): on the observations the Chamber maintains, revokes or modifies the measure. A
  revocation releases the assets it names; a modification keeps the measure in force on its
  terms and applies its effects: the assets it no longer covers are released, a seizure
  becomes a freeze, an asset is held only up to a value. Neither reaches an asset held under
  a forfeiture order (``workflows/forfeiture_hold.py``).

Pure functions over the request's record; deterministic.
"""

from __future__ import annotations

from datetime import datetime

from schemas.common import Confidentiality
from schemas.court import Rule99Decision, Rule99Notification
from schemas.ledger import AssetStatus, LedgerEntry
from schemas.request import CourtRequest
from workflows.asset_rules import THIRD_PARTY_CLAIM, annotate, move, release
from workflows.carry import RequestCarry
from workflows.forfeiture_hold import check_releasable
from workflows.outcome import Outcome, Refusal, entry_of

A = AssetStatus
LIFTED = "rule99_modification"
"""The release ground of an asset a Rule 99(3) modification no longer covers."""


def _claims(r: RequestCarry) -> dict[str, str]:
    """Third-party claims on this request, by claim id, with the asset each concerns."""
    return {
        c.contest_id: asset_id
        for asset_id, e in r.ledger.entries.items()
        for c in e.contests
        if c.kind == THIRD_PARTY_CLAIM
    }


def check_notification(r: RequestCarry, request: CourtRequest, m: Rule99Notification) -> None:
    ex_parte = request.confidentiality is Confidentiality.EX_PARTE
    restrained = sorted(a for a, e in r.ledger.entries.items() if e.status.restrained)
    if m.notice == "prior":
        if ex_parte:
            raise Refusal(
                "Rule 99(2): this request is ex parte — the Chamber ordered the measure without "
                "prior notice; its notice comes after execution (Rule 99(3))"
            )
        if restrained:
            raise Refusal(
                f"Rule 99(2): prior notice comes before the measure is executed; {restrained} "
                "are already frozen or seized"
            )
    else:
        if not ex_parte and r.rule99_notified_at is not None:
            raise Refusal(
                "Rule 99(3) notice follows an order made without prior notice; notice of this "
                "request was already given (Rule 99(2))"
            )
        if not restrained:
            raise Refusal(
                "Rule 99 notification follows the execution of a measure: nothing is restrained yet"
            )
    unknown = set(m.notified_party_ids) - {p.party_id for p in request.parties}
    if unknown:
        raise Refusal(f"notified_party_ids {sorted(unknown)} are not parties to the request")
    strangers = set(m.notified_claim_ids) - set(_claims(r))
    if strangers:
        raise Refusal(
            f"notified_claim_ids {sorted(strangers)} are not third-party claims on this request"
        )


def apply_notification(
    r: RequestCarry, _: CourtRequest, m: Rule99Notification, at: datetime
) -> Outcome:
    """The Registry gives notice (Rule 99(2) before execution, 99(3) after an ex parte order);
    the persons notified may make observations to the Chamber."""
    r.rule99_notified_at = at
    persons = f"{len(m.notified_party_ids)} person(s)"
    if m.notice == "prior":
        return Outcome(
            f"Rule 99(2) prior notice to {persons}: the Chamber found it could not jeopardise "
            "the measures"
        )
    what = f"Rule 99 notification of {persons}"
    if m.notified_claim_ids:
        what += f" and {len(m.notified_claim_ids)} third-party claimant(s) (Rule 99(3))"
    missed = sorted(set(_claims(r)) - set(m.notified_claim_ids))
    if missed:
        what += f"; claimants of {', '.join(missed)} not notified"
    return Outcome(what)


def check_decision(r: RequestCarry, _: CourtRequest, m: Rule99Decision) -> None:
    if r.rule99_notified_at is None:
        raise Refusal("the Chamber rules on observations only after the Rule 99 notification")
    for asset_id in m.asset_ids:
        entry = entry_of(r, asset_id)
        if not entry.status.restrained:
            raise Refusal(f"asset {asset_id!r} is not restrained")
        # Rule 99(3) reviews the protective order; a forfeiture order made since
        # (RS 77(2)(b)) is not that order, and neither a revocation nor a modification
        # reaches it.
        check_releasable(asset_id, entry, f"a Rule 99(3) {m.outcome} decision")
    kept = [a for a in m.asset_ids if a not in m.lifted_asset_ids]
    if m.seizure_to_freeze and not any(r.ledger.entries[a].status is A.SEIZED for a in kept):
        raise Refusal("seizure_to_freeze: no asset the modified measure keeps is seized")
    for limit in m.limits:
        entry = r.ledger.entries[limit.asset_id]
        if limit.held_up_to.amount <= 0:
            raise Refusal(
                f"limits: {limit.asset_id!r} held up to nothing is lifted: name it in "
                "lifted_asset_ids"
            )
        if entry.value is not None and entry.value.currency != limit.held_up_to.currency:
            raise Refusal(
                f"limits: {limit.asset_id!r} is valued in {entry.value.currency}, "
                f"not {limit.held_up_to.currency}"
            )


def apply_decision(r: RequestCarry, _: CourtRequest, m: Rule99Decision, at: datetime) -> Outcome:
    """Rule 99(3): the measure is maintained, revoked (the assets named are released) or
    modified (its terms recorded on each asset named and its effects applied)."""
    out = Outcome(f"measure {m.outcome} after Rule 99 observations")
    if m.outcome == "maintained":
        return out
    if m.outcome == "revoked":
        for asset_id in m.asset_ids:
            out.assets.append(release(r.ledger.entries[asset_id], "revocation", m.event_id, at))
        return out
    assert m.terms is not None
    changed: dict[str, LedgerEntry] = {}
    for asset_id in m.asset_ids:
        entry = r.ledger.entries[asset_id]
        entry.rule99_modifications = [*entry.rule99_modifications, m.terms]
        annotate(entry, m.event_id, at, f"measure modified under Rule 99(3): {m.terms}")
    effects: list[str] = []
    for asset_id in m.lifted_asset_ids:
        changed[asset_id] = release(r.ledger.entries[asset_id], LIFTED, m.event_id, at)
        effects.append(f"{asset_id} released")
    if m.seizure_to_freeze:
        for asset_id in m.asset_ids:
            entry = r.ledger.entries[asset_id]
            if asset_id not in m.lifted_asset_ids and entry.status is A.SEIZED:
                move(entry, A.FROZEN, m.event_id, at, "Rule 99(3): the seizure becomes a freeze")
                changed[asset_id] = entry
                effects.append(f"{asset_id} seizure becomes a freeze")
    for limit in m.limits:
        entry = r.ledger.entries[limit.asset_id]
        entry.held_up_to = limit.held_up_to
        held = f"{limit.held_up_to.amount} {limit.held_up_to.currency}"
        annotate(entry, m.event_id, at, f"Rule 99(3): held only up to {held}")
        changed[limit.asset_id] = entry
        effects.append(f"{limit.asset_id} held up to {held}")
    out.assets = list(changed.values())
    out.what = f"measure modified after Rule 99 observations on {', '.join(m.asset_ids)}"
    if effects:
        out.what += f": {'; '.join(effects)}"
    return out
