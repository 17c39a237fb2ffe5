"""The baselines' trivial workflows: one update returning a counter (b), with one message out
after it (c), one timer (scale).

Run (``bench/apps.py trivial-worker``) on a bare client (the SDK's default data converter, no
codec of ours) and its own task queue, in its own process like the product's worker, so the
comparison is engine to engine. Only ``temporalio`` is imported here: the sandbox re-imports
this module for every workflow run.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

TASK_QUEUE = "bench-trivial"
TRANSMIT = "bench_transmit"
"""The bare engine's one Kafka message at start (``bench/apps.py``): a topic in, the message
acknowledged by the broker out."""
DUE_HEADER = "due"
"""The Kafka header of a bare escalation's message: its timer's deadline (epoch seconds)."""


@workflow.defn
class CounterWorkflow:
    """Baseline (b): an update that counts and returns the count, a query that reads it. Run
    with a ``topic``, it is also baseline (c)'s request (``bench/bare_chain.py``): after the
    updates a task took, one Kafka message leaves by an activity, as a request's events leave
    by its publishing round once the answer is accepted."""

    def __init__(self) -> None:
        self.count = 0
        self.unsent = 0
        self.done = False

    @workflow.run
    async def run(self, topic: str = "") -> int:
        while True:
            await workflow.wait_condition(lambda: self.done or bool(topic and self.unsent))
            if self.done:
                return self.count
            self.unsent = 0
            await workflow.execute_activity(
                TRANSMIT, args=[topic, 0.0], start_to_close_timeout=timedelta(seconds=30)
            )

    @workflow.update
    def bump(self) -> int:
        self.count += 1
        self.unsent += 1
        return self.count

    @workflow.query
    def value(self) -> int:
        return self.count

    @workflow.update
    def finish(self) -> None:
        """Ends the workflow (an update: the cluster's server lets no person signal)."""
        self.done = True


@workflow.defn
class TimerWorkflow:
    """Scale baseline: one Kafka message sent by an activity at start (to ``topic``, if
    given: what a transmitted request publishes), then one timer of ``wait_s`` seconds from its
    first task, as a request's deadline runs from its start; returns its deadline and how
    late the timer's task ran (epoch seconds, seconds), then completes. With ``escalates``,
    the task the timer woke also sends one message by an activity, as a request publishes its
    escalation event when a deadline falls due, and the workflow completes once it is
    acknowledged."""

    @workflow.run
    async def run(
        self, wait_s: float, topic: str = "", escalates: bool = False
    ) -> tuple[float, float]:
        due = workflow.now().timestamp() + wait_s
        if topic:
            await self._send(topic)
        await workflow.sleep(max(due - workflow.now().timestamp(), 0.001))
        late = workflow.now().timestamp() - due
        if topic and escalates:
            await self._send(topic, due)
        return due, late

    async def _send(self, topic: str, due: float = 0.0) -> None:
        """One message to ``topic``; an escalation's carries its deadline ``due`` (a header),
        as a request's escalation event does."""
        await workflow.execute_activity(
            TRANSMIT, args=[topic, due], start_to_close_timeout=timedelta(seconds=30)
        )
