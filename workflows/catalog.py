"""Every State answer and every Court action, declared once.

One ``Kind`` per answer or action: its contract (``schemas/answers.py``, ``schemas/court.py``),
the party whose act it is, the workflow update that takes it, the statuses it may happen in
and lead to, the rule that checks and applies it, and the deadline stages it meets. The rest
is derived from ``CATALOG`` or checked against it when this module is imported: the state
machine and its diagram (``workflows/state_machine.py``, ``docs/state-machine.md``), the
updates the request workflow registers (``workflows/request.py``), the intake's routing
(``tracefreeze/intake/routing.py``), the Court's client and CLI (``tracefreeze/client.py``,
``tracefreeze/cli/court.py``), the discriminated unions the JSON Schemas are made from, and
the State-answer messages of the AsyncAPI document (``schemas/answer_messages.py``). Adding a
kind is one entry here, its rule functions and its tests (``docs/adding-an-answer.md``).

**One named update per kind, not a generic ``take_answer``/``act``.** The request workflow
declares each entry's update by its name on its class (``workflows/declared_updates.py``), typed
by the entry's contract and with a validator that applies the entry's rule. Named updates were
chosen because the name is what a person reads: the Temporal UI and every history show
``report_execution`` or ``decide_postponement``, not ``act``; the names stay those the bridge,
the UI and the recorded histories already use; and the payload is decoded as exactly the
contract its update names, so an answer sent under another kind's update is refused by
decoding before any rule runs. A generic update would gain nothing here: the catalog already
keeps the names in one place and the client sends by type (``update_of``). The one generic
update is ``take_answers``, a batch of a State's answers that the intake found queued together.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from schemas import answers as a
from schemas import court as c
from schemas.court import Stage
from schemas.ledger import RequestStatus as S
from schemas.organs import CHAMBERS, FORFEITING, MEASURING, REQUESTING
from schemas.organs import Organ as O
from schemas.request import CourtRequest
from workflows import allocation_rules as al
from workflows import asset_rules as ar
from workflows import clock_rules as k
from workflows import denial_rules as d
from workflows import enforcement_rules as e
from workflows import judgment_rules as j
from workflows import postponements as pp
from workflows import request_rules as r
from workflows import rule99 as r99
from workflows import valuation_rules as v
from workflows.bounds import check_bounds
from workflows.carry import RequestCarry
from workflows.outcome import Outcome, Rule, no_check
from workflows.powers import Power, check_power, check_table
from workflows.powers import table as power_table

Party = Literal["state", "court"]

OPEN = frozenset(S) - {S.CLOSED}
EXECUTING = frozenset({S.ACKNOWLEDGED, S.IN_EXECUTION})
ENDED = frozenset({S.EXECUTED, S.PARTIALLY_EXECUTED, S.NO_ASSETS, S.DENIED, S.WITHDRAWN})
SETTLES_STAGES = ENDED - {S.DENIED}
"""Outcomes that end every stage clock. A denial does not: RS 93(4) reaches only documents
and evidence (art. 72), and the road to a Chamber report and RS 87(7) stays open."""
RESUMABLE = frozenset({S.TRANSMITTED, S.ACKNOWLEDGED, S.IN_EXECUTION})
AFTER_RECEIPT = OPEN - {S.TRANSMITTED}
SAME = frozenset[S]()
"""Leads to no other status: an asset-level answer or action, or a record of a decision."""

RECEIPT = frozenset({Stage.ACKNOWLEDGEMENT})
"""Any State answer about the request shows it was received."""
FIRST_REPORT = frozenset({Stage.ACKNOWLEDGEMENT, Stage.FIRST_REPORT})
"""An execution report, a no-assets report or a denial is the State's first report."""


