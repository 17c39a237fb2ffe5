"""The Court's actions on a request, one audited update each (RS 93-109, Rules 99 and 221;
escalation decisions under RS 87(7) and ICC-ASP/10/Res.5).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas import court as c
    from schemas.clocks import DeadlineExtension, EscalationDecision, FreezeLimitResponse
    from schemas.views import AnswerReceipt
    from workflows.request_guard import Guarded


class CourtActions(Guarded):
    """Updates that carry the Court's actions; mixed into RequestWorkflow."""

    @workflow.update
    def respond_to_consultation(self, m: c.ConsultationResponse) -> AnswerReceipt:
        """The Court supplies information or modifies the request (RS 97, 93(3), 96(3))."""
        return self._take_guarded(m, "consultation_response")

    @workflow.update
    def decide_postponement(self, m: c.PostponementDecision) -> AnswerReceipt:
        """The Court agrees a postponement period or refuses it (RS 94)."""
        return self._take_guarded(m, "postponement_decision")

    @workflow.update
    def resume_execution(self, m: c.ResumeExecution) -> AnswerReceipt:
        """A postponement ends: the RS 95 challenge is decided or the RS 94 period ran out."""
        return self._take_guarded(m, "resume_execution")

    @workflow.update
    def confirm_urgent_request(self, m: c.UrgentConfirmation) -> AnswerReceipt:
        """An urgent request is confirmed through the formal channel (RS 96(1))."""
        return self._take_guarded(m, "urgent_confirmation")

    @workflow.update
    def notify_rule99(self, m: c.Rule99Notification) -> AnswerReceipt:
        """The person is notified after an ex parte measure was executed (Rule 99)."""
        return self._take_guarded(m, "rule99_notification")

    @workflow.update
    def decide_rule99(self, m: c.Rule99Decision) -> AnswerReceipt:
        """The Chamber maintains, modifies or revokes the measure after observations (Rule 99)."""
        return self._take_guarded(m, "rule99_decision")

    @workflow.update
    def withdraw(self, m: c.Withdrawal) -> AnswerReceipt:
        """The Court withdraws the request; restrained assets are released."""
        return self._take_guarded(m, "withdrawal")

    @workflow.update
    def order_forfeiture(self, m: c.ForfeitureOrder) -> AnswerReceipt:
        """Forfeiture ordered (RS 77(2)(b)) of frozen or seized, uncontested assets."""
        return self._take_guarded(m, "forfeiture_order")

    @workflow.update
    def decide_third_party_claim(self, m: c.ThirdPartyClaimDecision) -> AnswerReceipt:
        """The Court decides a bona fide third party's claim (RS 93(1)(k))."""
        return self._take_guarded(m, "third_party_claim_decision")

    @workflow.update
    def transfer_to_court(self, m: c.TransferToCourt) -> AnswerReceipt:
        """Forfeited property or its value is transferred to the Court (RS 109(3))."""
        return self._take_guarded(m, "transfer_to_court")

    @workflow.update
    def allocate(self, m: c.Allocation) -> AnswerReceipt:
        """The transferred value is allocated, reparations first (Rule 221)."""
        return self._take_guarded(m, "allocation")

    @workflow.update
    def release(self, m: c.Release) -> AnswerReceipt:
        """Restrained assets are released (acquittal, withdrawal, revocation)."""
        return self._take_guarded(m, "release")

    @workflow.update
    def close(self, m: c.CloseRequest) -> AnswerReceipt:
        """The Registry closes the request; never while an asset is unsettled."""
        return self._take_guarded(m, "close")

    @workflow.update
    def decide_escalation(self, m: EscalationDecision) -> AnswerReceipt:
        """A person decides a proposed step 3-5 (Chamber report, RS 87(7), Assembly)."""
        return self._take_guarded(m, "escalation_decision")

    @workflow.update
    def extend_deadline(self, m: DeadlineExtension) -> AnswerReceipt:
        """A Chamber extends a stage's deadline (audited)."""
        return self._take_guarded(m, "deadline_extension")

    @workflow.update
    def respond_to_freeze_limit(self, m: FreezeLimitResponse) -> AnswerReceipt:
        """A Chamber keeps or limits a freeze a State proposed to limit (RS 97), however late."""
        return self._take_guarded(m, "freeze_limit_response")

    @decide_escalation.validator
    def _v_decide_escalation(self, m: EscalationDecision) -> None:
        self._validate(m, "escalation_decision")

    @extend_deadline.validator
    def _v_extend(self, m: DeadlineExtension) -> None:
        self._validate(m, "deadline_extension")

    @respond_to_freeze_limit.validator
    def _v_freeze_limit_response(self, m: FreezeLimitResponse) -> None:
        self._validate(m, "freeze_limit_response")

    @respond_to_consultation.validator
    def _v_respond(self, m: c.ConsultationResponse) -> None:
        self._validate(m, "consultation_response")

    @decide_postponement.validator
    def _v_decide_postponement(self, m: c.PostponementDecision) -> None:
        self._validate(m, "postponement_decision")

    @resume_execution.validator
    def _v_resume(self, m: c.ResumeExecution) -> None:
        self._validate(m, "resume_execution")

    @confirm_urgent_request.validator
    def _v_confirm(self, m: c.UrgentConfirmation) -> None:
        self._validate(m, "urgent_confirmation")

    @notify_rule99.validator
    def _v_notify(self, m: c.Rule99Notification) -> None:
        self._validate(m, "rule99_notification")

    @decide_rule99.validator
    def _v_decide_rule99(self, m: c.Rule99Decision) -> None:
        self._validate(m, "rule99_decision")

    @withdraw.validator
    def _v_withdraw(self, m: c.Withdrawal) -> None:
        self._validate(m, "withdrawal")

    @order_forfeiture.validator
    def _v_forfeiture(self, m: c.ForfeitureOrder) -> None:
        self._validate(m, "forfeiture_order")

    @decide_third_party_claim.validator
    def _v_decide_claim(self, m: c.ThirdPartyClaimDecision) -> None:
        self._validate(m, "third_party_claim_decision")

    @transfer_to_court.validator
    def _v_transfer(self, m: c.TransferToCourt) -> None:
        self._validate(m, "transfer_to_court")

    @allocate.validator
    def _v_allocate(self, m: c.Allocation) -> None:
        self._validate(m, "allocation")

    @release.validator
    def _v_release(self, m: c.Release) -> None:
        self._validate(m, "release")

    @close.validator
    def _v_close(self, m: c.CloseRequest) -> None:
        self._validate(m, "close")
