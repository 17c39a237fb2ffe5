"""What a request tells beyond itself about its party and its transmission.

- Rule 180: a change of channel or language the State notified on this request goes to the
  party's directory workflow (``workflows/party_directory.py``), for future requests only:
  the request keeps its own channel and language. An ex parte request does not name itself
  there (Rule 99(2)).
- The timeline's first entry: transmission, the request it supplements, and a named person's
  override of the completeness check (RS 96(2); Rule 176(2)) with its findings.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from schemas.directory import FORWARD_NOTICE, DirectoryNotice
    from schemas.request import CourtRequest
    from workflows.carry import RequestCarry, RequestRun
    from workflows.outcome import Outcome


def transmission_note(inp: RequestRun) -> str:
    """The timeline's first entry: transmission, the request it supplements, and a named
    person's override of the completeness check (RS 96(2); Rule 176(2)) with its findings."""
    note = "transmitted to the State"
    if inp.request.supplements:
        note += f", supplementing request {inp.request.supplements}"
    override = inp.completeness_override
    if override is not None:
        articles = sorted({f.article for f in override.findings})
        note += (
            f"; incomplete ({len(override.findings)} findings: {'; '.join(articles)}), "
            f"transmitted by decision of {override.by}: {override.reason}"
        )
    return note


def queue_for_directory(
    rec: RequestCarry, request: CourtRequest, event_id: str, outcome: Outcome
) -> None:
    """Queue the Rule 180 change this answer carried, if any, for the party's directory."""
    change = outcome.directory
    if change is None:
        return
    rec.directory_outbox.append(
        DirectoryNotice(
            event_id=event_id,
            state=request.requested_state,
            channel=change.channel,
            language=change.language,
            noticed_at=change.noticed_at,
            effective_at=change.effective_at,
            request_reference=None if request.ex_parte else request.reference,
        )
    )


async def forward_to_directory(outbox: list[DirectoryNotice]) -> None:
    """Relay each queued notice to the directory of the request's own State (its ``state`` is
    the request's, never the answer's): an activity signs it with the workers' relay key and
    signals it, so the directory can tell it from a notice any client could signal
    (``workflows/notice_signatures.py``). The directory takes each event id once, so a notice
    relayed again after a retry changes nothing. Without a directory (a request started with
    no client), or a worker that cannot sign, the notice stays where it was recorded: on the
    request's timeline and in the Registry's ``channel_change_notified`` event."""
    while outbox:
        notice = outbox[0]
        try:
            await workflow.execute_activity(
                FORWARD_NOTICE,
                notice,
                result_type=bool,
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=RetryPolicy(
                    maximum_interval=timedelta(seconds=30), maximum_attempts=8
                ),
                summary="a Rule 180 notice to the party's directory",
            )
        except ActivityError as err:  # never the request's fault: it is on its timeline
            workflow.logger.warning(
                "no party directory took the notice",
                extra={"event_id": notice.event_id, "fault": type(err.cause).__name__},
            )
        outbox.pop(0)
