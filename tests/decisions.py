"""The Court's decisions as the tests send them: an escalation decision (RS 87(7); RS
112(2)(f)), a final conviction (RS 74, 77(2)(b)) and the close of a request, each with a fresh
event id, decided at ``DECIDED_AT`` (``tests/builders.py``: the requests and answers they act
on, and ``court_action`` for any other kind)."""

from __future__ import annotations

from typing import Any

from schemas.court import CloseRequest, EscalationDecision, Judgment
from tests.builders import DECIDED_AT, court_action, example, new_event_id, reasons
from workflows.ladder import ASSEMBLY

ASSEMBLY_STEPS = frozenset(step.name for step in ASSEMBLY)


def escalation_decision(step: str, proceed: bool = True, **fields: Any) -> EscalationDecision:
    """A decision on a proposed step: steps 3-4 a Chamber's (RS 87(7); Regulation 109), the
    Assembly's steps its own (RS 112(2)(f); ICC-ASP/10/Res.5)."""
    organ = "Assembly of States Parties" if step in ASSEMBLY_STEPS else "Pre-Trial Chamber II"
    data = {"decided_by": organ, **reasons(**fields)}
    return court_action(EscalationDecision, step=step, proceed=proceed, **data)


def conviction(**fields: Any) -> Judgment:
    """A final conviction by the Trial Chamber (RS 74): a forfeiture order may follow
    (RS 77(2)(b))."""
    data: dict[str, Any] = {
        "judgment_reference": "ICC-01/22-T-J-1",
        "outcome": "conviction",
        "delivered_on": "2026-04-30",
        "finality": "final",
        **fields,
    }
    return court_action(Judgment, **data)


def close_action(**overrides: Any) -> CloseRequest:
    """The example close-request.json with a fresh event id, decided at ``DECIDED_AT``."""
    data = example("close-request")
    data["event_id"], data["decided_at"] = new_event_id(), DECIDED_AT
    data.update(overrides)
    return CloseRequest.model_validate(data)
