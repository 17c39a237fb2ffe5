"""Stopping a workflow in a test on the time-skipping server without holding its clock.

An operator may terminate a request or a case (stopped outside the Court's process: its
measures stand, RS 93(1)(k)); the case tests do, and then let hours pass. The time-skipping
test server holds its clock while a workflow task, an activity attempt, a signal to another
workflow or a child's start is outstanding, and for a workflow terminated with one outstanding
it never lets go (the completion is refused: "Completed workflow"): every later ``env.sleep``
on that server then runs in real time until the call times out ("Timeout expired" after 30 s),
in the test and in every later test sharing the server. Tried on the test server here for a
workflow task started, a workflow task no worker took, an activity running and an activity no
worker took: each held the clock; a workflow stopped while it waits on a timer did not.

So a test stops a workflow once it, and each workflow that could wake it, is quiet: nothing
outstanding, and no short timer running (while no test sleeps the server's clock runs in real
time, and a request's report to its case waits 2 s). Its history is then read back: the test
server writes nothing after the termination, so work outstanding then stays unbalanced in it,
and an operator's act that held the clock fails its own test, not a later sleep. (A real
server would record a started task as failed.)

Not covered: a timer longer than ``SHORT_TIMER`` is taken as not due, which holds unless the
test let time pass to just before it; an activity waiting out a retry's back-off counts as
outstanding though it holds nothing; a case stopped while its requests are open is not
watched for the lock a request closing later would take."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from datetime import timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError

from tests.workflows.support import WORK, outstanding

SHORT_TIMER = timedelta(seconds=5)
"""A timer this short fires within a wait (the clock runs in real time): waited for."""
QUIET_WITHIN = 60.0
"""How long a stop waits, in seconds, for the workflows to get quiet (a loaded machine may
take a workflow task's timeout, 10 s, and retry it)."""
EVERYTHING = tuple(WORK)

Handle = WorkflowHandle[Any, Any]


async def terminate(handle: Handle, reason: str, *wakers: Handle) -> None:
    """An operator's act in a test: once ``handle`` and its ``wakers`` (the workflows that
    signal, update or deliver to it) are all quiet together, terminate it; fails the test if
    work was outstanding when it landed."""
    await quiet_together(handle, *wakers)
    await handle.terminate(reason)
    if left := await left_at_termination(handle):
        raise AssertionError(f"terminated with {left} outstanding: the test server's clock is held")


async def end(handles: list[Handle]) -> None:
    """The end of a test: every workflow in ``handles`` terminated, each once quiet if it gets
    so within ``QUIET_WITHIN``; never fails (a test's own failure stays the one reported), but
    warns of one terminated with work outstanding: a later sleep on this server will hang."""
    for handle in handles:
        with contextlib.suppress(RPCError, AssertionError):
            await quiet_together(handle)
        with contextlib.suppress(RPCError):
            await handle.terminate("end of test")
            if left := await left_at_termination(handle):
                warnings.warn(f"{handle.id} ended with {left} outstanding", stacklevel=2)


async def quiet_together(*handles: Handle) -> None:
    """Wait until every one of ``handles`` (its latest run) is quiet in the same pass, twice in
    a row with no new event: a workflow found quiet can be woken by another while that one is
    awaited, and a run continued as new has a history of its own."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + QUIET_WITHIN
    seen: list[int] | None = None
    while True:
        now: list[int] = []
        busy: list[str] = []
        for handle in handles:
            events = [e async for e in handle.fetch_history_events()]
            now.append(len(events))
            busy += [f"{handle.id}: {b}" for b in _busy(events)]
        if not busy and now == seen:
            return
        seen = None if busy else now
        if loop.time() > deadline:
            raise AssertionError(f"never quiet together: {busy or 'new events each pass'}")
        await asyncio.sleep(0.05)


def _busy(events: list[HistoryEvent]) -> list[str]:
    """What keeps a workflow from being quiet: work outstanding, short timers running."""
    running: dict[str, timedelta] = {}
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            started = event.timer_started_event_attributes
            running[started.timer_id] = started.start_to_fire_timeout.ToTimedelta()
        elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            running.pop(event.timer_fired_event_attributes.timer_id, None)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
            running.pop(event.timer_canceled_event_attributes.timer_id, None)
    short = [f"timer {t}" for t, after in running.items() if after <= SHORT_TIMER]
    return outstanding(events, *EVERYTHING) + short


async def left_at_termination(run: Handle) -> list[str]:
    """The work the latest run's history shows outstanding at its end (read right after a
    termination: the run just terminated)."""
    return outstanding([e async for e in run.fetch_history_events()], *EVERYTHING)
