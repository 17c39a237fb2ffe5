"""Typed search attributes of a request (never personal data or asset details: not encrypted).

Every Temporal user sees them, so an ex parte request (Rule 99(2)) shows only where it stands
(status, escalation, deadlines): no case, State, measures or value (``request_attributes``).

Run as ``python -m workflows.search_attributes`` to print the ``--search-attribute`` flags
with which the local dev server registers them at start.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, SearchAttributeUpdate

from schemas.situation import situation_of

CASE_NUMBER = SearchAttributeKey.for_keyword("CaseNumber")
REQUESTED_STATE = SearchAttributeKey.for_keyword("RequestedState")
REQUEST_STATUS = SearchAttributeKey.for_keyword("RequestStatus")
MEASURES = SearchAttributeKey.for_keyword_list("Measures")
ESCALATION_LEVEL = SearchAttributeKey.for_int("EscalationLevel")
OVERDUE = SearchAttributeKey.for_bool("Overdue")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
FROZEN_VALUE_EUR = SearchAttributeKey.for_float("FrozenValueEUR")
PARTY_KIND = SearchAttributeKey.for_keyword("PartyKind")
"""What the requested party is to the Court (``schemas.policy.PartyKind``), never its name."""
SITUATION = SearchAttributeKey.for_keyword("Situation")
"""The request's situation number (public: ICC-01/22), from its case number."""

ALL = (
    CASE_NUMBER,
    REQUESTED_STATE,
    REQUEST_STATUS,
    MEASURES,
    ESCALATION_LEVEL,
    OVERDUE,
    NEXT_DEADLINE,
    FROZEN_VALUE_EUR,
    PARTY_KIND,
    SITUATION,
)

REVEALING = (CASE_NUMBER, REQUESTED_STATE, MEASURES, FROZEN_VALUE_EUR, PARTY_KIND, SITUATION)
"""What an ex parte request never shows: which case, situation and party (or what kind of
party), what is asked, what is held. A situation number is public; that an ex parte request
exists in it is not."""


def request_attributes(
    request: Any, status: str, frozen_eur: float, party_kind: str | None = None
) -> list[SearchAttributeUpdate[Any]]:
    """The request's own attributes as the workflow upserts them (clock attributes apart);
    the party's kind as recorded in its policy at start, when it has one."""
    situation = situation_of(request.case_number)
    values: list[tuple[SearchAttributeKey[Any], Any]] = [
        (CASE_NUMBER, request.case_number),
        (REQUESTED_STATE, request.requested_state),
        (REQUEST_STATUS, status),
        (MEASURES, [m.value for m in request.measures]),
        (FROZEN_VALUE_EUR, frozen_eur),
        *([(SITUATION, situation)] if situation else []),
        *([(PARTY_KIND, party_kind)] if party_kind else []),
    ]
    return [k.value_set(v) for k, v in values if not (request.ex_parte and k in REVEALING)]


def initial_attributes(
    request: Any, status: str, party_kind: str | None = None
) -> list[SearchAttributePair[Any]]:
    """The attributes a request is started with (the client's ``submit``)."""
    return [
        SearchAttributePair(u.key, u.value)
        for u in request_attributes(request, status, 0.0, party_kind)
        if u.key is not FROZEN_VALUE_EUR
    ]


_CLI_TYPE = {
    "KEYWORD": "Keyword",
    "KEYWORD_LIST": "KeywordList",
    "INT": "Int",
    "BOOL": "Bool",
    "DATETIME": "Datetime",
    "DOUBLE": "Double",
}


def dev_server_flags() -> list[str]:
    """``temporal server start-dev`` flags that register every key."""
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={_CLI_TYPE[key.indexed_value_type.name]}"]
    return flags


if __name__ == "__main__":
    print(" ".join(dev_server_flags()))
