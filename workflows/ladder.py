"""The escalation ladder, from mild to grave (docs/legal-process.md, 'Deadlines and escalation').

Steps 1-2 are taken by the system when their time comes; steps 3-5 are proposed by the
system and taken only when a person decides (an update): the system proposes, a person
decides. Each step waits for its own interval after the one before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from schemas.policy import LadderIntervals


@dataclass(frozen=True)
class Step:
    level: int
    name: str
    needs_decision: bool
    addressee: str
    basis: str


LADDER: tuple[Step, ...] = (
    Step(1, "reminder", False, "focal point", "seed para 9: reminder to the focal point"),
    Step(2, "registry_follow_up", False, "central authority", "note verbale, RS 87(1)(a)"),
    Step(3, "chamber_report", True, "Chamber", "report to the Chamber, which may order a report"),
    Step(4, "non_compliance_finding", True, "Chamber", "RS 87(7): finding and referral"),
    Step(5, "assembly_informal_response", True, "Assembly President", "ICC-ASP/10/Res.5"),
    Step(5, "emergency_bureau_meeting", True, "Bureau", "ICC-ASP/10/Res.5, formal response"),
    Step(5, "president_letter", True, "Assembly President", "letter with a deadline"),
    Step(5, "bureau_meeting_with_state", True, "Bureau", "ICC-ASP/10/Res.5, formal response"),
    Step(5, "report_to_plenary", True, "Assembly", "ICC-ASP/10/Res.5, formal response"),
)

STEP_INDEX = {step.name: i for i, step in enumerate(LADDER)}


def wait_before(index: int, ladder: LadderIntervals) -> timedelta:
    """How long after step ``index - 1`` step ``index`` falls due (index 0 follows the deadline)."""
    return (
        timedelta(0),
        ladder.registry_follow_up_after,
        ladder.chamber_report_after,
        ladder.chamber_order_period,
        ladder.assembly_step_after,
        ladder.assembly_step_after,
        ladder.assembly_step_after,
        ladder.assembly_letter_period,
        ladder.assembly_step_after,
    )[index]


def level_of(rung: int) -> int:
    """The level (0-5) of a request that has reached ``rung`` steps."""
    return LADDER[rung - 1].level if rung else 0