@dataclass(frozen=True)
class Kind:
    """One kind of State answer or Court action."""

    name: str
    """``answer_type`` or ``action_type``: the kind's name in events, rules and the CLI."""
    party: Party
    contract: type[BaseModel]
    update: str
    """The request workflow's update that takes it (shown in the UI and every history)."""
    allowed: frozenset[S]
    """The statuses it may happen in."""
    leads_to: frozenset[S]
    """The statuses it may lead to (empty: the request's status stays as it is)."""
    rule: Rule
    """Its own conditions (no writes) and what it changes (``workflows/*_rules.py``)."""
    meets: frozenset[Stage] = frozenset()
    """The deadline stages it meets whenever it is taken (a final outcome meets them all)."""

    @property
    def checked(self) -> Rule:
        """The rule, checking first that the organ that decided a Court action may take it
        (``POWERS``), then that every value keeps the request's bounds (bounds.py)."""
        own, name, court = self.rule.check, self.name, self.party == "court"

        def check(record: RequestCarry, request: CourtRequest, m: Any) -> None:
            if court:
                check_power(POWERS, name, m, request)
            check_bounds(record, request, m)
            own(record, request, m)

        return Rule(check, self.rule.apply)


def _state(
    name: str,
    contract: type[a.AnswerBase],
    update: str,
    allowed: frozenset[S],
    leads_to: frozenset[S],
    check: Callable[..., None],
    apply: Callable[..., Outcome],
    meets: frozenset[Stage] = RECEIPT,
) -> Kind:
    return Kind(name, "state", contract, update, allowed, leads_to, Rule(check, apply), meets)


def _court(
    name: str,
    contract: type[c.CourtAction],
    update: str,
    allowed: frozenset[S],
    leads_to: frozenset[S],
    check: Callable[..., None],
    apply: Callable[..., Outcome],
) -> Kind:
    return Kind(name, "court", contract, update, allowed, leads_to, Rule(check, apply))


REPORTABLE = EXECUTING | {S.TRANSMITTED, S.POSTPONED}
"""RS 99 reports: a report implies receipt, so it may come without an acknowledgement; a
report during a postponement ends it (the State has resumed)."""
SUPPLEMENTABLE = REPORTABLE | r.EXECUTION_ENDED
"""An execution report may also come after execution ended: a supplementary report of assets
newly found on a new lead (RS 93(1)(k), 96, 99), on the same request (its rule refuses one
that touches an asset already in the ledger, and any once every asset is released). It leaves
the request ended: never back to in execution, so the Court can still close it."""
REPORTED = frozenset({S.IN_EXECUTION, S.EXECUTED, S.PARTIALLY_EXECUTED})
"""Where a report on the execution or the enforcement of a request leads."""

