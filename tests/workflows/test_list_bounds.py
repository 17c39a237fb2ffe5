"""Caps on the lists a request's record grows (``workflows/list_bounds.py``), and the size of
a case's carried request summaries at their bounds (``schemas/case.py``).

Each list of the record that grew without a cap of its own (allocations and allocation
decisions per asset, Rule 221; Rule 99(3) modifications per asset; contests per asset, RS
93(1)(k); admissibility rulings per request, RS 95; art. 72(5) consultations per request) is
refused at its cap with the cap as the reason, before any rule writes (old code: taken, the
record growing without end).
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError
from temporalio.contrib.pydantic import pydantic_data_converter

from schemas import court as c
from schemas.case import (
    MAX_CASE_REQUESTS,
    MAX_COUNT,
    MAX_CURRENCIES,
    MAX_HELD,
    CaseCarry,
    CaseReleaseRecord,
    DeliveryResult,
    RequestRelease,
    RequestSummary,
    Secured,
)
from schemas.denials import NationalSecurityConsultation
from schemas.ledger import (
    AllocationRecord,
    AllocationShare,
    AssetStatus,
    Contest,
    CurrencyTotals,
    RequestStatus,
)
from schemas.request import CourtRequest
from tests.builders import (
    consultation,
    court_action,
    court_request,
    domestic_challenge,
    reasons,
    third_party_claim,
)
from tests.workflows.case_support import judgment, release_act
from tests.workflows.support import ACCOUNT, allocation
from workflows import catalog
from workflows import list_bounds as lb
from workflows.carry import RequestCarry
from workflows.case_release import MAX_REASON_KEPT, with_answer
from workflows.ledger import ledger_from_request
from workflows.outcome import Refusal

PAYLOAD_LIMIT = 2 * 1024 * 1024
"""Temporal's default largest payload (blob size limit error): 2 MiB."""
SUMMARIES_BUDGET = 3 * 1024 * 1024 // 2
"""What the case's request summaries may take of its carry at their bounds (1.5 MiB: the rest
of the carry, its workflow ids, Court actions, judgments and release, keeps 0.5 MiB)."""


LODGED = "event-0001"


def _record(req: CourtRequest) -> RequestCarry:
    return RequestCarry(
        status=RequestStatus.IN_EXECUTION, ledger=ledger_from_request(req), timeline=[]
    )


def _check(name: str, record: RequestCarry, req: CourtRequest, m: Any) -> str | None:
    """The refusal of ``m`` by its kind's checked rule (bounds first), if any."""
    try:
        catalog.RULES[name].check(record, req, m)
    except Refusal as refused:
        return str(refused)
    return None


def _share() -> AllocationShare:
    return AllocationShare.model_validate(
        {
            "destination": "reparations",
            "amount": {"amount": "1.00", "currency": "EUR"},
            "basis": "RS 75(2)",
        }
    )


def _decision() -> AllocationRecord:
    one = {"amount": "1.00", "currency": "EUR"}
    return AllocationRecord.model_validate(
        {
            "event_id": str(uuid4()),
            "decision_reference": "ICC-01/22-PRES-0001",
            "decided_at": datetime(2026, 5, 1, tzinfo=UTC),
            "allocated": one,
            "unallocated_after": one,
        }
    )


