"""What the tests add to the isolated stack of ``tracefreeze.stack.isolated`` (a Temporal dev
server with its web UI + a Kafka broker on free ports, started by the ``stack`` fixture of
``tests/conftest.py``): the topics, task queue and consumer group of one test alone."""

from __future__ import annotations

import uuid

from tracefreeze.config import Settings, Topics


def isolated(stack: Settings, prefix: str) -> Settings:
    """The stack with a task queue, consumer group and topics of one test alone."""
    tag = f"{prefix}-{uuid.uuid4().hex[:10]}"
    return stack.model_copy(
        update={
            "task_queue": tag,
            "bridge_group_id": tag,
            "topics": Topics(
                state_answers=f"{tag}.state-answers",
                request_events=f"{tag}.request-events",
                escalations=f"{tag}.escalations",
                dead_letter=f"{tag}.dead-letter",
                court_actions=f"{tag}.court-actions",
                party_channels=f"{tag}.party",
            ),
        }
    )
