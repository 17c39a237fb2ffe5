"""Every State answer and Court action, by name, with the rule that checks and applies it.

The names are the actions of the state machine (``workflows/state_machine.py``).
"""

from __future__ import annotations

from typing import Any

from schemas.request import CourtRequest
from schemas.views import RequestCarry
from workflows import asset_rules as a
from workflows import clock_rules as k
from workflows import request_rules as r
from workflows.bounds import check_bounds
from workflows.outcome import Rule, no_check

STATE_ANSWERS: dict[str, Rule] = {
    "acknowledgement": Rule(no_check, r.apply_acknowledgement),
    "consultation": Rule(no_check, r.apply_consultation),
    "postponement": Rule(no_check, r.apply_postponement),
    "denial": Rule(r.check_denial, r.apply_denial),
    "execution_report": Rule(r.check_execution, r.apply_execution),
    "no_assets": Rule(r.check_no_assets, r.apply_no_assets),
    "third_party_claim": Rule(a.check_contest, a.apply_contest),
    "domestic_challenge": Rule(a.check_contest, a.apply_contest),
    "asset_management": Rule(a.check_management, a.apply_management),
    "freeze_limit_proposal": Rule(a.check_freeze_limit, k.apply_freeze_limit_clock),
    "channel_change": Rule(no_check, k.apply_channel_change),
}

COURT_ACTIONS: dict[str, Rule] = {
    "consultation_response": Rule(r.check_consultation_response, r.apply_consultation_response),
    "postponement_decision": Rule(r.check_postponement_decision, r.apply_postponement_decision),
    "resume_execution": Rule(no_check, r.apply_resume),
    "urgent_confirmation": Rule(r.check_urgent_confirmation, r.apply_urgent_confirmation),
    "rule99_notification": Rule(r.check_rule99_notification, r.apply_rule99_notification),
    "rule99_decision": Rule(r.check_rule99_decision, r.apply_rule99_decision),
    "withdrawal": Rule(no_check, r.apply_withdrawal),
    "forfeiture_order": Rule(a.check_forfeiture, a.apply_forfeiture),
    "third_party_claim_decision": Rule(a.check_claim_decision, a.apply_claim_decision),
    "transfer_to_court": Rule(a.check_transfer, a.apply_transfer),
    "allocation": Rule(a.check_allocation, a.apply_allocation),
    "release": Rule(a.check_release, a.apply_release),
    "close": Rule(r.check_close, r.apply_close),
    "escalation_decision": Rule(k.check_decision, k.apply_decision),
    "deadline_extension": Rule(k.check_extension, k.apply_extension),
    "freeze_limit_response": Rule(k.check_freeze_limit_response, k.apply_freeze_limit_response),
}


def bounded(rule: Rule) -> Rule:
    """The rule, checking first that every value keeps the request's bounds (bounds.py)."""

    def check(record: RequestCarry, request: CourtRequest, m: Any) -> None:
        check_bounds(record, request, m)
        rule.check(record, request, m)

    return Rule(check, rule.apply)


RULES: dict[str, Rule] = {
    name: bounded(rule) for name, rule in {**STATE_ANSWERS, **COURT_ACTIONS}.items()
}
"""Every rule by name, each checking the request's bounds before its own conditions."""