# fmt: off
CATALOG: tuple[Kind, ...] = (
    # The State's answers (docs/legal-process.md, 'What a State may answer').
    _state("acknowledgement", a.Acknowledgement, "acknowledge",  # practice
           frozenset({S.TRANSMITTED}), frozenset({S.ACKNOWLEDGED}),
           no_check, r.apply_acknowledgement),
    _state("consultation", a.Consultation, "consult",  # RS 97, 93(3), 96(3), 72(5)
           RESUMABLE, frozenset({S.IN_CONSULTATION}),
           no_check, d.apply_consultation),
    _state("postponement", a.Postponement, "postpone",  # RS 94, 95
           EXECUTING, frozenset({S.POSTPONEMENT_PROPOSED, S.POSTPONED}),
           pp.check_postponement, r.apply_postponement),
    _state("denial", a.Denial, "deny",  # RS 93(4), 93(6), art. 72(6); in part: status stays
           RESUMABLE | {S.IN_CONSULTATION}, frozenset({S.DENIED}),
           d.check_denial, d.apply_denial, FIRST_REPORT),
    _state("execution_report", a.ExecutionReport, "report_execution",  # RS 99
           SUPPLEMENTABLE, REPORTED,
           r.check_execution, r.apply_execution, FIRST_REPORT),
    _state("enforcement_report", a.EnforcementReport, "report_enforcement",  # RS 109
           SUPPLEMENTABLE - {S.POSTPONED}, REPORTED,
           e.check_report, e.apply_report, FIRST_REPORT),
    _state("no_assets", a.NoAssetsReport, "report_no_assets",  # RS 99
           REPORTABLE, frozenset({S.NO_ASSETS}),
           r.check_no_assets, r.apply_no_assets, FIRST_REPORT),
    _state("third_party_claim", a.ThirdPartyClaim, "claim_as_third_party",  # RS 93(1)(k)
           AFTER_RECEIPT, SAME, ar.check_contest, ar.apply_contest),
    _state("domestic_challenge", a.DomesticChallenge, "challenge_domestically",
           AFTER_RECEIPT, SAME, ar.check_contest, ar.apply_contest),
    _state("asset_management", a.AssetManagementUpdate, "update_asset_management",
           AFTER_RECEIPT, SAME, ar.check_management, ar.apply_management),
    _state("freeze_limit_proposal", a.FreezeLimitProposal, "propose_freeze_limit",  # RS 97
           AFTER_RECEIPT, SAME, ar.check_freeze_limit, k.apply_freeze_limit_clock),
    # Rule 180: a change for future requests, which says nothing of this request's receipt.
    _state("channel_change", a.ChannelChangeNotice, "notify_channel_change",
           OPEN, SAME, no_check, k.apply_channel_change, meets=frozenset()),
    # The Court's actions (RS 93-109, Rules 99 and 221; RS 87(7) and ICC-ASP/10/Res.5).
    _court("consultation_response", c.ConsultationResponse, "respond_to_consultation",
           frozenset({S.IN_CONSULTATION}), RESUMABLE | d.FURTHER_CONSULTATION_FROM,
           d.check_consultation_response, d.apply_consultation_response),
    _court("postponement_decision", c.PostponementDecision, "decide_postponement",  # RS 94
           frozenset({S.POSTPONEMENT_PROPOSED}), RESUMABLE | {S.POSTPONED},
           r.check_postponement_decision, r.apply_postponement_decision),
    _court("resume_execution", c.ResumeExecution, "resume_execution",
           frozenset({S.POSTPONED}), RESUMABLE, no_check, r.apply_resume),
    _court("urgent_confirmation", c.UrgentConfirmation, "confirm_urgent_request",  # RS 96(1)
           OPEN, SAME, r.check_urgent_confirmation, r.apply_urgent_confirmation),
    _court("rule99_notification", c.Rule99Notification, "notify_rule99",
           OPEN, SAME, r99.check_notification, r99.apply_notification),
    _court("rule99_decision", c.Rule99Decision, "decide_rule99",
           OPEN, SAME, r99.check_decision, r99.apply_decision),
    _court("withdrawal", c.Withdrawal, "withdraw",
           OPEN - {S.WITHDRAWN}, frozenset({S.WITHDRAWN}), no_check, r.apply_withdrawal),
    _court("forfeiture_order", c.ForfeitureOrder, "order_forfeiture",  # RS 77(2)(b)
           AFTER_RECEIPT, SAME, j.check_forfeiture, ar.apply_forfeiture),
    _court("third_party_claim_decision", c.ThirdPartyClaimDecision, "decide_third_party_claim",
           AFTER_RECEIPT, SAME, ar.check_claim_decision, ar.apply_claim_decision),
    _court("transfer_to_court", c.TransferToCourt, "transfer_to_court",  # RS 109(3)
           AFTER_RECEIPT, SAME, ar.check_transfer, ar.apply_transfer),
    _court("allocation", c.Allocation, "allocate",  # Rule 221
           AFTER_RECEIPT, SAME, al.check_allocation, al.apply_allocation),
    _court("release", c.Release, "release",
           AFTER_RECEIPT, SAME, ar.check_release, ar.apply_release),
    _court("close", c.CloseRequest, "close",
           ENDED, frozenset({S.CLOSED}), r.check_close, r.apply_close),
    _court("escalation_decision", c.EscalationDecision, "decide_escalation",  # RS 87(7)
           OPEN, SAME, k.check_decision, k.apply_decision),
    _court("deadline_extension", c.DeadlineExtension, "extend_deadline",
           OPEN, SAME, k.check_extension, k.apply_extension),
    _court("freeze_limit_response", c.FreezeLimitResponse, "respond_to_freeze_limit",  # RS 97
           AFTER_RECEIPT, SAME, k.check_freeze_limit_response, k.apply_freeze_limit_response),
    # RS 95: recorded on a postponed request; the ruling on the challenge it waits for ends it.
    _court("admissibility_ruling", c.AdmissibilityRuling, "record_admissibility_ruling",
           frozenset({S.POSTPONED}), RESUMABLE, pp.check_ruling, pp.apply_ruling),
    _court("national_security_determination", c.NationalSecurityDetermination,  # art. 72(7)
           "determine_national_security", OPEN - {S.WITHDRAWN}, frozenset({S.IN_CONSULTATION}),
           d.check_determination, d.apply_determination),
    # A dated rate recorded: converted totals shown beside the unconverted ones.
    _court("exchange_rate", c.ExchangeRate, "record_exchange_rate",
           OPEN, SAME, v.check_exchange_rate, v.apply_exchange_rate),
    # The case's judgment and its case-level release (RS 74, 77(2)(b), 81(3)(c), 83(2); RS 61).
    _court("judgment", c.Judgment, "record_judgment",
           OPEN, SAME, j.check_judgment, j.apply_judgment),
    _court("case_release", c.CaseRelease, "release_for_case",
           OPEN, frozenset({S.WITHDRAWN}), j.check_case_release, j.apply_case_release),
    # RS 109, Rule 217: the Presidency's request enforces assets this request holds.
    _court("enforcement_request_made", c.EnforcementRequestMade, "note_enforcement_request",
           OPEN, SAME, e.check_notice, e.apply_notice),
)
# fmt: on

