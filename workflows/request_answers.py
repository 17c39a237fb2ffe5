"""The State's answers to a request, one update each (docs/legal-process.md, 'What a State
may answer').

Each update's id is the State's event id; its validator applies the answer's rule
(``workflows/rules.py``) without writing anything, and the handler records it once.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas import answers as a
    from schemas.views import AnswerReceipt
    from workflows.request_guard import Guarded


class StateAnswers(Guarded):
    """Updates that carry a State's answers; mixed into RequestWorkflow."""

    @workflow.update
    def acknowledge(self, m: a.Acknowledgement) -> AnswerReceipt:
        """Acknowledgement of receipt (practice): starts the execution clock."""
        return self._take_guarded(m)

    @workflow.update
    def consult(self, m: a.Consultation) -> AnswerReceipt:
        """Consultation (RS 97(a), 97(c), 93(3), 96(3)): the clock pauses."""
        return self._take_guarded(m)

    @workflow.update
    def postpone(self, m: a.Postponement) -> AnswerReceipt:
        """Postponement for another investigation (RS 94) or an admissibility challenge (RS 95)."""
        return self._take_guarded(m)

    @workflow.update
    def deny(self, m: a.Denial) -> AnswerReceipt:
        """Denial on national-security grounds, with reasons (RS 93(4), 93(6))."""
        return self._take_guarded(m)

    @workflow.update
    def report_execution(self, m: a.ExecutionReport) -> AnswerReceipt:
        """Execution report (RS 99): per-asset progress, partial or final."""
        return self._take_guarded(m)

    @workflow.update
    def report_no_assets(self, m: a.NoAssetsReport) -> AnswerReceipt:
        """No assets found (RS 99): the measure closes for this State."""
        return self._take_guarded(m)

    @workflow.update
    def claim_as_third_party(self, m: a.ThirdPartyClaim) -> AnswerReceipt:
        """A bona fide third party claims an asset (RS 93(1)(k), 77(2)(b), Rule 99)."""
        return self._take_guarded(m)

    @workflow.update
    def challenge_domestically(self, m: a.DomesticChallenge) -> AnswerReceipt:
        """A domestic challenge or remedy is lodged or decided (cf. EU 2018/1805 art. 33)."""
        return self._take_guarded(m)

    @workflow.update
    def update_asset_management(self, m: a.AssetManagementUpdate) -> AnswerReceipt:
        """Valuation, depreciation or interlocutory sale (cf. EU 2018/1805 art. 28)."""
        return self._take_guarded(m)

    @workflow.update
    def propose_freeze_limit(self, m: a.FreezeLimitProposal) -> AnswerReceipt:
        """The State proposes to limit a freeze's duration: an RS 97 consultation."""
        return self._take_guarded(m)

    @workflow.update
    def notify_channel_change(self, m: a.ChannelChangeNotice) -> AnswerReceipt:
        """The State changes channel or language (Rule 180): for future requests, not this one."""
        return self._take_guarded(m)

    @notify_channel_change.validator
    def _v_channel(self, m: a.ChannelChangeNotice) -> None:
        self._validate(m)

    @acknowledge.validator
    def _v_acknowledge(self, m: a.Acknowledgement) -> None:
        self._validate(m)

    @consult.validator
    def _v_consult(self, m: a.Consultation) -> None:
        self._validate(m)

    @postpone.validator
    def _v_postpone(self, m: a.Postponement) -> None:
        self._validate(m)

    @deny.validator
    def _v_deny(self, m: a.Denial) -> None:
        self._validate(m)

    @report_execution.validator
    def _v_report_execution(self, m: a.ExecutionReport) -> None:
        self._validate(m)

    @report_no_assets.validator
    def _v_report_no_assets(self, m: a.NoAssetsReport) -> None:
        self._validate(m)

    @claim_as_third_party.validator
    def _v_claim(self, m: a.ThirdPartyClaim) -> None:
        self._validate(m)

    @challenge_domestically.validator
    def _v_challenge(self, m: a.DomesticChallenge) -> None:
        self._validate(m)

    @update_asset_management.validator
    def _v_management(self, m: a.AssetManagementUpdate) -> None:
        self._validate(m)

    @propose_freeze_limit.validator
    def _v_freeze_limit(self, m: a.FreezeLimitProposal) -> None:
        self._validate(m)
