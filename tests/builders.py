"""The one set of test builders: a Court request, each State answer kind and each Court action
kind the tests and benchmarks send, each with a fresh event id (a random UUID, version 4).

Used by tests/ (workflow tests under the time-skipping server, the end-to-end tests on the real
stack), tests/faults and bench/. Requests and the example-based answers are built from the
committed example documents (schemas/examples), so every test exercises the shapes the States
are told to send. Answers are addressed to a ``CourtRequest`` or, where a test only has the
reference, to ``to(reference, state)``.

Time: the builders' answers carry a fixed ``sent_at`` (the example's, or ``SENT_AT``) and Court
actions ``DECIDED_AT``, which suits the time-skipping server. An answer that goes through the
intake on the real stack must be fresh (the gate refuses an answer whose ``sent_at`` is older than
its age limit, tracefreeze/intake/gate.py): pass ``sent_at=now()`` (and ``decided_at=now()``).
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from schemas.answers import (
    Acknowledgement,
    AnswerBase,
    AssetManagementUpdate,
    ChannelChangeNotice,
    Consultation,
    Denial,
    DomesticChallenge,
    ExecutionReport,
    FreezeLimitProposal,
    NoAssetsReport,
    Postponement,
    ThirdPartyClaim,
)
from schemas.court import CourtAction
from schemas.request import CourtRequest
from tracefreeze.policy import load_directory

EXAMPLES = Path(__file__).resolve().parents[1] / "schemas" / "examples"

ACCOUNT = "a-account-1"  # bank_account, EUR 412,500 estimated
APARTMENT = "a-apartment-1"  # real_estate, EUR 875,000 estimated
SHARES = "a-shares-1"  # company_shares, no estimated value
VESSEL = "a-vessel-1"  # vessel, identified by the State in execution-report.json

SENT_AT = "2026-04-01T10:00:00+02:00"
"""When the builders' State answers are sent (a freeze limit must end after it)."""
DECIDED_AT = "2026-10-06T10:00:00+02:00"
"""When the builders' Court actions are decided: after every example request was issued (a
request refuses an act dated before its issue, ``workflows/court_admission.py``), before the
time-skipping server's clock (nor after it: it refuses an act dated later than its clock)."""
CLAIMANT = "Henrietta Quillfeather-Osei"
"""The bona fide third party of the builders' claims: a name no event may carry."""

AnswerT = TypeVar("AnswerT", bound=AnswerBase)
ActionT = TypeVar("ActionT", bound=CourtAction)


@functools.cache
def _example_text(name: str) -> str:
    return (EXAMPLES / f"{name}.json").read_text(encoding="utf-8")


def example(name: str) -> dict[str, Any]:
    """A fresh copy of the committed example document ``schemas/examples/<name>.json``."""
    data: dict[str, Any] = json.loads(_example_text(name))
    return data


def new_event_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    """``sent_at`` or ``decided_at`` for what goes through the real stack."""
    return datetime.now(UTC)


def reference(tag: str = "REQ") -> str:
    """A request reference no other test or run uses; ``tag`` says which test made it."""
    return f"ICC-01/22-{tag}-{uuid.uuid4().hex[:10].upper()}"


def case_number() -> str:
    """A case number no other test uses, for tests that search by ``CaseNumber``."""
    a, b, c, d = uuid.uuid4().bytes[:4]
    return f"ICC-{a % 100:02d}/{b % 100:02d}-{c % 100:02d}/{d % 100:02d}"


# --- the request ---------------------------------------------------------------------------


def court_request(*, tag: str = "REQ", **overrides: Any) -> CourtRequest:
    """The example request (identify, trace, freeze in NLD; three known assets) under a fresh
    reference, with ``overrides`` (e.g. ``requested_state``, ``reference``)."""
    data = example("court-request")
    data["reference"] = reference(tag)
    data.update(overrides)
    if "requested_state" in overrides and "languages" not in overrides:
        # RS 87(2): in the language the party accepts, so the completeness check passes.
        # A party the shipped directory does not know (a test's own) keeps the example's.
        entry = load_directory().states.get(data["requested_state"])
        if entry is not None:
            data["languages"] = [entry.language]
    return CourtRequest.model_validate(data)


def enforcement_request(**changes: Any) -> CourtRequest:
    """The example enforcement request of the Presidency (RS 109, Rules 217-218: a forfeiture
    order of two assets) under a fresh reference; ``enforcement`` changes are merged into its
    order, the rest replace the request's fields."""
    data = example("enforcement-request")
    data["reference"] = reference("ENF")
    data["enforcement"].update(changes.pop("enforcement", {}))
    data.update(changes)
    return CourtRequest.model_validate(data)


# --- State answers -------------------------------------------------------------------------


