"""The downstream consumer kit: read the Court's outbound events as typed pydantic models.

``CourtEventsConsumer`` (``consumer.py``) reads the request events and escalations topics,
checks each record's CloudEvents envelope and parses its event by ``type`` (``envelope.py``),
hands each event id to the caller once (``seen.py``), in each request's order, and commits
only what the caller's handler finished. ``python -m tracefreeze.downstream`` is the worked
example (``assets.py``); ``python -m tracefreeze.downstream.projector`` the same grown real, a
PostgreSQL read model of the ledger and the escalations (``projector.py``, ``read_model.py``).
See docs/downstream.md.
"""

from tracefreeze.downstream.consumer import CourtEventsConsumer, Tally
from tracefreeze.downstream.envelope import CourtEvent, Position, Received, Unreadable
from tracefreeze.downstream.seen import InMemorySeen, SeenStore

__all__ = [
    "CourtEvent",
    "CourtEventsConsumer",
    "InMemorySeen",
    "Position",
    "Received",
    "SeenStore",
    "Tally",
    "Unreadable",
]
