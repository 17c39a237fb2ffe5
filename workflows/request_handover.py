"""What a request hands to its next run: its carry, bounded whatever the number of answers.

A request may live ten years and take 100,000 answers and Court actions (a frozen asset under
management is revalued again and again: RS 93(1)(k), 99; cf. EU 2018/1805 art. 28). Each run
starts with the carry as its input, so whatever in the carry grows with the answers grows every
later run's first event and history bytes. Here each part that grows with answers or actions is
cut to a fixed window of the most recent, with an exact count of the rest; what is dropped is
already durable elsewhere: every answer and action became a request event when it was taken,
queued in the outbox (carried whole until published: ``workflows/request_outbox.py``) and
published to Kafka, and each run's history holds it as the update it came in.

- timeline: the last ``TIMELINE_CARRIED`` entries; ``timeline_dropped`` counts the others;
- seen ids: a State's answers' taken within the dedupe window, at most ``seen_ids_cap`` of
  them (``workflows/request_seen.py``), and every Court action's, at most
  ``MAX_REQUEST_COURT_ACTIONS``; ``answers_taken`` stays the exact count of every id;
- each asset's history: every status change (bounded by the order of statuses and the
  ``MAX_RULE99_MODIFICATIONS`` a seizure may turn back into a freeze) and the last repeated
  changes (``Ledger.collapse_histories``); ``history_collapsed`` counts the others;
- versions of the request modified after consultation (RS 93(3), 96(3)): the last
  ``VERSIONS_CARRIED``; each keeps its version number, so the count is exact, and the original
  is the run's own input;
- freeze-limit consultations (RS 97) that are over (decided, and lifted or never to lift): the
  last ``SETTLED_FREEZE_LIMITS_CARRIED``; every pending one and every lift to come is kept.

The rest is bounded by its own cap, checked before anything is written (``list_bounds.py``,
``bounds.py``, ``denial_rules.py``): assets, contests, allocations, rulings, consultations,
denials, rates; the outboxes are emptied by every run and carry only what a hand-over caught
in flight. Pure; deterministic.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from workflows.carry import TIMELINE_CARRIED, FreezeLimitConsultation, RequestCarry, RequestRun
from workflows.request_seen import SeenIds

VERSIONS_CARRIED = 3
"""Versions of the request carried: the one in force and the two before it."""
SETTLED_FREEZE_LIMITS_CARRIED = 10
"""Freeze-limit consultations that are over, carried: the most recent ones."""


def settled(f: FreezeLimitConsultation) -> bool:
    """Decided, and nothing left to do: no lift, or the lift done (or not applicable)."""
    return not f.pending and (f.lift_at is None or f.lifted)


def next_run(inp: RequestRun, carried: RequestCarry) -> RequestRun:
    """The next run's input: the same request, topics and bounds, and the carry. The policy
    and a completeness override are the first run's alone (the policy is installed in the
    carry; the override was said with the transmission, RS 96(2))."""
    return inp.model_copy(
        update={"carried": carried, "policy": None, "completeness_override": None}
    )


def hand_over(rec: RequestCarry, seen: SeenIds, now: datetime, window: timedelta) -> RequestCarry:
    """Cut ``rec`` to what the next run needs (in place) and return it."""
    seen.forget_before(now, window)
    rec.seen, rec.answers_taken = seen.carried(), seen.taken
    rec.court_ids = seen.court_carried()  # kept for the request's life, bounded
    rec.seen_event_ids = []
    dropped = max(0, len(rec.timeline) - TIMELINE_CARRIED)
    if dropped:
        rec.timeline = rec.timeline[dropped:]
        rec.timeline_dropped += dropped
    rec.versions = rec.versions[-VERSIONS_CARRIED:]
    clocks = rec.clocks
    if clocks is not None:
        over = [f for f in clocks.freeze_limits if settled(f)]
        gone = {id(f) for f in over[: max(0, len(over) - SETTLED_FREEZE_LIMITS_CARRIED)]}
        clocks.freeze_limits = [f for f in clocks.freeze_limits if id(f) not in gone]
    rec.ledger.collapse_histories()
    return rec