REGISTRY, PRESIDENCY, ASSEMBLY, APPEALS = (
    frozenset({O.REGISTRY}), frozenset({O.PRESIDENCY}), frozenset({O.ASSEMBLY}),
    frozenset({O.APPEALS_CHAMBER}),
)  # fmt: skip
_ASSEMBLY_BASIS = "RS 112(2)(f); ICC-ASP/10/Res.5: the Assembly's own non-cooperation procedure"

# fmt: off
POWER_ROWS: tuple[Power, ...] = (
    # The organ that made the request decides on it (its issuing_organ, ``requester``): the
    # Pre-Trial Chamber (RS 57(3)(e)), or the Trial Chamber after confirmation (RS 61(11),
    # 64(6)), the Trial Chamber, the Presidency its enforcement requests (RS 109; Rule 217),
    # the Prosecutor its own (RS 54(3)(c), 93(1)(k)).
    Power("consultation_response", REQUESTING | {O.PROSECUTOR},
          "RS 97, 93(3), 72(5): the organ that made the request consults with the requested "
          "State", requester=True),
    Power("postponement_decision", REQUESTING | {O.PROSECUTOR},
          "RS 94(1): the period of a postponement is agreed with the organ that made the "
          "request; RS 95: execution postponed pending a ruling on an admissibility challenge",
          requester=True),
    Power("resume_execution", REQUESTING | {O.PROSECUTOR},
          "RS 94(1): the postponed request is executed at the end of the period, or earlier as "
          "agreed with the organ that made it; RS 95: after the admissibility ruling",
          requester=True),
    Power("withdrawal", REQUESTING | {O.PROSECUTOR},
          "RS 57(3)(e), 61(11), 64(6); RS 109, Rule 217; RS 54(3)(c): the organ that made the "
          "request withdraws it", requester=True),
    # Transmission, follow-up and the request's administration: the Registry.
    Power("urgent_confirmation", REGISTRY,
          "RS 96(1), 87(1)(a); Rule 176(2): the Registrar transmits through the formal channel"),
    Power("rule99_notification", REGISTRY,
          "Rule 99(2)-(3); Rule 176(2): the Registrar notifies, as the Chamber determined"),
    Power("transfer_to_court", REGISTRY,
          "RS 109(2)-(3), 43(1): the Registry receives what a State transfers (its disposition "
          "is the Presidency's, Rule 221)"),
    Power("exchange_rate", REGISTRY,
          "RS 43(1): the non-judicial administration of the Court is the Registry's"),
    Power("close", REGISTRY | CHAMBERS,
          "RS 43(1): the Registry closes a request whose execution ended; a Chamber's release "
          "of the case closes its requests (RS 61, 74, 81(3)(c), 83(2))"),
    Power("deadline_extension", REGISTRY | MEASURING,
          "RS 43(1); Rule 176(2): the Registry administers the follow-up deadlines of the policy "
          "in force (no time limit a Chamber set: those only a Chamber varies, Regulation 35); "
          "the Chamber that ordered the measures may extend them too (RS 57(3)(e), 61(11))"),
    # Protective measures and what they hold: the Chambers.
    Power("rule99_decision", MEASURING, "Rule 99(3); RS 57(3)(e), 61(11), 64(6)"),
    Power("third_party_claim_decision", CHAMBERS,
          "RS 93(1)(k); Rules 99(3), 147: the Chamber hears a bona fide third party"),
    Power("freeze_limit_response", CHAMBERS,
          "RS 97, 57(3)(e), 61(11), 83(1): only a Chamber lifts a freeze"),
    Power("admissibility_ruling", CHAMBERS, "RS 19(6), 82(1)(a), 95"),
    Power("national_security_determination", CHAMBERS, "RS 72(7), 93(4)"),
    # A release by what holds the assets (``powers.release_holding``): a request's measures by
    # the organ that ordered them, a forfeiture order only by the Appeals Chamber setting it
    # aside. Nothing else releases: a decision of a Chamber or the Presidency, never a lapse.
    Power("release", MEASURING | APPEALS,
          "RS 57(3)(e); Rule 99(3): the Pre-Trial Chamber that ordered the measures, or the "
          "Trial Chamber once the charges are confirmed (RS 61(11), 64(6)); on appeal the "
          "Appeals Chamber, reversing or amending that decision (RS 82(1)(d); Rule 158(1))",
          "pre_trial_chamber_request"),
    Power("release", frozenset({O.TRIAL_CHAMBER}) | APPEALS,
          "RS 61(11), 64(6), 75(4); Rule 99(3): the Trial Chamber that ordered the measures; "
          "on appeal the Appeals Chamber (RS 82(1)(d), Rule 158(1); RS 82(4) under RS 75(4))",
          "trial_chamber_request"),
    Power("release", MEASURING | APPEALS,
          "RS 57(3)(a), 61(11): a Chamber's decision on the Prosecutor's request (RS 54(3)(c), "
          "93(1)(k)), or the Appeals Chamber's on appeal (RS 82(1)(d); Rule 158(1)); the OTP "
          "withdraws it whole", "prosecutor_request"),
    Power("release", PRESIDENCY, "RS 109; Rules 217-221: what the Presidency's enforcement "
          "request holds, after a final conviction (RS 81(4)); never a measure ordered before "
          "judgment", "presidency_request"),
    Power("release", APPEALS,
          "RS 81(2)(a), 83(2)-(3): on appeal the Appeals Chamber sets aside a forfeiture order "
          "(RS 77(2)(b)); revision by a reconvened Trial Chamber (RS 84(2)) is not modelled",
          "forfeiture_order"),
    Power("case_release", CHAMBERS, "RS 74, 81(3)(c), 83(2); RS 61 before trial"),
    # Judgment, forfeiture and enforcement (RS 74-77, 83, 109).
    Power("judgment", FORFEITING, "RS 74, 76, 83(2)", "conviction"),
    Power("judgment", FORFEITING, "RS 74, 81(3)(c), 83(2)", "acquittal"),
    Power("judgment", CHAMBERS, "RS 61(7)(b), 61(9) before trial; RS 74, 83(2)",
          "termination"),
    Power("forfeiture_order", FORFEITING,
          "RS 76, 77(2)(b), 83(2); Rules 147, 218: with the sentence, after a conviction"),
    Power("enforcement_request_made", PRESIDENCY, "RS 109; Rule 217"),
    Power("allocation", PRESIDENCY, "RS 109; Rules 217-221 (Rule 221(1))"),
    # The escalation ladder: steps 3-4 are a Chamber's, step 5 the Assembly's.
    Power("escalation_decision", CHAMBERS, "RS 87(7); Regulation 109", "chamber_report"),
    Power("escalation_decision", CHAMBERS, "RS 87(7); Regulation 109",
          "non_compliance_finding"),
    Power("escalation_decision", CHAMBERS, "RS 87(5)(b)", "inform_assembly_or_council"),
    Power("escalation_decision", CHAMBERS, "RS 13(b), 87(7)", "inform_security_council"),
    Power("escalation_decision", ASSEMBLY, _ASSEMBLY_BASIS, "assembly_informal_response"),
    Power("escalation_decision", ASSEMBLY, _ASSEMBLY_BASIS, "emergency_bureau_meeting"),
    Power("escalation_decision", ASSEMBLY, _ASSEMBLY_BASIS, "president_letter"),
    Power("escalation_decision", ASSEMBLY, _ASSEMBLY_BASIS, "bureau_meeting_with_state"),
    Power("escalation_decision", ASSEMBLY, _ASSEMBLY_BASIS, "report_to_plenary"),
)
# fmt: on
POWERS = power_table(POWER_ROWS)
"""The power to act: which organ may take which Court action (``workflows/powers.py``), checked
in every Court action's rule before anything else (``Kind.checked``); docs/powers.md is made
from it (``python -m workflows.powers_doc``)."""

