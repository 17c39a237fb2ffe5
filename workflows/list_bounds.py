"""Caps on the lists a request's record grows, per asset and per request, checked with the
other bounds (``workflows/bounds.py``) before any rule writes: an answer or action that would
take a list past its cap is refused with the cap as its reason, and the record a request
carries across continue-as-new stays bounded whatever a party or a user sends.

Each cap is far above what the law's procedure produces on one asset or one request:

- allocations (Rule 221): each decision of the Presidency lists at most
  ``MAX_ALLOCATION_SHARES`` shares; an asset takes ``MAX_ALLOCATION_DECISIONS`` decisions and
  ``MAX_ALLOCATION_SHARES_KEPT`` shares in all;
- Rule 99(3) modifications of the measure on one asset: ``MAX_RULE99_MODIFICATIONS``;
- contests on one asset (third parties' claims, RS 93(1)(k), Rule 99(3); domestic
  challenges): ``MAX_CONTESTS``;
- admissibility rulings recorded on one request (RS 19, 95): ``MAX_ADMISSIBILITY_RULINGS``;
- art. 72(5) consultations on one request (opened by the State or by the Court's request for
  further consultations, art. 72(7)(a)(i)): ``MAX_NATIONAL_SECURITY_CONSULTATIONS``.

Pure; deterministic.
"""

from __future__ import annotations

from pydantic import BaseModel

from schemas.answers import Consultation, ConsultationGround, DomesticChallenge, ThirdPartyClaim
from schemas.court import (
    MAX_ALLOCATION_SHARES,
    AdmissibilityRuling,
    Allocation,
    NationalSecurityDetermination,
    Rule99Decision,
)
from workflows.carry import RequestCarry
from workflows.outcome import Refusal

MAX_ALLOCATION_DECISIONS = 50
"""Allocation decisions one asset takes (Rule 221): a transferred asset is allocated in a few."""
MAX_ALLOCATION_SHARES_KEPT = 10 * MAX_ALLOCATION_SHARES
"""Allocation shares one asset keeps, over all its decisions."""
MAX_RULE99_MODIFICATIONS = 20
"""Rule 99(3) modifications of the measure on one asset."""
MAX_CONTESTS = 50
"""Contests (claims and domestic challenges) lodged against one asset."""
MAX_ADMISSIBILITY_RULINGS = 50
"""Admissibility rulings one request records (RS 19, 95)."""
MAX_NATIONAL_SECURITY_CONSULTATIONS = 40
"""art. 72(5) consultations one request records (twice the denials it takes, and more)."""


def check_list_bounds(record: RequestCarry, m: BaseModel) -> None:
    """Refuse, naming the cap, what would take one of the record's lists past it."""
    entries = record.ledger.entries
    if isinstance(m, Allocation) and (entry := entries.get(m.asset_id)) is not None:
        if len(entry.allocation_decisions) >= MAX_ALLOCATION_DECISIONS:
            _full(f"asset {m.asset_id!r} has taken {MAX_ALLOCATION_DECISIONS} allocation decisions")
        if len(entry.allocations) + len(m.shares) > MAX_ALLOCATION_SHARES_KEPT:
            _full(
                f"asset {m.asset_id!r} keeps at most {MAX_ALLOCATION_SHARES_KEPT} allocation "
                f"shares; it holds {len(entry.allocations)}, this decision adds {len(m.shares)}"
            )
    if isinstance(m, Rule99Decision) and m.outcome == "modified":
        for asset_id in m.asset_ids:
            entry = entries.get(asset_id)
            if entry is not None and len(entry.rule99_modifications) >= MAX_RULE99_MODIFICATIONS:
                _full(
                    f"the measure on {asset_id!r} was modified {MAX_RULE99_MODIFICATIONS} times "
                    "under Rule 99(3)"
                )
    if isinstance(m, ThirdPartyClaim | DomesticChallenge) and (
        isinstance(m, ThirdPartyClaim) or m.outcome == "lodged"
    ):
        entry = entries.get(m.asset_id)
        if entry is not None and len(entry.contests) >= MAX_CONTESTS:
            _full(f"asset {m.asset_id!r} has {MAX_CONTESTS} contests lodged against it")
    if isinstance(m, AdmissibilityRuling):
        if len(record.admissibility_rulings) >= MAX_ADMISSIBILITY_RULINGS:
            _full(f"this request has recorded {MAX_ADMISSIBILITY_RULINGS} admissibility rulings")
    opens_72_5 = (
        isinstance(m, Consultation) and m.ground is ConsultationGround.NATIONAL_SECURITY
    ) or (isinstance(m, NationalSecurityDetermination) and m.outcome == "further_consultations")
    if opens_72_5 and (
        len(record.national_security_consultations) >= MAX_NATIONAL_SECURITY_CONSULTATIONS
    ):
        _full(
            f"this request has recorded {MAX_NATIONAL_SECURITY_CONSULTATIONS} art. 72(5) "
            "consultations"
        )


def _full(what: str) -> None:
    raise Refusal(f"{what}, its cap: refused, nothing recorded (the request's record is bounded)")
