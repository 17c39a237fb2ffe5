"""What a request does with the judgment of its case: record it, take the case-level release
after an acquittal or a termination, and refuse a forfeiture order without a conviction.

The judgment is recorded at case level (``workflows/case.py``) and told to each request of the
case as a Court action (``judgment``), so each request's rules read the judgment in force from
its own state: deterministic, replayable, and the same for a request started alone (the
Court's client records the judgment on it directly). A rule never asks another workflow
anything while it decides.
"""

from __future__ import annotations

from datetime import datetime

from schemas.court import CaseRelease, ForfeitureOrder, Judgment, JudgmentOutcome
from schemas.ledger import AssetStatus as A
from schemas.ledger import RequestStatus as S
from schemas.request import CourtRequest
from workflows import asset_rules as ar
from workflows.asset_rules import release
from workflows.carry import RequestCarry
from workflows.outcome import Outcome, Refusal

ENDED = frozenset({S.EXECUTED, S.PARTIALLY_EXECUTED, S.NO_ASSETS, S.DENIED, S.WITHDRAWN})
"""The statuses in which execution has ended (as ``catalog.ENDED``): a case release leaves
such a request as it is, for the case to close it once its assets are settled."""


def _earlier_record(held: Judgment | None, judgment: Judgment) -> bool:
    """``judgment`` is the earlier record, an appeal pending, of the judgment in force as
    final (recorded again once no appeal was brought, Rule 150)."""
    return (
        held is not None
        and held.judgment_reference == judgment.judgment_reference
        and (held.finality, judgment.finality) == ("final", "appeal_pending")
    )


def _check_not_older(record: RequestCarry, judgment: Judgment) -> None:
    held = record.judgment
    if held is not None and judgment.delivered_on < held.delivered_on:
        raise Refusal(
            f"judgment {judgment.judgment_reference} of {judgment.delivered_on} is older than "
            f"the judgment in force ({held.judgment_reference} of {held.delivered_on})"
        )


def check_judgment(record: RequestCarry, _: CourtRequest, m: Judgment) -> None:
    """A judgment older than the one in force never replaces it (an appeal judgment stands
    over the trial judgment it decided, RS 83(2)), nor does the earlier record of a judgment
    in force as final (Rule 150)."""
    _check_not_older(record, m)
    if _earlier_record(record.judgment, m):
        raise Refusal(
            f"judgment {m.judgment_reference} is in force here as final: its earlier record, "
            "an appeal pending, does not replace it (Rule 150)"
        )


def apply_judgment(record: RequestCarry, _: CourtRequest, m: Judgment, at: datetime) -> Outcome:
    """Record the judgment in force (RS 74, 83): nothing else changes on the request."""
    record.judgment = m
    cause = f" ({m.termination_cause})" if m.termination_cause else ""
    return Outcome(
        f"judgment {m.judgment_reference}: {m.outcome.value}{cause} by the {m.decided_by} "
        f"on {m.delivered_on}, {m.finality.replace('_', ' ')}"
    )


def check_case_release(record: RequestCarry, _: CourtRequest, m: CaseRelease) -> None:
    """The release rests on the judgment it names: refused if the request holds a later one."""
    _check_not_older(record, m.judgment)


def apply_case_release(
    record: RequestCarry, _: CourtRequest, m: CaseRelease, at: datetime
) -> Outcome:
    """Release every frozen or seized asset of the request on the Chamber's act (RS 74,
    81(3)(c), 83(2); RS 61): the State lifts each measure (the release notice reaches it on its
    channel as this action's decision). An asset under a forfeiture order stays as it is,
    awaiting a decision on it. A request still in execution leaves it (withdrawn): its stage
    deadlines and the ladder stop; one whose execution had ended stays as it is."""
    if not _earlier_record(record.judgment, m.judgment):  # a final record stays final
        record.judgment = m.judgment
    ground = m.ground.value
    out = Outcome(
        f"case released ({ground}, judgment {m.judgment.judgment_reference}) by the {m.decided_by}"
    )
    for entry in record.ledger.restrained():
        if entry.status in (A.FROZEN, A.SEIZED):
            out.assets.append(release(entry, ground, m.event_id, at))
    if record.status not in ENDED:
        out.status = S.WITHDRAWN
    return out


def check_forfeiture(record: RequestCarry, request: CourtRequest, m: ForfeitureOrder) -> None:
    """Forfeiture is a penalty on a convicted person (RS 77(2)(b); Rule 147): refused unless a
    conviction is the judgment in force for the request's case (that the Trial Chamber, or the
    Appeals Chamber amending the sentence, RS 83(2), orders it is the catalog's table of
    powers). Where no judgment was recorded, the conservative reading: nothing is forfeited."""
    held = record.judgment
    if held is None or held.outcome is not JudgmentOutcome.CONVICTION:
        recorded = (
            "no judgment recorded"
            if held is None
            else f"judgment {held.judgment_reference} ({held.outcome.value}) in force"
        )
        raise Refusal(
            f"forfeiture follows a conviction (RS 77(2)(b)): case {request.case_number} has "
            f"{recorded}"
        )
    ar.check_forfeiture(record, request, m)
