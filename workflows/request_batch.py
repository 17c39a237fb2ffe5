"""A backlog of a State's answers to one request, applied in one update.

When the bridge finds several answers to the same request queued in Kafka (it was down, or the
State's system sent a burst), it hands them over together: one update, one round of events,
one visibility write, instead of one of each per answer. Each answer is still taken exactly as
it would be alone — validated by its own rule (``workflows/rules.py``), deduplicated on its
event id, accepted or refused with the reason — so the bridge can dead-letter a refused one
and commit the rest. The update's id is derived from the answers' event ids.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.answers import AnswerBatch
    from schemas.views import AnswerReceipt, BatchReceipt
    from workflows.outcome import Rejection
    from workflows.request_guard import Guarded


class AnswerBatches(Guarded):
    """The batch update; mixed into RequestWorkflow."""

    @workflow.update
    def take_answers(self, batch: AnswerBatch) -> BatchReceipt:
        """Several answers of the requested State (RS 93(1)(k), 96, 99), in their order."""
        receipts: list[AnswerReceipt] = []
        for m in batch.answers:
            try:
                receipts.append(self._take_guarded(m, refresh=False))
            except ApplicationError as refused:  # refused, or failed and rolled back: no write
                receipt = AnswerReceipt(
                    event_id=m.event_id, duplicate=False, status=self._rec.status
                )
                receipts.append(receipt.model_copy(update={"rejected": refused.message}))
        if any(not r.duplicate and r.rejected is None for r in receipts):
            self._refresh_visibility_safely()  # after every answer is applied or rolled back
        return BatchReceipt(receipts=receipts)

    @take_answers.validator
    def _v_take_answers(self, batch: AnswerBatch) -> None:
        """A batch is refused whole only if an answer is not addressed to this request."""
        for m in batch.answers:
            try:
                self._check_addressed(m)
            except Rejection as err:
                reason = str(err)
                raise ApplicationError(reason, type="AnswerRejected", non_retryable=True) from None
