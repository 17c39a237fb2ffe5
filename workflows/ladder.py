"""The escalation ladder, from mild to grave (docs/legal-process.md, 'Deadlines and escalation').

Steps 1-2 are taken by the system when their time comes; steps 3-5 are proposed by the
system and taken only when a person decides (an update): the system proposes, a person
decides. Each step waits for its own interval after the one before.

Where the ladder ends depends on what the requested party is to the Court (its kind in force
on the transmission date, recorded in the request's policy at start):

- a State Party (Part 9): a finding of non-compliance and referral (RS 87(7)), then the
  Assembly's non-cooperation procedures (ICC-ASP/10/Res.5);
- a non-State Party with an ad hoc arrangement or agreement (RS 87(5)(a)): the Court may
  inform the Assembly or, where the Council referred the situation, the Council
  (RS 87(5)(b)) — never an RS 87(7) finding;
- a non-State Party without one (RS 87(5)(a): the request invites one): reminders and a
  report to the Chamber for information, nothing more: there is no compulsion, and the
  Chamber cannot order it to report;
- a State bound by a Security Council resolution (RS 13(b)) and by nothing else: the Court
  informs the Council (RS 13(b) and the resolution; neither RS 87(5)(b), which needs an
  arrangement, nor RS 87(7), which concerns States Parties); a party with an arrangement keeps
  its RS 87(5)(b) end even where a resolution also binds it;
- an international organisation (RS 87(6)): reminders, a consultation on the cooperation
  agreed with it, a report to the Chamber for information; no order, no finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from schemas.policy import LadderIntervals, PartyKind, ResolvedPolicy


@dataclass(frozen=True)
class Step:
    level: int
    name: str
    needs_decision: bool
    addressee: str
    basis: str
    after: str | None = None
    """The ``LadderIntervals`` field the step waits after the one before (None: the deadline)."""
    refers: bool = False
    """The step refers the matter to (or informs) the Assembly or the Security Council."""
    referral: str = ""
    """What the step does to its addressee, for the timeline: ``{to}`` is the body, e.g.
    "referred to {to} (RS 87(7))" or "{to} informed (RS 87(5)(b))"."""


REMINDER = Step(1, "reminder", False, "focal point", "seed para 9: reminder to the focal point")
FOLLOW_UP = Step(
    2, "registry_follow_up", False, "central authority", "note verbale, RS 87(1)(a)",
    "registry_follow_up_after",
)  # fmt: skip
CHAMBER_REPORT = Step(
    3, "chamber_report", True, "Chamber", "report to the Chamber, which may order a report",
    "chamber_report_after",
)  # fmt: skip
CHAMBER_INFORMED_NO_ARRANGEMENT = Step(
    3, "chamber_report", True, "Chamber",
    "RS 87(5)(a): report to the Chamber for information; no order, no finding (no arrangement "
    "binds the State)", "chamber_report_after",
)  # fmt: skip
"""A non-State Party without an arrangement: the Chamber cannot order it to report; the step
keeps its name (``chamber_report``), only its basis differs."""
CHAMBER_INFORMED_ORGANISATION = Step(
    3, "chamber_report", True, "Chamber",
    "RS 87(6): report to the Chamber for information; no order, no finding (the organisation "
    "cooperates as agreed, under its competence or mandate)", "chamber_report_after",
)  # fmt: skip
"""An international organisation: the Chamber cannot order it to report either."""
FINDING = Step(
    4, "non_compliance_finding", True, "Chamber", "RS 87(7): finding and referral",
    "chamber_order_period", refers=True, referral="referred to {to} (RS 87(7))",
)  # fmt: skip
ASSEMBLY = (
    Step(5, "assembly_informal_response", True, "Assembly President", "ICC-ASP/10/Res.5",
         "assembly_step_after"),
    Step(5, "emergency_bureau_meeting", True, "Bureau", "ICC-ASP/10/Res.5, formal response",
         "assembly_step_after"),
    Step(5, "president_letter", True, "Assembly President", "letter with a deadline",
         "assembly_step_after"),
    Step(5, "bureau_meeting_with_state", True, "Bureau", "ICC-ASP/10/Res.5, formal response",
         "assembly_letter_period"),
    Step(5, "report_to_plenary", True, "Assembly", "ICC-ASP/10/Res.5, formal response",
         "assembly_step_after"),
)  # fmt: skip
INFORM_87_5_B = Step(
    4, "inform_assembly_or_council", True, "Chamber",
    "RS 87(5)(b): the Court may inform the Assembly or, where the Security Council referred "
    "the matter, the Council", "chamber_order_period", refers=True,
    referral="{to} informed (RS 87(5)(b))",
)  # fmt: skip
INFORM_COUNCIL = Step(
    4, "inform_security_council", True, "Chamber",
    "RS 13(b) and the Council's resolution: the obligation comes from the resolution; the "
    "Court informs the Council", "chamber_order_period", refers=True,
    referral="{to} informed (RS 13(b))",
)  # fmt: skip
ORGANISATION_CONSULTATION = Step(
    2, "organisation_consultation", False, "central authority",
    "RS 87(6): consultation with the organisation on the cooperation agreed with it",
    "registry_follow_up_after",
)  # fmt: skip

PARTY_OFFICES = frozenset({"focal point", "central authority"})
"""Addressees that are the requested party's own offices (seed para 9, RS 87(1)(a))."""

