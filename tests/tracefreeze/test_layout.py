"""The runtime package stays readable: small modules with one job, and a State's answer crosses
three intake files on its way to its request (the consumer loop, the gate, delivery)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "tracefreeze"
MAX_LINES = 400
ANSWER_PATH = ("bridge", "gate", "delivery")
"""The intake modules an answer passes through from Kafka to its request: the consumer loop,
which hands it to the gate, then to delivery."""


def test_no_runtime_module_is_over_400_lines() -> None:
    """The runtime package, the workflows and the activities: each module one job."""
    long = {
        str(path.relative_to(ROOT)): n
        for folder in (RUNTIME, ROOT / "workflows", ROOT / "activities")
        for path in sorted(folder.rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by job: {long}"


def intake_imports(module: str) -> set[str]:
    tree = ast.parse((RUNTIME / "intake" / f"{module}.py").read_text(encoding="utf-8"))
    return {
        node.module.removeprefix("tracefreeze.intake.")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module is not None
        and node.module.startswith("tracefreeze.intake.")
    }


def test_an_answer_crosses_the_consumer_loop_the_gate_and_delivery_only() -> None:
    """The consumer loop hands each answer to the gate, then to delivery; every other intake
    module is a library that reaches back into neither the loop nor delivery (parking, retry,
    dead letters, throttle, envelope, replay authentication, routing, the dlq tool)."""
    loop, *rest = ANSWER_PATH
    assert set(rest) <= intake_imports(loop)
    libraries = {p.stem for p in (RUNTIME / "intake").glob("*.py")} - set(ANSWER_PATH)
    for library in sorted(libraries - {"__init__"}):
        back = intake_imports(library) & {"bridge", "delivery"}
        assert back == set(), f"{library} reaches back into the answer path: {back}"


def test_no_test_module_is_imported_by_another() -> None:
    """What tests share lives in support modules (builders, e2e, ..._support): a test module
    imported by another runs its tests' imports and fixtures where nobody looks for them."""
    importing = {
        str(path.relative_to(ROOT)): node.module
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("tests.")
        and node.module.rsplit(".", 1)[-1].startswith("test_")
    }
    assert importing == {}, f"move what they share to a support module: {importing}"