CAPS: list[tuple[str, int, Callable[[RequestCarry, int], None], Callable[[CourtRequest], Any]]] = [
    (
        "allocation",
        lb.MAX_ALLOCATION_DECISIONS,
        lambda r, n: setattr(r.ledger.entries[ACCOUNT], "allocation_decisions", [_decision()] * n),
        lambda req: allocation(ACCOUNT, ("reparations", "1.00")),
    ),
    (
        "allocation",
        lb.MAX_ALLOCATION_SHARES_KEPT,
        lambda r, n: setattr(r.ledger.entries[ACCOUNT], "allocations", [_share()] * n),
        lambda req: allocation(ACCOUNT, ("reparations", "1.00")),
    ),
    (
        "rule99_decision",
        lb.MAX_RULE99_MODIFICATIONS,
        lambda r, n: setattr(r.ledger.entries[ACCOUNT], "rule99_modifications", ["T"] * n),
        lambda req: court_action(
            c.Rule99Decision, outcome="modified", **reasons(asset_ids=[ACCOUNT], terms="T")
        ),
    ),
    (
        "third_party_claim",
        lb.MAX_CONTESTS,
        lambda r, n: setattr(
            r.ledger.entries[ACCOUNT],
            "contests",
            [
                Contest(contest_id=f"k-{i}", kind="third_party_claim", lodged_by_event=LODGED)
                for i in range(n)
            ],
        ),
        lambda req: third_party_claim(req, ACCOUNT, claim_id="claim-new"),
    ),
    (
        "domestic_challenge",
        lb.MAX_CONTESTS,
        lambda r, n: setattr(
            r.ledger.entries[ACCOUNT],
            "contests",
            [
                Contest(contest_id=f"k-{i}", kind="domestic_challenge", lodged_by_event=LODGED)
                for i in range(n)
            ],
        ),
        lambda req: domestic_challenge(req, ACCOUNT, challenge_id="challenge-new"),
    ),
    (
        "admissibility_ruling",
        lb.MAX_ADMISSIBILITY_RULINGS,
        lambda r, n: setattr(
            r, "admissibility_rulings", [f"ch-{i}=collection_ordered" for i in range(n)]
        ),
        lambda req: court_action(
            c.AdmissibilityRuling, challenge_reference="ch-new", outcome="admissible", **reasons()
        ),
    ),
    (
        "consultation",
        lb.MAX_NATIONAL_SECURITY_CONSULTATIONS,
        lambda r, n: setattr(
            r,
            "national_security_consultations",
            [
                NationalSecurityConsultation(
                    opened_at=datetime(2026, 5, 1, tzinfo=UTC),
                    event_id=str(uuid4()),
                    outcome="not_resolved",
                )
            ]
            * n,
        ),
        lambda req: consultation(req, ground="RS 72(5)"),
    ),
]


@pytest.mark.parametrize(
    ("name", "cap", "fill", "message"), CAPS, ids=[f"{n}-{cap}" for n, cap, *_ in CAPS]
)
def test_a_list_of_the_record_is_refused_at_its_cap(
    name: str,
    cap: int,
    fill: Callable[[RequestCarry, int], None],
    message: Callable[[CourtRequest], Any],
) -> None:
    """Below its cap the list is not what refuses; at its cap the answer or action is refused
    with the cap as the reason, before any rule writes."""
    req = court_request(measures=["identify", "trace", "freeze"])
    below, full = _record(req), _record(req)
    fill(below, cap - 1)
    fill(full, cap)
    refusal = _check(name, below, req, message(req))
    assert refusal is None or "its cap" not in refusal, refusal
    refusal = _check(name, full, req, message(req))
    assert refusal is not None and "its cap" in refusal, refusal


def test_the_courts_further_consultations_are_capped_too() -> None:
    """art. 72(7)(a)(i): the Court's request for further consultations opens an art. 72(5)
    consultation; at the cap it is refused like the State's own."""
    req = court_request(measures=["identify", "trace"])
    record = _record(req)
    CAPS[-1][2](record, lb.MAX_NATIONAL_SECURITY_CONSULTATIONS)
    determination = court_action(
        c.NationalSecurityDetermination,
        denial_event_id=str(uuid4()),
        outcome="further_consultations",
        **reasons(),
    )
    refusal = _check("national_security_determination", record, req, determination)
    assert refusal is not None and "its cap" in refusal


# --- The case's carried summaries at their bounds --------------------------------------------

WIDEST = -Decimal("999999999999999999999.9999999")
"""The widest figure a summary may carry: 28 digits (``MAX_DIGITS``), a sign and a point."""
CODES = ["".join(p) for p in itertools.product(string.ascii_uppercase, repeat=3)]


