"""The documented state machine is the one the workflow enforces."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.ledger import RequestStatus
from workflows import state_machine as sm

DOC = Path(__file__).resolve().parents[2] / "docs" / "state-machine.md"


def test_doc_diagram_matches_code() -> None:
    text = DOC.read_text()
    block = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == sm.mermaid(), "docs/state-machine.md is stale: regenerate the diagram"


def test_every_status_is_reachable_in_the_diagram() -> None:
    diagram = sm.mermaid()
    for status in RequestStatus:
        assert f" {status.value}" in diagram


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (sm.ACKNOWLEDGEMENT, RequestStatus.ACKNOWLEDGED),
        (sm.EXECUTION_REPORT, RequestStatus.IN_CONSULTATION),
        (sm.NO_ASSETS, RequestStatus.EXECUTED),
        (sm.CLOSE, RequestStatus.IN_EXECUTION),
        (sm.CLOSE, RequestStatus.CLOSED),
    ],
)
def test_illegal_transition_names_the_status(action: str, status: RequestStatus) -> None:
    with pytest.raises(sm.IllegalTransition, match=f"while the request is {status.value}"):
        sm.check_transition(action, status)
