"""No workflow runs a local activity. A local activity's result is not an event of history: live
it can reach the workflow in the same activation as an update, on replay alone before it, and
the commands that follow then change order (the fault found on 2026-12-01: TMPRL1100 on a
``WorkflowExecutionUpdateAccepted`` event, a case's request replayed out of the worker's
cache). Every activity a workflow runs is a normal one, its completion recorded where it
happened (``workflows/request_outbox.py``)."""

from __future__ import annotations

import ast
from pathlib import Path

import workflows

LOCAL = {"execute_local_activity", "start_local_activity"}
"""The SDK's calls that run an activity locally (the ``_class``/``_method`` forms start so)."""
WORKFLOWS = Path(workflows.__file__).parent


def local_activity_calls(source: str) -> list[int]:
    """The lines of ``source`` that call or import a local activity, under any name the SDK
    gives it."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
        names += [node.attr] if isinstance(node, ast.Attribute) else []
        if any(n.startswith(local) for n in names for local in LOCAL):
            found.add(node.lineno)
    return sorted(found)


def test_no_workflow_module_runs_a_local_activity() -> None:
    found = {
        path.name: lines
        for path in sorted(WORKFLOWS.glob("*.py"))
        if (lines := local_activity_calls(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_check_finds_each_form() -> None:
    """The check above can fail: each form of the call is found, a normal activity is not."""
    source = "\n".join(
        [
            "await workflow.execute_local_activity(f, x)",
            "workflow.start_local_activity_method(C.f, x)",
            "await workflow.execute_local_activity_class(C, x)",
            "await workflow.execute_activity(f, x)",
            "from temporalio.workflow import execute_activity, start_local_activity",
        ]
    )
    assert local_activity_calls(source) == [1, 2, 3, 5]
