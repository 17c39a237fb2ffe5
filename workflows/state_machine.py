"""The request state machine, in one place: which State answer or Court action may move a
request from which status, and to where. Illegal moves are rejected with a reason and
write nothing. Asset-level answers and actions (claims, challenges, management, forfeiture,
transfer, allocation, release) leave the request's status as it is; their own rules are in
``workflows/asset_rules.py``.
"""

from __future__ import annotations

from schemas.ledger import RequestStatus as S

OPEN = frozenset(S) - {S.CLOSED}
EXECUTING = frozenset({S.ACKNOWLEDGED, S.IN_EXECUTION})
ENDED = frozenset({S.EXECUTED, S.PARTIALLY_EXECUTED, S.NO_ASSETS, S.DENIED, S.WITHDRAWN})
SETTLES_STAGES = ENDED - {S.DENIED}
"""Outcomes that end every stage clock. A denial does not: RS 93(4) reaches only documents
and evidence (art. 72), and the road to a Chamber report and RS 87(7) stays open."""
RESUMABLE = frozenset({S.TRANSMITTED, S.ACKNOWLEDGED, S.IN_EXECUTION})
AFTER_RECEIPT = OPEN - {S.TRANSMITTED}

ACKNOWLEDGEMENT = "acknowledgement"
EXECUTION_REPORT = "execution_report"
NO_ASSETS = "no_assets"
CLOSE = "close"

# action -> (statuses it may happen in, statuses it may lead to; empty = unchanged)
TRANSITIONS: dict[str, tuple[frozenset[S], frozenset[S]]] = {
    # State answers
    "acknowledgement": (frozenset({S.TRANSMITTED}), frozenset({S.ACKNOWLEDGED})),
    "consultation": (RESUMABLE, frozenset({S.IN_CONSULTATION})),  # RS 97, 93(3), 96(3)
    "postponement": (EXECUTING, frozenset({S.POSTPONEMENT_PROPOSED, S.POSTPONED})),  # RS 94/95
    "denial": (RESUMABLE | {S.IN_CONSULTATION}, frozenset({S.DENIED})),  # RS 93(4), 93(6)
    # RS 99 reports; a report implies receipt, so it may come without an acknowledgement; a
    # report during a postponement ends it: the State has resumed.
    "execution_report": (
        EXECUTING | {S.TRANSMITTED, S.POSTPONED},
        frozenset({S.IN_EXECUTION, S.EXECUTED, S.PARTIALLY_EXECUTED}),
    ),
    "no_assets": (EXECUTING | {S.TRANSMITTED, S.POSTPONED}, frozenset({S.NO_ASSETS})),
    "third_party_claim": (AFTER_RECEIPT, frozenset()),
    "domestic_challenge": (AFTER_RECEIPT, frozenset()),
    "asset_management": (AFTER_RECEIPT, frozenset()),
    "freeze_limit_proposal": (AFTER_RECEIPT, frozenset()),  # RS 97 consultation
    "channel_change": (OPEN, frozenset()),  # Rule 180
    # Court actions
    "consultation_response": (frozenset({S.IN_CONSULTATION}), RESUMABLE),
    "postponement_decision": (frozenset({S.POSTPONEMENT_PROPOSED}), RESUMABLE | {S.POSTPONED}),
    "resume_execution": (frozenset({S.POSTPONED}), RESUMABLE),
    "urgent_confirmation": (OPEN, frozenset()),  # RS 96(1)
    "rule99_notification": (OPEN, frozenset()),
    "rule99_decision": (OPEN, frozenset()),
    "withdrawal": (OPEN - {S.WITHDRAWN}, frozenset({S.WITHDRAWN})),
    "forfeiture_order": (AFTER_RECEIPT, frozenset()),  # RS 77(2)(b)
    "third_party_claim_decision": (AFTER_RECEIPT, frozenset()),
    "transfer_to_court": (AFTER_RECEIPT, frozenset()),  # RS 109(3)
    "allocation": (AFTER_RECEIPT, frozenset()),  # Rule 221
    "release": (AFTER_RECEIPT, frozenset()),
    "close": (ENDED, frozenset({S.CLOSED})),
    "escalation_decision": (OPEN, frozenset()),  # RS 87(7), ICC-ASP/10/Res.5
    "deadline_extension": (OPEN, frozenset()),
    "freeze_limit_response": (AFTER_RECEIPT, frozenset()),  # RS 97; a Chamber decides
}


class IllegalTransition(ValueError):
    """An answer or action that the request's current status does not allow."""


def check_transition(action: str, status: S) -> None:
    """Raise IllegalTransition with a reason if ``action`` may not happen in ``status``."""
    allowed, _ = TRANSITIONS[action]
    if status not in allowed:
        expected = ", ".join(s.value for s in S if s in allowed)
        raise IllegalTransition(
            f"{action} is not allowed while the request is {status.value} "
            f"(allowed when: {expected})"
        )


def mermaid() -> str:
    """The request-level moves as a Mermaid diagram (docs are checked against it by a test)."""
    lines = ["stateDiagram-v2", f"    [*] --> {S.TRANSMITTED.value}"]
    order = list(S)
    for action, (sources, targets) in TRANSITIONS.items():
        for source in sorted(sources, key=order.index):
            for target in sorted(targets, key=order.index):
                if source != target:
                    lines.append(f"    {source.value} --> {target.value}: {action}")
    lines.append(f"    {S.CLOSED.value} --> [*]")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(mermaid(), end="")
