"""Baseline (b)'s trivial workflow: one update handler that returns a counter.

Run (``bench/apps.py trivial-worker``) on a bare client (the SDK's default data converter, no
codec of ours) and its own task queue, in its own process like the product's worker, so the
comparison is engine to engine. Only ``temporalio`` is imported here: the sandbox re-imports
this module for every workflow run.
"""

from __future__ import annotations

from temporalio import workflow

TASK_QUEUE = "bench-trivial"


@workflow.defn
class CounterWorkflow:
    def __init__(self) -> None:
        self.count = 0
        self.done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done)
        return self.count

    @workflow.update
    def bump(self) -> int:
        self.count += 1
        return self.count

    @workflow.signal
    def finish(self) -> None:
        self.done = True
