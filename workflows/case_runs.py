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


class HandOver:
    """Whether this run hands over, decided only at steps its history holds: the run loop and
    a request's report. The run loop's wake-up condition reads ``due`` and never the history's
    size or the server's suggestion itself: the SDK re-evaluates a condition in every
    activation, and one that history does not hold (a task whose only update the validator
    refused) would hand over where a replay does not (a non-deterministic history)."""

    def __init__(self, reports_per_run: int | None) -> None:
        self.reports_per_run = reports_per_run
        self.reports = 0
        self.due = False

    def reported(self) -> None:
        self.reports += 1
        self.check()

    def check(self) -> bool:
        self.due = self.due or hand_over_due(self.reports_per_run, self.reports)
        return self.due
