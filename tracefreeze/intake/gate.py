"""The bridge's gate: only a State's answer signed by a valid key of that State gets through.

One ``AnswerGate`` per bridge process holds the State key registry (re-read when its file
changes: ``key_registry.RegistryFile``), one ``ReplayGuard`` and one ``Tolerance``. Every
message on ``tracefreeze.state-answers`` passes ``check``, in this order: its size, the
signature, the key and the body (``tracefreeze/security/verify.py``), then the CloudEvents
envelope against the verified body (``tracefreeze/intake/envelope.py``), then the answer's age
as the broker saw it, judged for an operator's authenticated replay by the original record's
timestamp (``tracefreeze/intake/replay_auth.py``). ``screen`` does it for a partition's fetched
records, in order.

Age. An answer is judged by when it reached Kafka, not by when the bridge happens to read it:
a bridge down for ten days must still take the answers Kafka kept for it. So ``sent_at`` may
be at most ``answer_max_delivery_days`` before the record's broker timestamp (the State sent
it promptly), and at most ``answer_max_age_days`` before now, a limit the settings keep at
least the answers topic's retention plus that delivery window (``Settings``). The replay
guard remembers event ids as long. With ``message.timestamp.type=LogAppendTime`` on the topic
the timestamp is the broker's own clock; with ``CreateTime`` it is the producer's, taken no
later than now (a State that back-dates it only refuses its own answer).

Either a verified answer comes out (``ReceivedAnswer``), or a ``Rejection`` whose reason the
bridge writes to the dead-letter topic (``tracefreeze/intake/delivery.py``). Each rejection is
also an audit event: the structlog warning ``answer rejected`` with the reason code, event id,
key id, the key's State and the Kafka position, never the message's contents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from aiokafka.structs import ConsumerRecord

from schemas.deadletter import HEADER_REPLAYED_FROM, DeadLetterReason
from schemas.request import request_workflow_id
from tracefreeze.config import Settings
from tracefreeze.intake.envelope import envelope_problem
from tracefreeze.intake.replay_auth import NOT_CLAIMED, ReplayKeyUnavailable, ReplayMark, replay_key
from tracefreeze.intake.replay_auth import check as check_replay
from tracefreeze.intake.routing import Answer
from tracefreeze.ops.metrics import FORGED_REPLAYS
from tracefreeze.security.canonical import HEADER_KEY_ID
from tracefreeze.security.key_registry import KeyRegistry, RegistryFile, state_keys_file
from tracefreeze.security.replay_guard import DEFAULT_TOLERANCE, ReplayGuard, Tolerance
from tracefreeze.security.verify import Rejection, verify

log = structlog.get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


DEFAULT_MAX_AGE = timedelta(days=Settings.model_fields["answer_max_age_days"].default)
DEFAULT_MAX_DELIVERY = timedelta(days=Settings.model_fields["answer_max_delivery_days"].default)


@dataclass(frozen=True)
class ReceivedAnswer:
    """A verified answer and the record it came in."""

    record: ConsumerRecord
    answer: Answer
    replayed: bool = False
    """An operator's replay whose MAC verified (``tracefreeze/intake/replay_auth.py``); a bare
    ``tf_replayed_from`` header, which any producer can write, does not make it one."""

    @property
    def workflow_id(self) -> str:
        return request_workflow_id(self.answer.request_reference, self.answer.state)

    @property
    def update_id(self) -> str:
        """The Temporal update id its delivery uses. An answer: its event id, so a redelivered
        answer is a duplicate of the update. An operator's authenticated replay: its own id,
        from the event id, the dead-letter record it came from and its own position on the
        answers topic. Temporal keeps an update's outcome by id, so a replay under the event id
        would get back the failure that dead-lettered it (e.g. ``AnswerNotApplied``) and never
        be tried again; the same replay record redelivered keeps its id, and the request's own
        seen event ids still take the answer once however often it is replayed."""
        if not self.replayed:
            return self.answer.event_id
        record = self.record
        marks = [bytes(v or b"") for k, v in record.headers or () if k == HEADER_REPLAYED_FROM]
        came_from = marks[0].decode(errors="replace") if marks else "?"
        return f"{self.answer.event_id}~replay~{came_from}~{record.partition}:{record.offset}"

    @property
    def size(self) -> int:
        return len(self.record.value or b"")


class AnswerGate:
    """Signature, key, addressing, freshness and replay checks of one bridge process."""

    def __init__(
        self,
        registry: KeyRegistry | RegistryFile,
        guard: ReplayGuard | None = None,
        tolerance: Tolerance | None = None,
        clock: Callable[[], datetime] = _now,
        max_delivery: timedelta = DEFAULT_MAX_DELIVERY,
        replay_key: bytes | None = None,
    ) -> None:
        self.source, self.clock, self.max_delivery = registry, clock, max_delivery
        self.replay_key = replay_key
        """The Court's replay key (``tracefreeze/intake/replay_auth.py``); None: no replays."""
        self.tolerance = tolerance or Tolerance(DEFAULT_MAX_AGE, DEFAULT_TOLERANCE.max_skew)
        self.guard = guard or ReplayGuard(ttl=self.tolerance.max_age)

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
        tolerance = Tolerance(
            timedelta(days=settings.answer_max_age_days), DEFAULT_TOLERANCE.max_skew
        )
        try:
            key = replay_key(settings.state_dir, ensure=True)
        except ReplayKeyUnavailable as err:  # the bridge still runs; no record is a replay
            log.error(f"{err}; no record will be taken as a replay", audit=True)
            key = None
        return cls(
            registry,
            ReplayGuard(ttl=tolerance.max_age),
            tolerance,
            max_delivery=timedelta(days=settings.answer_max_delivery_days),
            replay_key=key,
        )

    def screen(self, records: list[ConsumerRecord]) -> list[ReceivedAnswer | Rejection]:
        """``check`` on a partition's fetched records, in order: each verified answer (marked
        if it is an operator's authenticated replay), or its rejection."""
        out: list[ReceivedAnswer | Rejection] = []
        for record in records:
            with structlog.contextvars.bound_contextvars(**where(record)):
                checked = self.check(record)
            if isinstance(checked, Rejection):
                out.append(checked)
            else:
                out.append(ReceivedAnswer(record, checked, self.replay(record).authentic))
        return out

    def replay(self, record: ConsumerRecord) -> ReplayMark:
        """Whether ``record`` is an operator's authenticated replay (pure: no logging)."""
        if self.replay_key is None and not record.headers:
            return NOT_CLAIMED
        return check_replay(self.replay_key, record.key, record.value, record.headers)

    def check(self, record: ConsumerRecord) -> Answer | Rejection:
        """The verified answer, or the rejection (already recorded as an audit event).

        An authenticated replay (``replay``) is judged by the original record's broker
        timestamp carried under its MAC: it was fresh when it first reached Kafka, and a
        request fixed weeks later must still be able to take it. A replay claim that does not
        verify is an audit event, and the answer is judged as a fresh one."""
        now = self.clock()
        mark = self.replay(record)
        tolerance = self.tolerance
        if mark.authentic:
            # sent_at must be within max_age of when Kafka first received it, not of now.
            waited = max(now - self._at(mark.received_ms), timedelta(0))
            tolerance = Tolerance(tolerance.max_age + waited, tolerance.max_skew)
        outcome = verify(
            record.value,
            record.headers,
            self.registry,
            now,
            self.guard,
            tolerance,
            position=(record.topic, record.partition, record.offset),
        )
        if not isinstance(outcome, Rejection):
            outcome = self.envelope(record, outcome)
        if not isinstance(outcome, Rejection):
            outcome = self.delivered_promptly(record, outcome, mark)
        if isinstance(outcome, Rejection):
            self.audit(record, outcome)
        elif mark.claimed and not mark.authentic:
            FORGED_REPLAYS.labels(outcome.state).inc()
            _audit(
                record,
                "replay claim refused; handled as a fresh answer",
                problem=mark.problem,
                event_id=outcome.event_id,
                state=outcome.state,
            )
        return outcome

    def _at(self, ms: int | None) -> datetime:
        try:
            return min(datetime.fromtimestamp((ms or 0) / 1000, UTC), self.clock())
        except (OverflowError, OSError, ValueError):
            return self.clock()

    def envelope(self, record: ConsumerRecord, answer: Answer) -> Answer | Rejection:
        """The verified answer if its CloudEvents headers and key agree with it; else an
        ``envelope`` rejection, and its event id is forgotten so that a corrected resend
        is not taken for a replay."""
        problem = envelope_problem(answer, record.key, record.headers)
        if problem is None:
            return answer
        return self._refuse(record, answer, DeadLetterReason.ENVELOPE, problem)

    def received_at(
        self, record: ConsumerRecord, mark: ReplayMark | None = None
    ) -> datetime | None:
        """The record's broker timestamp, no later than now; None if it has none. For an
        authenticated replay, the original record's (``mark``; checked if not given)."""
        mark = self.replay(record) if mark is None else mark
        if mark.authentic:
            return self._at(mark.received_ms)
        if record.timestamp is None or record.timestamp <= 0:
            return None
        try:
            stamped = datetime.fromtimestamp(record.timestamp / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return min(stamped, self.clock())

    def delivered_promptly(
        self, record: ConsumerRecord, answer: Answer, mark: ReplayMark | None = None
    ) -> Answer | Rejection:
        """The answer, unless it reached Kafka more than ``max_delivery`` after its
        ``sent_at`` (``too_old``, judged by the record's timestamp, or an authenticated
        replay's original one; its event id forgotten)."""
        received = self.received_at(record, mark)
        if received is None or answer.sent_at >= received - self.max_delivery:
            return answer
        problem = (
            f"sent_at {answer.sent_at.isoformat()} is more than {self.max_delivery} before "
            f"Kafka received it ({received.isoformat()})"
        )
        return self._refuse(record, answer, DeadLetterReason.TOO_OLD, problem)

    def _refuse(
        self, record: ConsumerRecord, answer: Answer, reason: DeadLetterReason, problem: str
    ) -> Rejection:
        """A rejection of a decoded answer under the record's key id; its event id is
        forgotten so that a corrected resend is not taken for a replay."""
        self.guard.forget(answer.event_id, answer.state)
        key_ids = [v for k, v in record.headers or () if k == HEADER_KEY_ID]
        key_id = bytes(key_ids[0] or b"").decode(errors="replace") if key_ids else None
        detail = f"answer {answer.event_id}: {problem}"
        return Rejection(reason, detail, answer.event_id, key_id)

    def audit(self, record: ConsumerRecord, rejection: Rejection) -> None:
        key = self.registry.get(rejection.key_id) if rejection.key_id else None
        _audit(
            record,
            "answer rejected",
            reason_code=rejection.reason_code,
            event_id=rejection.event_id,
            key_id=rejection.key_id,
            state=key.state if key else None,
        )


def where(record: ConsumerRecord) -> dict[str, str | int]:
    """Where a record lies in Kafka, for every log line about its answer."""
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}


def _audit(record: ConsumerRecord, event: str, **fields: object) -> None:
    """An audit warning about an answer, with where its record lies in Kafka."""
    log.warning(event, audit=True, **fields, **where(record))
