"""Every wake-up condition of the workflows reads their state alone.

The SDK re-evaluates a ``workflow.wait_condition`` predicate in every activation, including
activations that history never holds: a workflow task whose only update the validator refused
(a State's answer not addressed to the request, a Court action out of order) leaves no event,
yet its activation runs the predicates at a later workflow time. A predicate that reads the
clock, the history's length or size, or the server's continue-as-new suggestion can turn true
there and issue a command (a report to the case, a hand-over) that a replay of the history
never issues: the task fails with a non-determinism error on the next replay and the request
is stuck (RS 93(1)(k), 96: a State's refused answer must never stall its request, nor another).

This was seen: a request flooded with answers signalled its case from such an activation, and
its history stopped replaying. The checks below walk each predicate through the methods it
calls (same class first, then any workflow module) and refuse what reads time or history.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"

FORBIDDEN = {
    "now": "the workflow clock",
    "time": "the workflow clock",
    "time_ns": "the workflow clock",
    "is_continue_as_new_suggested": "the server's suggestion",
    "get_current_history_length": "the history's length",
    "get_current_history_size": "the history's size",
    "info": "the workflow task's info",
}
"""Calls a wake-up condition must never reach (``workflow.now()``, ``workflow.info()``...)."""


@dataclass(frozen=True)
class Method:
    module: str
    cls: str | None
    node: ast.FunctionDef | ast.AsyncFunctionDef


def methods() -> dict[str, list[Method]]:
    """Every function of the workflow modules by name (methods and module functions)."""
    out: dict[str, list[Method]] = {}
    for path in sorted(WORKFLOWS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for top in tree.body:
            if isinstance(top, ast.ClassDef):
                for node in top.body:
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                        out.setdefault(node.name, []).append(Method(path.stem, top.name, node))
            elif isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef):
                out.setdefault(top.name, []).append(Method(path.stem, None, top))
    return out


def predicates() -> list[tuple[str, str | None, ast.AST]]:
    """(module, class, predicate) of every ``workflow.wait_condition`` call; a predicate named
    by a local variable is its assigned value, and ``self.method`` is a call of it."""
    found: list[tuple[str, str | None, ast.AST]] = []
    for name, defs in methods().items():
        del name
        for m in defs:
            local = {
                t.id: a.value
                for a in ast.walk(m.node)
                if isinstance(a, ast.Assign)
                for t in a.targets
                if isinstance(t, ast.Name)
            }
            for node in ast.walk(m.node):
                if not (isinstance(node, ast.Call) and node.args):
                    continue
                if getattr(node.func, "attr", None) != "wait_condition":
                    continue
                expr = node.args[0]
                if isinstance(expr, ast.Name) and expr.id in local:
                    expr = local[expr.id]
                if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
                    expr = ast.Call(func=expr, args=[], keywords=[])
                found.append((m.module, m.cls, expr))
    return sorted(found, key=lambda f: (f[0], f[1] or "", ast.dump(f[2])))


def forbidden_reads(
    expr: ast.AST, module: str, cls: str | None, index: dict[str, list[Method]]
) -> set[str]:
    """What ``expr`` reads of time or history, through every function it calls."""
    seen: set[tuple[str, str | None, str]] = set()
    reads: set[str] = set()

    def walk(node: ast.AST, module: str, cls: str | None, trail: str) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                f = sub.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
                if name is None:
                    continue
                if name in FORBIDDEN and isinstance(f, ast.Attribute):
                    reads.add(f"{trail} -> {name}(): {FORBIDDEN[name]}")
                    continue
                on_self = isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                own = [m for m in index.get(name, []) if on_self and m.cls == cls]
                for m in own or index.get(name, []):
                    key = (m.module, m.cls, m.node.name)
                    if key not in seen:
                        seen.add(key)
                        walk(m.node, m.module, m.cls, f"{trail} -> {m.cls or m.module}.{name}")

    walk(expr, module, cls, f"{cls or module}")
    return reads


def test_there_are_wake_up_conditions_to_check() -> None:
    found = predicates()
    assert {(m, c) for m, c, _ in found} >= {
        ("request", "RequestWorkflow"),
        ("case", "CaseWorkflow"),
        ("party_directory", "PartyDirectoryWorkflow"),
    }


@pytest.mark.parametrize(
    "where", [f"{m}.{c}#{i}" for i, (m, c, _) in enumerate(predicates())], ids=str
)
def test_a_wake_up_condition_reads_no_clock_and_no_history(where: str) -> None:
    """RS 93(1)(k), 96: a refused answer's task leaves no event, so it must change nothing."""
    index = methods()
    module, cls, expr = predicates()[int(where.rsplit("#", 1)[1])]
    assert forbidden_reads(expr, module, cls, index) == set()


def test_the_check_finds_a_clock_read_through_a_method() -> None:
    """The check can fail: the report interval as it was read (the clock, in a method)."""
    source = """
class Reports:
    def waiting(self) -> bool:
        return workflow.now() >= self.due

class Request:
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._has_work())

    def _has_work(self) -> bool:
        return bool(self.outbox) or self._parent.waiting()
"""
    tree = ast.parse(source)
    index: dict[str, list[Method]] = {}
    for top in tree.body:
        assert isinstance(top, ast.ClassDef)
        for node in top.body:
            assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            index.setdefault(node.name, []).append(Method("m", top.name, node))
    run = index["run"][0].node
    call = next(
        n
        for n in ast.walk(run)
        if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "wait_condition"
    )
    reads = forbidden_reads(call.args[0], "m", "Request", index)
    assert reads == {"Request -> Request._has_work -> Reports.waiting -> now(): the workflow clock"}