def _widest_summary(i: int) -> RequestSummary:
    """A request's summary with every field at its bound: the longest reference, every
    currency listed with every figure at its widest, every held asset with the longest id."""
    return RequestSummary(
        reference=f"R{i:06d}".ljust(64, "9"),
        requested_state=CODES[i],
        status=RequestStatus.IN_CONSULTATION,
        totals={
            code: CurrencyTotals(**{f: WIDEST for f in CurrencyTotals.model_fields})
            for code in CODES[:MAX_CURRENCIES]
        },
        currencies_left_out=MAX_COUNT,
        answers_seen=MAX_COUNT,
        assets=MAX_COUNT,
        restrained=MAX_COUNT,
        held={f"a{k}".ljust(64, "x"): AssetStatus.FORFEITURE_ORDERED for k in range(MAX_HELD)},
        held_left_out=MAX_COUNT,
        secured={
            code: Secured(amount=WIDEST, assets=MAX_COUNT, valued_on=date(2026, 1, 1))
            for code in CODES[:MAX_CURRENCIES]
        },
        unvalued=MAX_COUNT,
        as_of=datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC),
    )


def _encoded(model: object) -> int:
    (payload,) = pydantic_data_converter.payload_converter.to_payloads([model])
    return len(payload.SerializeToString())


def test_a_cases_summaries_at_their_bounds_fit_temporals_payload_limit() -> None:
    """A case carries every request's summary across continue-as-new (``CaseCarry``) and
    shows them in its view: at their bounds (``MAX_CASE_REQUESTS`` requests, each listing
    ``MAX_CURRENCIES`` currencies and ``MAX_HELD`` held assets, every figure at its widest)
    they take at most 1.5 MiB of the 2 MiB payload limit (old bounds, 64 currencies and 20
    held assets: about 29 KB a summary, 11.6 MB for 400; the carry could never be handed over
    and the case's workflow task failed for ever)."""
    summaries = {s.key: s for s in (_widest_summary(i) for i in range(MAX_CASE_REQUESTS))}
    one = _encoded(next(iter(summaries.values())))
    carry = CaseCarry(requests=summaries)
    size = _encoded(carry)
    print(f"one summary at its bounds: {one} bytes; {len(summaries)} in a carry: {size} bytes")
    assert size <= SUMMARIES_BUDGET < PAYLOAD_LIMIT


def test_a_summarys_figures_have_at_most_max_digits() -> None:
    """A report is a signal anyone able to reach the case could send: a figure of ten
    thousand digits below ``MAX_SUMMED`` (old code: taken) would blow the carry up; a summary
    carries figures of at most 28 digits, the precision of the sums a request makes."""
    long = Decimal("1." + "1" * 100)
    with pytest.raises(ValidationError, match="digits"):
        RequestSummary(
            reference="ICC-01/22-REQ-0001",
            requested_state="NLD",
            status=RequestStatus.IN_EXECUTION,
            secured={"EUR": Secured(amount=long, assets=1)},
        )


def test_a_case_release_record_keeps_each_requests_reason_short() -> None:
    """The release record holds, per request, its reason for refusing the release and the
    close that follows; the request keeps the whole reason in its own history. With 400
    requests each refusing both at the longest reason an activity returns (2,000 characters),
    the record stays about 0.3 MB (old code: 1.66 MB of the case's 2 MiB carry)."""
    summaries = [_widest_summary(i) for i in range(MAX_CASE_REQUESTS)]
    acquittal = judgment("acquittal")
    record = CaseReleaseRecord(
        order=release_act(acquittal),
        ground="acquittal",
        requests={s.key: RequestRelease() for s in summaries},
    )
    for s in summaries:
        refused = DeliveryResult(outcome="refused", reason="r" * 2000)
        record = with_answer(record, s.key, "release_for_case", refused)
        record = with_answer(record, s.key, "close", refused)
    size = _encoded(CaseCarry(requests={}, release=record))
    print(f"release record, 400 requests refusing at the longest reason: {size} bytes")
    assert size < 320_000
    assert all(len(r.reason or "") == MAX_REASON_KEPT for r in record.requests.values())