LADDER: tuple[Step, ...] = (REMINDER, FOLLOW_UP, CHAMBER_REPORT, FINDING, *ASSEMBLY)
"""A State Party's ladder (Part 9): the whole way to the Assembly."""

LADDERS: dict[PartyKind, tuple[Step, ...]] = {
    PartyKind.STATE_PARTY: LADDER,
    PartyKind.NON_STATE_PARTY_ARRANGEMENT: (REMINDER, FOLLOW_UP, CHAMBER_REPORT, INFORM_87_5_B),
    PartyKind.NON_STATE_PARTY: (REMINDER, FOLLOW_UP, CHAMBER_INFORMED_NO_ARRANGEMENT),
    PartyKind.SECURITY_COUNCIL_BOUND: (REMINDER, FOLLOW_UP, CHAMBER_REPORT, INFORM_COUNCIL),
    PartyKind.INTERNATIONAL_ORGANISATION: (
        REMINDER,
        FOLLOW_UP,
        ORGANISATION_CONSULTATION,
        CHAMBER_INFORMED_ORGANISATION,
    ),
}


PARTY_STEPS = frozenset(
    step.name for steps in LADDERS.values() for step in steps if step.addressee in PARTY_OFFICES
)
"""Steps addressed to the party itself (a reminder, a note verbale, an organisation's RS 87(6)
consultation); the others are the Court's or the Assembly's and reach the party through them."""


def ladder_of(policy: ResolvedPolicy) -> tuple[Step, ...]:
    """The ladder of the request's party kind, as recorded at start."""
    return LADDERS[policy.party_kind]


def step_named(policy: ResolvedPolicy, name: str | None) -> Step | None:
    return next((s for s in ladder_of(policy) if s.name == name), None)


def wait_before(step: Step, ladder: LadderIntervals) -> timedelta:
    """How long after the step before ``step`` falls due (the first follows the deadline)."""
    return getattr(ladder, step.after) if step.after else timedelta(0)


def level_of(policy: ResolvedPolicy, rung: int) -> int:
    """The level (0-5) of a request that has reached ``rung`` steps of its ladder."""
    return ladder_of(policy)[rung - 1].level if rung else 0


BODIES = {"assembly": "the Assembly", "security_council": "the Security Council"}


def referral_wording(step: Step, to: str) -> str:
    """The timeline's words for a decided step's referral: an RS 87(7) finding refers the
    matter; RS 87(5)(b) and a Council-bound State's step only inform."""
    return (step.referral or "{to} informed").format(to=BODIES.get(to, to.replace("_", " ")))


def referral_targets(policy: ResolvedPolicy, step: Step) -> tuple[str, ...]:
    """Where the step may refer the matter, from the situation register: the Security
    Council only where it referred the situation (RS 13(b), 87(5)(b), 87(7)); for a State
    bound by the Council's resolution, the Council alone."""
    if not step.refers:
        return ()
    council = policy.situation is not None and policy.situation.council_referred
    if policy.party_kind is PartyKind.SECURITY_COUNCIL_BOUND:
        return ("security_council",) if council else ()
    return ("assembly", "security_council") if council else ("assembly",)
