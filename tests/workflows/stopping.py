"""Stopping a workflow in a test on the time-skipping server without holding its clock.

An operator may terminate a request or a case (stopped outside the Court's process: its
measures stand, RS 93(1)(k)); the case tests do, and then let hours pass. The time-skipping
test server holds its clock while a workflow task or an activity is outstanding, and for a
workflow terminated with one outstanding it never lets go: every later ``env.sleep`` on that
server then runs in real time until the call times out ("Timeout expired" after 30 s), in the
test and in every later test sharing the server. Tried on the test server here for a workflow
task started (the worker's completion is refused: "Completed workflow"), a workflow task no
worker took, an activity running and an activity no worker took: each held the clock; a
workflow stopped while it waits on a timer did not.

So a test stops a workflow once it, and each workflow that could wake it, is quiet: nothing
outstanding, and no timer due within ``SHORT_TIMER`` (while no test sleeps, the server's clock
runs in real time, and a request's report to its case waits 2 s). What was outstanding when
the termination landed is then read back from the history: an operator's act in a test that
held the clock fails that test, not a later sleep."""

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

from tests.workflows.support import WAIT_SECONDS, WORK, outstanding

SHORT_TIMER = timedelta(seconds=WAIT_SECONDS)
"""A timer this short fires within a wait (the clock runs in real time): waited for."""
EVERYTHING = tuple(WORK)


async def terminate(
    handle: WorkflowHandle[Any, Any], reason: str, *wakers: WorkflowHandle[Any, Any]
) -> None:
    """An operator's act in a test: once ``handle`` and its ``wakers`` (the workflows that
    signal, update or deliver to it) are quiet, terminate ``handle``; fails the test if work
    was outstanding when it landed."""
    for each in (*wakers, handle):
        await quiet(each)
    await handle.terminate(reason)
    if left := await left_at_termination(handle):
        raise AssertionError(f"terminated with {left} outstanding: the test server's clock is held")


async def end(handles: list[WorkflowHandle[Any, Any]]) -> None:
    """The end of a test: every workflow in ``handles`` terminated, each once quiet if it gets
    so within ``WAIT_SECONDS``; never fails (a test's own failure stays the one reported), but
    warns of one terminated with work outstanding: a later sleep on this server will hang."""
    for handle in handles:
        with contextlib.suppress(RPCError, AssertionError):
            await quiet(handle)
        with contextlib.suppress(RPCError):
            await handle.terminate("end of test")
            if left := await left_at_termination(handle):
                warnings.warn(f"{handle.id} ended with {left} outstanding", stacklevel=2)


async def quiet(handle: WorkflowHandle[Any, Any]) -> None:
    """Wait until ``handle`` has nothing outstanding and no short timer running."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        events = [e async for e in handle.fetch_history_events()]
        busy = outstanding(events, *EVERYTHING) + _short_timers(events)
        if not busy:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{handle.id} never got quiet: {busy}")
        await asyncio.sleep(0.02)


def _short_timers(events: list[HistoryEvent]) -> list[str]:
    """The timers started no longer than ``SHORT_TIMER`` ahead and not fired or cancelled."""
    running: dict[str, timedelta] = {}
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            started = event.timer_started_event_attributes
            running[started.timer_id] = started.start_to_fire_timeout.ToTimedelta()
        elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            running.pop(event.timer_fired_event_attributes.timer_id, None)
        elif event.event_type == EventType.EVENT_TYPE_TIMER_CANCELED:
            running.pop(event.timer_canceled_event_attributes.timer_id, None)
    return [f"timer {t}" for t, after in running.items() if after <= SHORT_TIMER]


async def left_at_termination(handle: WorkflowHandle[Any, Any]) -> list[str]:
    events = [e async for e in handle.fetch_history_events()]
    return outstanding(events, "workflow task", "activity")
