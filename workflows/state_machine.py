"""The request state machine: which State answer or Court action may move a request from
which status, and to where. Derived from the catalog (``workflows/catalog.py``), where each
kind declares the statuses it may happen in and lead to; this module checks a move and draws
the diagram in ``docs/state-machine.md`` (``python -m workflows.state_machine``). Illegal moves
are rejected with a reason and write nothing. Asset-level answers and actions (claims,
challenges, management, forfeiture, transfer, allocation, release) leave the request's status
as it is; their own rules are in ``workflows/asset_rules.py``.
"""

from __future__ import annotations

from schemas.ledger import RequestStatus as S
from workflows.catalog import CATALOG, ENDED, SETTLES_STAGES
from workflows.outcome import PublicRefusal

ACKNOWLEDGEMENT = "acknowledgement"
EXECUTION_REPORT = "execution_report"
NO_ASSETS = "no_assets"
CLOSE = "close"

TRANSITIONS: dict[str, tuple[frozenset[S], frozenset[S]]] = {
    kind.name: (kind.allowed, kind.leads_to) for kind in CATALOG
}
"""kind -> (statuses it may happen in, statuses it may lead to; empty = unchanged)."""

__all__ = ["ENDED", "SETTLES_STAGES", "TRANSITIONS", "IllegalTransition", "check_transition"]


class IllegalTransition(PublicRefusal):
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
