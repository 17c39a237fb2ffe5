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
    MAX_COURT_ACTIONS,
    MAX_CURRENCIES,
    MAX_HELD,
    MAX_JUDGMENTS,
    CaseCarry,
    CaseReleaseRecord,
    Delivery,
    DeliveryResult,
    RequestRelease,
    RequestSummary,
    Secured,
)
from schemas.common import MAX_TEXT
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
from workflows.case_deliveries import Deliveries, compact, rebuild, relay_copy
from workflows.case_release import MAX_REASON_KEPT, close_of, with_answer
from workflows.ledger import ledger_from_request
from workflows.outcome import Refusal

PAYLOAD_LIMIT = 2 * 1024 * 1024
"""Temporal's default largest payload (blob size limit error): 2 MiB."""
SUMMARIES_BUDGET = 3 * 1024 * 1024 // 2
"""What the case's request summaries may take of its carry at their bounds (1.5 MiB: the rest
of the carry, its workflow ids, Court actions, judgments and release, keeps 0.5 MiB)."""


LODGED = "event-0001"


def contests(kind: str) -> Callable[[Any, int], None]:
    """Fill the account's record with ``n`` pending contests of ``kind`` (its cap's test)."""

    def fill(record: Any, n: int) -> None:
        record.ledger.entries[ACCOUNT].contests = [
            Contest(contest_id=f"k-{i}", kind=kind, lodged_by_event=LODGED) for i in range(n)
        ]

    return fill


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
        contests("third_party_claim"),
        lambda req: third_party_claim(req, ACCOUNT, claim_id="claim-new"),
    ),
    (
        "domestic_challenge",
        lb.MAX_CONTESTS,
        contests("domestic_challenge"),
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


def _release_at_bounds(keys: list[str]) -> tuple[list[c.Judgment], CaseReleaseRecord]:
    """The case's judgments and release at their bounds: ``MAX_JUDGMENTS`` judgments with the
    longest references, the Chamber's reasons at their longest, every request refusing the
    release and its close at the longest reason an activity returns."""
    judgments = [
        judgment("acquittal", judgment_reference=f"J{i:02d}".ljust(200, "J"))
        for i in range(MAX_JUDGMENTS)
    ]
    order = release_act(judgments[-1]).model_copy(update={"reasons": "r" * MAX_TEXT})
    record = CaseReleaseRecord(
        order=order, ground="acquittal", requests={k: RequestRelease() for k in keys}
    )
    refused = DeliveryResult(outcome="refused", reason="x" * 2000)
    for key in keys:
        record = with_answer(record, key, "release_for_case", refused)
        record = with_answer(record, key, "close", refused)
    return judgments, record


def _deliveries(
    keys: list[str], judgments: list[c.Judgment], record: CaseReleaseRecord
) -> list[Delivery]:
    """A judgment, the release and a close on their way to every request, as the case builds
    them (``Deliveries.send``: each under a fresh event id)."""
    order = record.order
    out: list[Delivery] = []
    for key in keys:
        release = c.CaseRelease(
            event_id=str(uuid4()),
            decided_by=order.decided_by,
            decided_at=order.decided_at,
            judgment=judgments[-1],
            reasons=order.reasons,
            original=order,  # the Chamber's signed release inside (decision_signatures)
        )
        out += [
            Delivery(
                key=key,
                update="record_judgment",
                action=relay_copy(judgments[-1], str(uuid4())),  # the judgment inside it
            ),
            Delivery(
                key=key,
                update="release_for_case",
                action=release,
                failures=MAX_COUNT,  # failed for ever: still carried, never dropped
                retry_at=datetime(2026, 6, 2, tzinfo=UTC),
            ),
            Delivery(
                key=key,
                update="close",
                action=close_of(record, str(uuid4()), datetime(2026, 6, 1, tzinfo=UTC)),
            ),
        ]
    return out


def test_a_carried_court_action_is_rebuilt_as_the_case_sent_it() -> None:
    """The case carries each Court action on its way by its event id (``CarriedDelivery``)
    and rebuilds it from its judgments and release on its next run: the same action, under
    the same event id (the request dedupes on it), for a judgment, a release and a close; one
    carried whole by an older run is kept as it was."""
    keys = ["ICC-01/22-REQ-0001/NLD"]
    judgments, record = _release_at_bounds(keys)
    for delivery in _deliveries(keys, judgments, record):
        assert rebuild(compact(delivery, judgments), judgments, record) == delivery
        assert rebuild(delivery, judgments, record) == delivery


def test_a_cases_whole_carry_at_its_bounds_fits_temporals_payload_limit() -> None:
    """Everything a case carries across continue-as-new, at its bounds: 400 request summaries
    at their widest, their workflow ids, the Court actions seen, the judgments, the release
    record (every request refusing at the longest reason) and a judgment, the release and a
    close on their way to every request: under Temporal's 2 MiB (old code: the actions on
    their way alone took 2.76 MB, each release repeating the Chamber's reasons). Left out:
    the proportionality outbox, carried only while its publication fails."""
    summaries = {s.key: s for s in (_widest_summary(i) for i in range(MAX_CASE_REQUESTS))}
    keys = list(summaries)
    judgments, record = _release_at_bounds(keys)
    deliveries = Deliveries([], judgments, record)
    deliveries.queued = {(d.key, d.update): d for d in _deliveries(keys, judgments, record)}
    carry = CaseCarry(
        requests=summaries,
        workflow_ids={k: f"request/{k}" for k in keys},
        seen_event_ids=tuple(str(uuid4()) for _ in range(MAX_COURT_ACTIONS + 2)),
        judgments=tuple(judgments),
        release=record,
        deliveries=deliveries.carried(),
    )
    size = _encoded(carry)
    parts = {
        name: _encoded(CaseCarry(requests={}, **{name: getattr(carry, name)}))
        for name in ("workflow_ids", "seen_event_ids", "judgments", "release", "deliveries")
    }
    print(f"a case's carry at its bounds: {size} bytes; besides the summaries: {parts}")
    assert size < PAYLOAD_LIMIT


def test_a_judgment_recorded_again_as_final_is_carried_as_final() -> None:
    """Rule 150: the same judgment recorded pending appeal, then final. The final record on
    its way to a request is carried and rebuilt as the final one, not the earlier record of
    the same reference."""
    keys = ["ICC-01/22-REQ-0001/NLD"]
    judgments, record = _release_at_bounds(keys)
    final = judgments[-1]
    pending = final.model_copy(update={"finality": "appeal_pending"})
    recorded = [*judgments[:-2], pending, final]  # within the case's bound of judgments
    sent = relay_copy(final, str(uuid4()))  # as the case sends it: the judgment inside
    delivery = Delivery(key=keys[0], update="record_judgment", action=sent)
    rebuilt = rebuild(compact(delivery, recorded), recorded, record)
    assert rebuilt is not None and rebuilt.action.finality == "final"
    assert rebuilt == delivery