class Addressee(Protocol):
    """What an answer is addressed to: a request's reference and its requested State."""

    @property
    def reference(self) -> str: ...

    @property
    def requested_state(self) -> str: ...


@dataclass(frozen=True)
class To:
    reference: str
    requested_state: str = "NLD"


def to(reference: str, state: str = "NLD") -> To:
    """The address of a request the test knows only by its reference."""
    return To(reference, state)


def _answer(name: str, request: Addressee, overrides: dict[str, Any]) -> dict[str, Any]:
    data = example(name)
    data["event_id"] = new_event_id()
    data["request_reference"] = request.reference
    data["state"] = request.requested_state
    data.update(overrides)
    return data


def acknowledgement(request: Addressee, **overrides: Any) -> Acknowledgement:
    return Acknowledgement.model_validate(_answer("acknowledgement", request, overrides))


def example_results() -> list[dict[str, Any]]:
    """The three results of execution-report.json: account and apartment frozen, vessel new."""
    results: list[dict[str, Any]] = example("execution-report")["results"]
    return results


def money(amount: str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def result(asset_id: str, *measures: str, **fields: Any) -> dict[str, Any]:
    """One asset result; ``value=("123.00", "EUR")`` is accepted as a shorthand."""
    value = fields.pop("value", None)
    if isinstance(value, tuple):
        value = money(str(value[0]), value[1])
    return {"asset_id": asset_id, "measures_executed": list(measures), "value": value, **fields}


def frozen_at(amounts: dict[str, Any], *measures: str) -> list[dict[str, Any]]:
    """One result per asset: frozen at its EUR amount by the prosecution service, with a
    registry reference of its own (``measures``: identify and freeze unless given)."""
    return [
        result(
            asset_id,
            *(measures or ("identify", "freeze")),
            value=(amount, "EUR"),
            registry_reference=f"REG-{asset_id}",
            executing_authority="Public Prosecution Service",
        )
        for asset_id, amount in amounts.items()
    ]


def execution_report(
    request: Addressee,
    results: list[dict[str, Any]] | None = None,
    *,
    final: bool = False,
    **overrides: Any,
) -> ExecutionReport:
    data = _answer("execution-report", request, overrides)
    data["final"] = final
    data["results"] = example_results() if results is None else results
    return ExecutionReport.model_validate(data)


def freeze_account(request: Addressee, *, final: bool = False, **fields: Any) -> ExecutionReport:
    """An RS 99 report: the account identified and frozen at EUR 398,214.37."""
    return execution_report(
        request,
        [result(ACCOUNT, "identify", "freeze", value=("398214.37", "EUR"))],
        final=final,
        **fields,
    )


def no_assets(request: Addressee, **overrides: Any) -> NoAssetsReport:
    return NoAssetsReport.model_validate(_answer("no-assets", request, overrides))


def vessel_asset(**overrides: Any) -> dict[str, Any]:
    """The vessel description the State gives in execution-report.json."""
    asset = dict(next(r for r in example_results() if r["asset_id"] == VESSEL)["asset"])
    asset.update(overrides)
    return asset


def state_answer(cls: type[AnswerT], request: Addressee, **fields: Any) -> AnswerT:
    """A State answer of type ``cls`` to ``request``, from its State, with a fresh event id."""
    data = {
        "event_id": new_event_id(),
        "request_reference": request.reference,
        "state": request.requested_state,
        "sent_at": SENT_AT,
        **fields,
    }
    return cls.model_validate(data)


TYPICAL: dict[type[AnswerBase], dict[str, Any]] = {
    Consultation: {"details": "The land register entry cannot be matched to the owner given."},
    Postponement: {"reasons": "Execution now would interfere with a domestic investigation."},
    Denial: {
        "reasons": "Disclosure of the account records would prejudice national security (RS 93(4))."
    },
    ThirdPartyClaim: {
        "claimant": CLAIMANT,
        "basis": "Bought the apartment in good faith before the warrant issued.",
    },
    DomesticChallenge: {"forum": "District Court of Amsterdam"},
    AssetManagementUpdate: {"asset_manager": "Asset Management Office, Ministry of Justice"},
    FreezeLimitProposal: {
        "reasons": "National law limits a freeze without a conviction to one year."
    },
}
"""What the builders' State writes where a test does not say (a test's fields win)."""


def _typical(cls: type[AnswerT], request: Addressee, fields: dict[str, Any]) -> AnswerT:
    return state_answer(cls, request, **{**TYPICAL[cls], **fields})


def consultation(request: Addressee, ground: str = "RS 97(a)", **fields: Any) -> Consultation:
    return _typical(Consultation, request, {"ground": ground, **fields})


CHALLENGE = "ICC-01/22-AC-1"
"""The admissibility challenge (RS 19) an RS 95 postponement names by default."""


def postponement(
    request: Addressee,
    ground: str = "RS 94",
    proposed_until: str | None = "2026-09-30T00:00:00+02:00",
    **fields: Any,
) -> Postponement:
    """Under RS 94 with a proposed end; under RS 95 with none unless ``proposed_until=None``
    is given explicitly (then the field is sent as null), naming ``CHALLENGE`` unless
    another ``challenge_reference`` is given."""
    if ground == "RS 94" or proposed_until is None:
        fields["proposed_until"] = proposed_until
    if ground == "RS 95":
        fields.setdefault("challenge_reference", CHALLENGE)
    return _typical(Postponement, request, {"ground": ground, **fields})


def denial(request: Addressee, **fields: Any) -> Denial:
    return _typical(Denial, request, fields)


def third_party_claim(
    request: Addressee, asset_id: str, claim_id: str = "claim-1", **fields: Any
) -> ThirdPartyClaim:
    return _typical(
        ThirdPartyClaim, request, {"asset_id": asset_id, "claim_id": claim_id, **fields}
    )


def domestic_challenge(
    request: Addressee,
    asset_id: str,
    challenge_id: str = "challenge-1",
    outcome: str = "lodged",
    **fields: Any,
) -> DomesticChallenge:
    ids = {"asset_id": asset_id, "challenge_id": challenge_id, "outcome": outcome}
    return _typical(DomesticChallenge, request, {**ids, **fields})


def asset_management(
    request: Addressee,
    asset_id: str,
    amount: str,
    currency: str = "EUR",
    kind: str = "valuation",
    **fields: Any,
) -> AssetManagementUpdate:
    """A valuation (or ``kind``) of ``asset_id`` at ``amount`` ``currency``."""
    value = money(amount, currency)
    return _typical(
        AssetManagementUpdate,
        request,
        {**fields, "asset_id": asset_id, "kind": kind, "value": value},
    )


def freeze_limit(
    request: Addressee,
    *asset_ids: str,
    proposed_until: str = "2026-10-01T00:00:00+02:00",
    **fields: Any,
) -> FreezeLimitProposal:
    """National law would end the freeze of ``asset_ids`` at ``proposed_until``."""
    until = {"asset_ids": list(asset_ids), "proposed_until": proposed_until}
    return _typical(FreezeLimitProposal, request, {**until, **fields})


def channel_change(
    request: Addressee, channel: str = "central_authority", language: str = "fr", **fields: Any
) -> ChannelChangeNotice:
    """The State changes its channel or language for future requests (RS 87(1)(a), 87(2))."""
    return state_answer(ChannelChangeNotice, request, channel=channel, language=language, **fields)


# --- Court actions -------------------------------------------------------------------------

DECIDED_BY: dict[str, str] = {
    "Release": "pre_trial_chamber",
    "Allocation": "presidency",
    "EnforcementRequestMade": "Presidency",
    "ForfeitureOrder": "Trial Chamber IX",
    "Judgment": "trial_chamber",
    "CaseRelease": "trial_chamber",
    "UrgentConfirmation": "Registry",
    "Rule99Notification": "Registry",
    "TransferToCourt": "Registry",
    "ExchangeRate": "Registry",
}
"""The organ that takes each action where it is not the Pre-Trial Chamber (the catalog's table
of powers): a release is a Chamber's or the Presidency's decision, an allocation and an
enforcement request the Presidency's (RS 109, Rules 217-221), forfeiture the Trial Chamber's
(RS 77(2)(b)), transmission and the request's administration the Registry's (RS 43(1); Rule
176(2))."""


PRESIDENCY_DECISION = "ICC-01/22-PRES-0001"
DECISION_RECORDED: dict[str, dict[str, str]] = {
    "Allocation": {"decision_reference": PRESIDENCY_DECISION}
}
"""Actions that record the deciding organ's decision by reference: an allocation names the
Presidency's decision (Rule 221(1))."""


def court_action(cls: type[ActionT], **fields: Any) -> ActionT:
    """A Court action of type ``cls`` with a fresh event id, decided by a Chamber (by the
    Presidency for an allocation)."""
    data = {
        "event_id": new_event_id(),
        "decided_by": DECIDED_BY.get(cls.__name__, "Pre-Trial Chamber II"),
        "decided_at": DECIDED_AT,
        **DECISION_RECORDED.get(cls.__name__, {}),
        **fields,
    }
    return cls.model_validate(data)


def reasons(**fields: Any) -> dict[str, Any]:
    """``fields`` with a default ``reasons`` for the actions that require one."""
    return {"reasons": "As set out in the decision of the Chamber.", **fields}
