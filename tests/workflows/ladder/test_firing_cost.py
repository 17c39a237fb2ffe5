"""What one firing of a request's clocks writes to its history, on a time-skipping server.

At scale every firing is a workflow task the server persists (and, out of the worker's cache,
a replay of the whole history), so it writes only what changed: the ladder step a clock takes
shows in the ``EscalationLevel`` search attribute, and the report memo is not rewritten for it
(the cooperation report reads the greater of the memo's highest level and the attribute);
deadlines due together are one round, published by one activity. Deadlines as policy:
docs/legal-process.md, "Deadlines and escalation" (RS 86, 93(1), 96(1) set none).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.api.enums.v1 import EventType

from schemas.outbox import PublishOutbox
from schemas.policy import StageDeadlines
from tests.workflows.ladder.support import DAY, Handle, K, Ladder, started_at, view
from tests.workflows.support import acknowledgement, court_request, send, settle, shown
from tracefreeze.policy import load_directory, load_policy, resolve
from tracefreeze.report.cooperation import facts_of
from workflows import search_attributes as sa

E = EventType
_TASK = (
    E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
)


async def _history(handle: Handle) -> list[int]:
    return [e.event_type async for e in handle.fetch_history_events()]


async def _firing(ladder: Ladder, handle: Handle, at: timedelta) -> list[int]:
    """The events (workflow tasks aside) the history gains from ``started_at + at`` on."""
    await settle(handle)
    before = len(await _history(handle))
    await ladder.advance_to(handle, await started_at(handle) + at)
    return [t for t in (await _history(handle))[before:] if t not in _TASK]


async def test_a_ladder_step_taken_by_a_clock_writes_the_attribute_and_not_the_memo(
    ladder: Ladder,
) -> None:
    """The default policy (NLD: acknowledgement P5D, reminder lead P2D): on day 5 the clock
    takes step 1, the reminder. Its firing writes the timer's firing, the publishing activity
    (scheduled, started, completed: the escalation leaves first), then one search-attribute
    upsert (level, overdue, next deadline) and the next timer: no memo (the old code wrote
    the memo's highest level too, one more event and visibility write).
    The report still counts the request as escalated; after the acknowledgement brings the
    level down, the memo keeps the level reached, and the report still counts it."""
    req = court_request()
    handle = await ladder.start(req)
    approaching = await _firing(ladder, handle, 3 * DAY + timedelta(hours=1))
    assert ladder.events(req)[-1].kind is K.DEADLINE_APPROACHING
    assert E.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED not in approaching

    step = await _firing(ladder, handle, 5 * DAY + timedelta(hours=1))
    assert (ladder.events(req)[-1].kind, ladder.events(req)[-1].step) == (
        K.STEP_REACHED,
        "reminder",
    )
    assert step == [
        E.EVENT_TYPE_TIMER_FIRED,
        E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        E.EVENT_TYPE_ACTIVITY_TASK_STARTED,
        E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        E.EVENT_TYPE_TIMER_STARTED,
    ]
    described = await handle.describe()
    assert described.typed_search_attributes.get(sa.ESCALATION_LEVEL) == 1
    facts = await facts_of(described)
    assert facts.memo.max_escalation_level == 0 and facts.escalated

    await send(handle, acknowledgement(req))  # the level comes down (de-escalation)
    await ladder.advance_to(handle, await ladder.now())
    assert (await view(handle)).escalation_level == 0
    facts = await facts_of(await handle.describe())
    assert (facts.escalation_level, facts.memo.max_escalation_level) == (0, 1)
    assert facts.escalated


async def test_deadlines_due_together_are_one_round_with_one_publish(ladder: Ladder) -> None:
    """An urgent request whose RS 96(1) confirmation period and acknowledgement deadline end
    at the same instant (no reminder lead): both clocks fire in one workflow task, and their
    escalations leave in one publishing activity (one scheduled), not one each."""
    req = court_request(urgency="urgent")
    base = resolve(load_policy(), load_directory(), req)
    due, later = 2 * DAY, 30 * DAY
    policy = base.model_copy(
        update={
            "deadlines": StageDeadlines(
                acknowledgement=due, first_report=later, full_execution=later
            ),
            "ladder": base.ladder.model_copy(
                update={"reminder_lead": timedelta(0), "registry_follow_up_after": later}
            ),
            "clocks": base.clocks.model_copy(update={"urgent_confirmation": due}),
        }
    )
    handle = await ladder.start(req, policy=policy)
    rounds = len(ladder.published.rounds)
    fired = await _firing(ladder, handle, due + timedelta(hours=1))
    kinds = {e.kind for e in ladder.events(req)}
    assert kinds == {K.URGENT_CONFIRMATION_OVERDUE, K.STEP_REACHED}
    assert fired.count(E.EVENT_TYPE_TIMER_FIRED) == 1
    assert fired.count(E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 1
    [round_] = ladder.published.rounds[rounds:]
    assert {e.kind for e in round_.escalations} == kinds
    assert (round_.request, round_.confidentiality) == (None, req.confidentiality)  # no text


async def test_a_firing_with_the_broker_down_shows_in_the_ui_before_its_escalation_leaves(
    ladder: Ladder,
) -> None:
    """A firing writes its search attributes after its round, so that its escalation leaves
    first; while the broker takes nothing, the round's first attempts fail, the attributes are
    written at once (the Web UI shows the step a Registry officer watches for, RS 87(7): the
    ladder is the Court's record of a State not complying), and the round is tried again
    until the broker is back. The step's escalation then leaves once, under the ids it had."""
    req = court_request()
    handle = await ladder.start(req)
    await ladder.advance_to(handle, await started_at(handle) + 3 * DAY + timedelta(hours=1))
    sent_before = len(ladder.events(req))
    ladder.published.broker_down = True
    await ladder.env.sleep(
        await started_at(handle) + 5 * DAY + timedelta(hours=1) - await ladder.now()
    )

    await shown(handle, sa.ESCALATION_LEVEL, 1)
    assert len(ladder.events(req)) == sent_before  # nothing left while the broker was down
    ended = (E.EVENT_TYPE_ACTIVITY_TASK_FAILED, E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)
    failed = [t for t in await _history(handle) if t in ended]
    assert len(failed) == 1  # the bounded first try, then the round again without a bound

    ladder.published.broker_down = False
    await ladder.env.sleep(timedelta(minutes=10))  # past the retry's back-off
    await settle(handle)
    steps_now = [(e.kind, e.step) for e in ladder.events(req)[sent_before:]]
    assert steps_now == [(K.STEP_REACHED, "reminder")]
    ids = [e.id for e in ladder.events(req)]
    assert len(ids) == len(set(ids))

    # Every refused attempt carried the very round that left once the broker was back: the
    # same events under the same ids, nothing made again.
    def carried(round_: PublishOutbox) -> str:
        return round_.model_dump_json(include={"events", "escalations"})

    left = [r for r in ladder.published.rounds if r.escalations or r.events][-1]
    assert len(ladder.published.refused) >= 2
    assert {carried(r) for r in ladder.published.refused} == {carried(left)}
