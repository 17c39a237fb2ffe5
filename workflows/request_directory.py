"""What a request tells beyond itself about its party and its transmission.

- Rule 180: a change of channel or language the State notified on this request goes to the
  party's directory workflow (``workflows/party_directory.py``), for future requests only:
  the request keeps its own channel and language. An ex parte request does not name itself
  there (Rule 99(2)).
- The timeline's first entry: transmission, the request it supplements, and a named person's
  override of the completeness check (RS 96(2); Rule 176(2)) with its findings.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.directory import NOTICE_SIGNAL, DirectoryNotice, party_workflow_id
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
    """Signal each queued notice to the directory of the request's own State (its id is
    derived from the request, never from the notice). The directory takes each event id
    once, so a notice signalled again after a retry changes nothing. Without a directory
    (a request started with no client) the notice stays where it was recorded: on the
    request's timeline and in the Registry's ``channel_change_notified`` event."""
    while outbox:
        notice = outbox[0]
        party = workflow.get_external_workflow_handle(party_workflow_id(notice.state))
        try:
            await party.signal(NOTICE_SIGNAL, notice)
        except Exception as err:  # not found, or closed: never the request's fault
            workflow.logger.warning(
                "no party directory took the notice",
                extra={"event_id": notice.event_id, "fault": type(err).__name__},
            )
        outbox.pop(0)