KINDS: dict[str, Kind] = {kind.name: kind for kind in CATALOG}
"""Every kind by its name (``answer_type`` or ``action_type``)."""
BY_CONTRACT: dict[type[BaseModel], Kind] = {kind.contract: kind for kind in CATALOG}
BY_UPDATE: dict[str, Kind] = {kind.update: kind for kind in CATALOG}
STATE_ANSWERS = frozenset(kind.name for kind in CATALOG if kind.party == "state")
COURT_ACTIONS = frozenset(kind.name for kind in CATALOG if kind.party == "court")
RULES: dict[str, Rule] = {kind.name: kind.checked for kind in CATALOG}
"""Every rule by name, each checking the request's bounds before its own conditions (looked
up when an answer is taken, so a test may put a faulty rule in its place)."""

BATCH_UPDATE = "take_answers"
"""The one update that is no kind's own: several answers of a State, each taken by its kind."""


def update_of(message: BaseModel) -> str:
    """The name of the update that takes ``message``: send an answer or action by its type."""
    kind = BY_CONTRACT.get(type(message))
    if kind is None:
        raise TypeError(f"{type(message).__name__} is neither a State answer nor a Court action")
    return kind.update


def _discriminator(contract: type[BaseModel]) -> str:
    field = "answer_type" if issubclass(contract, a.AnswerBase) else "action_type"
    return str(contract.model_fields[field].default)


