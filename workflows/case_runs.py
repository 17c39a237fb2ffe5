"""When a case hands over to a fresh run (continue as new), carrying ``CaseCarry``.

The requests of a case report to it for as long as they live (years), and the server
terminates a run whose history nears 50 MB: so the case hands over well before, on the
server's suggestion, past a history size or length, or after a number of reports
(``reports_per_run``, set low by tests).
"""

from __future__ import annotations

from temporalio import workflow

HISTORY_BYTES_PER_RUN = 1_000_000
"""Continue as new past this history size (the server's hard limit is 50 MB)."""
HISTORY_EVENTS_PER_RUN = 2_000


def hand_over_due(reports_per_run: int | None, reports_this_run: int) -> bool:
    """Whether this run of the case should hand over to a fresh one."""
    info = workflow.info()
    if info.is_continue_as_new_suggested():
        return True
    if info.get_current_history_size() >= HISTORY_BYTES_PER_RUN:
        return True
    if info.get_current_history_length() >= HISTORY_EVENTS_PER_RUN:
        return True
    return reports_per_run is not None and reports_this_run >= reports_per_run
