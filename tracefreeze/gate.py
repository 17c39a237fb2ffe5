"""The bridge's gate: only a State's answer signed by a valid key of that State gets through.

One ``AnswerGate`` per bridge process holds the State key registry (re-read when its file
changes: ``signing.RegistryFile``), one
``ReplayGuard`` and one ``Tolerance``. Every message on ``tracefreeze.state-answers`` passes
``check``: the signature (``tracefreeze/signing.py``), then the CloudEvents envelope against
the verified body (``tracefreeze/envelope.py``). Either a verified answer comes out, or a
``Rejection`` whose reason the bridge writes to the dead-letter topic. Each rejection is also
an audit event: the structlog warning ``answer rejected`` with the reason code, event id, key
id, the key's State and the Kafka position, never the message's contents.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog
from aiokafka.structs import ConsumerRecord

from schemas.deadletter import DeadLetterReason
from tracefreeze.config import Settings
from tracefreeze.envelope import envelope_problem
from tracefreeze.routing import Answer
from tracefreeze.signing import (
    DEFAULT_TOLERANCE,
    HEADER_KEY_ID,
    KeyRegistry,
    RegistryFile,
    Rejection,
    ReplayGuard,
    Tolerance,
    state_keys_file,
    verify,
)

log = structlog.get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class AnswerGate:
    """Signature, key, addressing, freshness and replay checks of one bridge process."""

    def __init__(
        self,
        registry: KeyRegistry | RegistryFile,
        guard: ReplayGuard | None = None,
        tolerance: Tolerance = DEFAULT_TOLERANCE,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.source, self.tolerance, self.clock = registry, tolerance, clock
        self.guard = guard or ReplayGuard()

    @property
    def registry(self) -> KeyRegistry:
        """The registry in force now (a file's latest good version)."""
        source = self.source
        return source.current() if isinstance(source, RegistryFile) else source

    @classmethod
    def load(cls, settings: Settings, path: Path | None = None) -> AnswerGate:
        """The gate with the registry at ``path``, else ``$TRACEFREEZE_STATE_KEYS_FILE``, else
        ``<state_dir>/keys/state-keys.toml``; a missing registry is a ``TracefreezeError``."""
        registry = RegistryFile(
            path or state_keys_file(settings.state_dir),
            on_change=lambda message: log.info(message, audit=True),
            on_error=lambda message: log.error(message, audit=True),
        )
        log.info("State key registry loaded", keys=len(registry.current().keys))
        return cls(registry)

    def check(self, record: ConsumerRecord) -> Answer | Rejection:
        """The verified answer, or the rejection (already recorded as an audit event)."""
        outcome = verify(
            record.value,
            record.headers,
            self.registry,
            self.clock(),
            self.guard,
            self.tolerance,
            position=(record.topic, record.partition, record.offset),
        )
        if not isinstance(outcome, Rejection):
            outcome = self.envelope(record, outcome)
        if isinstance(outcome, Rejection):
            self.audit(record, outcome)
        return outcome

    def envelope(self, record: ConsumerRecord, answer: Answer) -> Answer | Rejection:
        """The verified answer if its CloudEvents headers and key agree with it; else an
        ``envelope`` rejection, and its event id is forgotten so that a corrected resend
        is not taken for a replay."""
        problem = envelope_problem(answer, record.key, record.headers)
        if problem is None:
            return answer
        self.guard.forget(answer.event_id, answer.state)
        key_ids = [v for k, v in record.headers or () if k == HEADER_KEY_ID]
        key_id = bytes(key_ids[0] or b"").decode(errors="replace") if key_ids else None
        detail = f"answer {answer.event_id}: {problem}"
        return Rejection(DeadLetterReason.ENVELOPE, detail, answer.event_id, key_id)

    def audit(self, record: ConsumerRecord, rejection: Rejection) -> None:
        key = self.registry.get(rejection.key_id) if rejection.key_id else None
        log.warning(
            "answer rejected",
            audit=True,
            reason_code=rejection.reason_code,
            event_id=rejection.event_id,
            key_id=rejection.key_id,
            state=key.state if key else None,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )
