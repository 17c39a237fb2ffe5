"""A party's directory takes a Court action only signed by its organ, for this party, and only
from an organ that may take it (workflows/party_keys.py).

What the directory holds is what every later request to the party is transmitted by (Rule 180:
the channel and language) and what the party's law requires (RS 96(3)): a forged "agreed
change" would route the Court's next requests where the forger chose. As on a request and a
case, the organ's signature is checked first, against the organ key registry the directory
read at its start, and then the table of powers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from schemas.court import party_address, request_address
from schemas.directory import AgreedContactChange, OpenNationalLawConsultation, party_workflow_id
from tests.workflows import party_directory_support as directories
from tests.workflows.party_directory_support import Court, court_fields, fresh_code
from tests.workflows.support import court_request
from tracefreeze.errors import TracefreezeError
from tracefreeze.security.organ_keys import signed
from workflows.party_keys import PARTY_POWERS

env = pytest.fixture(name="env")(directories.server_of_each_test)
courts = pytest.fixture(name="courts")(directories.court_maker)


async def refused(court: Court, code: str, update: str, action: Any) -> str:
    handle = court.handle(party_workflow_id(code))
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(update, action, id=action.event_id)
    return str(err.value.cause)


async def test_an_unsigned_forged_or_misaddressed_action_is_refused_and_a_signed_one_taken(
    env: WorkflowEnvironment, worker: Any, courts: Callable[..., Court]
) -> None:
    """Rule 180(2), RS 96(3): only the Registry's signed act for this party's directory."""
    code, other = fresh_code(), fresh_code()
    court = courts(code, other)
    await court.submit(court_request(requested_state=code))  # the directory starts
    await court.party(code)
    now = await env.get_current_time()

    def change(**fields: Any) -> AgreedContactChange:
        return AgreedContactChange(
            **court_fields(channel="central_authority", languages=("fr",), **fields),
            effective_at=now + timedelta(days=10),
        )

    update = "record_agreed_change"
    assert "is not signed" in await refused(court, code, update, change())
    for_other = signed(change(), party_address(other))
    assert "signed for another request, case or party" in await refused(
        court, code, update, for_other
    )
    for_request = signed(change(), request_address("ICC-01/22-REQ-0001", code))
    assert "signed for" in await refused(court, code, update, for_request)
    forged = signed(change(), party_address(code)).model_copy(update={"channel": "forger"})
    assert "does not verify" in await refused(court, code, update, forged)
    by_chamber = signed(change(decided_by="Pre-Trial Chamber II"), party_address(code))
    reason = await refused(court, code, update, by_chamber)
    assert "may not take agreed_contact_change" in reason and "Rule 180" in reason
    assert (await court.party(code)).pending == []

    taken = await court.parties.act(code, change())  # the client signs for this party
    assert [c.channel for c in taken.pending] == ["central_authority"]


async def test_a_chamber_may_open_a_national_law_consultation_the_table_says_who(
    env: WorkflowEnvironment, worker: Any, courts: Callable[..., Court]
) -> None:
    """RS 96(3): the Court asks — a Chamber, the Presidency or the Registry (Rule 176(2))."""
    code = fresh_code()
    court = courts(code)
    await court.submit(court_request(requested_state=code))
    await court.party(code)
    opened = OpenNationalLawConsultation(
        **court_fields(decided_by="Pre-Trial Chamber II", questions="What does a freeze need?")
    )
    view = await court.parties.act(code, opened)
    assert [(c.consultation_id, c.opened_by) for c in view.consultations] == [
        (opened.event_id, "Pre-Trial Chamber II")
    ]
    assert {action for action, _ in PARTY_POWERS} == {
        "agreed_contact_change",
        "national_law_consultation",
        "national_law_consultation_closed",
    }
    by_prosecutor = OpenNationalLawConsultation(
        **court_fields(decided_by="Prosecutor", questions="And a seizure?")
    )
    with pytest.raises(TracefreezeError, match="may not take national_law_consultation"):
        await court.parties.act(code, by_prosecutor)
