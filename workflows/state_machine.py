"""The request state machine, in one place: which answer or Court action may move a request
from which status, and to where. Illegal moves are rejected with a reason, nothing written.
"""

from __future__ import annotations

from schemas.ledger import RequestStatus as S

ACKNOWLEDGEMENT = "acknowledgement"
EXECUTION_REPORT = "execution_report"
NO_ASSETS = "no_assets"
CLOSE = "close"

ALLOWED_FROM: dict[str, frozenset[S]] = {
    # Acknowledgement of receipt starts the execution clock (practice).
    ACKNOWLEDGEMENT: frozenset({S.TRANSMITTED}),
    # RS 99: execution reports, partial then final.
    EXECUTION_REPORT: frozenset({S.ACKNOWLEDGED, S.IN_EXECUTION}),
    # RS 99: no assets found closes the measure for this State.
    NO_ASSETS: frozenset({S.ACKNOWLEDGED, S.IN_EXECUTION}),
    # The Registry closes a request whose execution has ended.
    CLOSE: frozenset({S.EXECUTED, S.PARTIALLY_EXECUTED, S.NO_ASSETS}),
}

TARGETS: dict[str, frozenset[S]] = {
    ACKNOWLEDGEMENT: frozenset({S.ACKNOWLEDGED}),
    EXECUTION_REPORT: frozenset({S.IN_EXECUTION, S.EXECUTED, S.PARTIALLY_EXECUTED}),
    NO_ASSETS: frozenset({S.NO_ASSETS}),
    CLOSE: frozenset({S.CLOSED}),
}


class IllegalTransition(ValueError):
    """An answer or action that the request's current status does not allow."""


def check_transition(action: str, status: S) -> None:
    """Raise IllegalTransition with a reason if ``action`` may not happen in ``status``."""
    allowed = ALLOWED_FROM[action]
    if status not in allowed:
        expected = ", ".join(sorted(s.value for s in allowed))
        raise IllegalTransition(
            f"{action} is not allowed while the request is {status.value} "
            f"(allowed when: {expected})"
        )


def mermaid() -> str:
    """The state machine as a Mermaid diagram (docs are checked against it by a test)."""
    lines = ["stateDiagram-v2", f"    [*] --> {S.TRANSMITTED.value}"]
    for action, sources in ALLOWED_FROM.items():
        for source in sorted(sources, key=list(S).index):
            for target in sorted(TARGETS[action], key=list(S).index):
                if source != target:
                    lines.append(f"    {source.value} --> {target.value}: {action}")
    lines.append(f"    {S.CLOSED.value} --> [*]")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(mermaid(), end="")