def _members(union: Any) -> set[type[BaseModel]]:
    """The models of an ``Annotated[A | B | ..., Field(discriminator=...)]`` union."""
    return set(typing.get_args(typing.get_args(union)[0]))


def _check() -> None:
    """The catalog is whole and consistent, or this module does not import."""
    names: list[object] = [kind.name for kind in CATALOG]
    updates: list[object] = [*(kind.update for kind in CATALOG), BATCH_UPDATE]
    contracts: list[object] = [kind.contract for kind in CATALOG]
    for label, values in (("name", names), ("update", updates), ("contract", contracts)):
        twice = {v for v in values if values.count(v) > 1}
        if twice:
            raise ValueError(f"catalog: the same {label} is declared twice: {twice}")
    for kind in CATALOG:
        if _discriminator(kind.contract) != kind.name:
            raise ValueError(f"catalog: {kind.contract.__name__} is not of kind {kind.name!r}")
        base = a.AnswerBase if kind.party == "state" else c.CourtAction
        if not issubclass(kind.contract, base):
            raise ValueError(f"catalog: {kind.name} is not a {kind.party} contract")
        if not kind.allowed:
            raise ValueError(f"catalog: {kind.name} may happen in no status")
    check_table(POWERS, (kind.name for kind in CATALOG if kind.party == "court"))
    parties: tuple[tuple[Any, Party], ...] = (
        (a.StateAnswer, "state"),
        (c.CourtActionMessage, "court"),
    )
    for union, party in parties:
        declared = {kind.contract for kind in CATALOG if kind.party == party}
        if _members(union) != declared:
            missing = {m.__name__ for m in _members(union) ^ declared}
            raise ValueError(f"catalog: {party} contracts and catalog differ: {missing}")


_check()
