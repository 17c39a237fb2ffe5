"""Record the party-directory history that test_party_replay.py replays, from a real run of
PartyDirectoryWorkflow on a time-skipping test server.

Run from the repository root after a change to the workflow (and commit the result with the
change):

    PYTHONPATH=. python -m tests.workflows.record_party_histories

The scenario: a party's directory seeded from the static directory takes a State's Rule 180
notice (45 days), the Registry records an agreed time on it (Rule 180(2)), the agreed change
comes into force on its timer, and an RS 96(3) general consultation opens and ends with the
information supplied (two requirements registered).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.worker import Worker

import tests.organ_keys  # noqa: F401  (organ signing keys for the recorded run)
from activities.directory import relay_notice
from schemas.court import CourtAction, party_address
from schemas.directory import (
    NOTICE_SIGNAL,
    AgreedContactChange,
    CloseNationalLawConsultation,
    DirectoryNotice,
    OpenNationalLawConsultation,
    PartyContact,
    PartyRun,
    party_workflow_id,
)
from tests.builders import court_request
from tests.workflows.stopping import terminate
from tests.workflows.support import HISTORIES, ORGAN_KEYS, save_history, settle, start_env
from tracefreeze.policy import load_directory, load_policy, resolve
from tracefreeze.security.organ_keys import signed
from workflows.party_catalog import PARTY_UPDATES
from workflows.party_directory import PartyDirectoryWorkflow

PARTY_HISTORIES = HISTORIES / "party"
SCENARIO = "party-directory-notice-agreement-consultation"
DAY = timedelta(days=1)


def _court(**fields: object) -> dict[str, object]:
    return {
        "event_id": str(uuid.uuid4()),
        "decided_by": "Registrar",
        "decided_at": datetime(2026, 1, 1, tzinfo=UTC),
        **fields,
    }


async def act(party: WorkflowHandle[Any, Any], action: CourtAction) -> None:
    """The Registry's act on the party's directory, signed for it (``party_keys.py``)."""
    signed_for = signed(action, party_address("NLD"))
    await party.execute_update(PARTY_UPDATES[type(action)], signed_for, id=action.event_id)


async def record() -> None:
    PARTY_HISTORIES.mkdir(parents=True, exist_ok=True)
    env = await start_env()
    try:
        task_queue = f"record-party-{uuid.uuid4()}"
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[PartyDirectoryWorkflow],
            activities=[ORGAN_KEYS],
        ):
            contact = resolve(load_policy(), load_directory(), court_request()).contact
            assert contact is not None
            party = await env.client.start_workflow(
                PartyDirectoryWorkflow.run,
                PartyRun(code="NLD", seed=PartyContact.of(contact)),
                id=party_workflow_id("NLD"),
                task_queue=task_queue,
            )
            await settle(party)
            now = await env.get_current_time()
            notice = relay_notice(  # as the State's request relays it
                DirectoryNotice(
                    event_id=str(uuid.uuid4()),
                    state="NLD",
                    channel="central_authority",
                    language="fr",
                    noticed_at=now,
                    effective_at=now + 45 * DAY,
                    request_reference="ICC-01/22-REQ-HIST-0100",
                )
            )
            await party.signal(NOTICE_SIGNAL, notice)
            await settle(party)
            agreed = AgreedContactChange(
                **_court(
                    channel="central_authority",
                    languages=("fr", "en"),
                    effective_at=now + 10 * DAY,
                    notice_event_id=notice.event_id,
                )
            )
            await party.execute_update(
                PARTY_UPDATES[AgreedContactChange],
                signed(agreed, party_address("NLD")),
                id=agreed.event_id,
            )
            opened = OpenNationalLawConsultation(**_court(questions="What must a freeze contain?"))
            await party.execute_update(
                PARTY_UPDATES[OpenNationalLawConsultation],
                signed(opened, party_address("NLD")),
                id=opened.event_id,
            )
            closed = CloseNationalLawConsultation(
                **_court(
                    consultation_id=opened.event_id,
                    outcome="information_supplied",
                    replied_by="state",
                    requirements=("The order names the bank", "A Dutch translation"),
                )
            )
            await party.execute_update(
                PARTY_UPDATES[CloseNationalLawConsultation],
                signed(closed, party_address("NLD")),
                id=closed.event_id,
            )
            await env.sleep(11 * DAY)
            await settle(party)
            history = await party.fetch_history()
            path = PARTY_HISTORIES / f"{SCENARIO}.json"
            save_history(path, history)
            print(f"{SCENARIO}: {len(history.events)} events")
            await terminate(party, "recorded")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record())
