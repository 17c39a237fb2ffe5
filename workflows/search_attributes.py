"""Typed search attributes of a request (never personal data or asset details: not encrypted).

Run as ``python -m workflows.search_attributes`` to print the ``--search-attribute`` flags
with which the local dev server registers them at start.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CASE_NUMBER = SearchAttributeKey.for_keyword("CaseNumber")
REQUESTED_STATE = SearchAttributeKey.for_keyword("RequestedState")
REQUEST_STATUS = SearchAttributeKey.for_keyword("RequestStatus")
MEASURES = SearchAttributeKey.for_keyword_list("Measures")
ESCALATION_LEVEL = SearchAttributeKey.for_int("EscalationLevel")
OVERDUE = SearchAttributeKey.for_bool("Overdue")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
FROZEN_VALUE_EUR = SearchAttributeKey.for_float("FrozenValueEUR")

ALL = (
    CASE_NUMBER,
    REQUESTED_STATE,
    REQUEST_STATUS,
    MEASURES,
    ESCALATION_LEVEL,
    OVERDUE,
    NEXT_DEADLINE,
    FROZEN_VALUE_EUR,
)

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
