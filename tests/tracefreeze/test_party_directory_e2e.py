"""The party directory on the real stack (Temporal dev server, the real worker): a request
records the contact in force in its party's directory workflow on the day it is transmitted
(Rule 180(2): a change, here at the time agreed with the party, applies to future requests;
the request transmitted before keeps its channel and language); the completeness check reads
the national-law requirements the party made known in an RS 96(3) consultation from its
directory's register (RS 96(2)(e)), that party's and no other's."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.completeness import NationalRequirement as CheckedRequirement
from schemas.directory import (
    AgreedContactChange,
    PartyContact,
    party_workflow_id,
)
from schemas.request import NationalLawStatement
from tests.builders import case_number, court_request
from tests.tracefreeze.directory_support import (
    consulted,
    directory_file,
    memo_lists,
    recorded_contact,
    until_read,
    wind_up,
)
from tracefreeze.client import IncompleteRequest, RequestClient
from tracefreeze.config import Settings
from tracefreeze.directory_client import PartyDirectoryClient
from tracefreeze.worker import run_worker

pytestmark = pytest.mark.stack

CODE = "QZS"
"""A party code no real party has (ISO 3166-1 leaves QM-QZ to users), this test's alone."""
CONSULTED, OTHER = "QZU", "QZV"
"""The parties of the RS 96(3) test, its own."""


async def memo_shows(parties: PartyDirectoryClient, contact: PartyContact) -> None:
    """Until the directory's memo shows ``contact`` in force."""
    await until_read(lambda: parties.contact_in_force(CODE), contact, f"the directory of {CODE}")


async def test_submit_takes_the_contact_in_force_in_the_party_directory(
    stack: Settings, tmp_path: Path
) -> None:
    settings = stack.model_copy(update={"state_directory_file": directory_file(tmp_path, CODE)})
    worker = asyncio.create_task(run_worker(settings))
    client = await RequestClient.connect(settings)
    parties = PartyDirectoryClient(client.client, settings)
    first = court_request(tag="TEST", case_number=case_number(), requested_state=CODE)
    second = court_request(tag="TEST", case_number=case_number(), requested_state=CODE)
    started = [party_workflow_id(CODE)]
    try:
        started.append(await client.submit(first))  # the directory starts from states.toml
        kept = await recorded_contact(client.client, started[-1])
        assert (kept.channel, kept.language) == ("diplomatic", "en")

        agreed = AgreedContactChange(
            event_id=str(uuid.uuid4()),
            decided_by="Registrar",
            decided_at=datetime.now(UTC),
            channel="central_authority",
            languages=("fr", "en"),
        )
        view = await parties.act(CODE, agreed)  # agreed: in force from now (Rule 180(2))
        assert (view.contact.channel, view.contact.languages) == ("central_authority", ("fr", "en"))
        await memo_shows(parties, view.contact)

        started.append(await client.submit(second))
        new = await recorded_contact(client.client, started[-1])
        assert (new.channel, new.language) == ("central_authority", "fr")
        assert await recorded_contact(client.client, started[1]) == kept  # the first keeps its own
    finally:
        await wind_up(client, started, worker)


async def test_the_check_enforces_the_requirements_the_party_advised_under_rs_96_3(
    stack: Settings, tmp_path: Path
) -> None:
    settings = stack.model_copy(
        update={"state_directory_file": directory_file(tmp_path, CONSULTED, OTHER)}
    )
    worker = asyncio.create_task(run_worker(settings))
    client = await RequestClient.connect(settings)
    parties = PartyDirectoryClient(client.client, settings)
    started = [party_workflow_id(CONSULTED), party_workflow_id(OTHER)]
    advised = "A freeze order names the bank holding the account (Article 5, example law)"
    other_advised = "The request is certified by the Court's Registrar"
    try:
        assert await parties.requirements_in_force(CONSULTED) is None  # no directory yet
        for code in (CONSULTED, OTHER):  # the directory starts from states.toml
            await client.policy_in_force(court_request(tag="TEST", requested_state=code))
        assert await parties.requirements_in_force(CONSULTED) == []

        consultation = await consulted(parties, CONSULTED, advised)
        other_consultation = await consulted(parties, OTHER, other_advised)
        rid = f"{consultation}-1"
        await memo_lists(parties, CONSULTED, [CheckedRequirement(requirement_id=rid, text=advised)])
        await memo_lists(
            parties,
            OTHER,
            [CheckedRequirement(requirement_id=f"{other_consultation}-1", text=other_advised)],
        )

        silent = court_request(tag="TEST", case_number=case_number(), requested_state=CONSULTED)
        report = await client.check(silent)
        assert not report.complete
        [finding] = report.findings
        assert finding.field == f"national_law[{rid}]"
        assert finding.article == "RS 96(2)(e), 96(3)"
        assert advised in finding.what
        assert other_advised not in str(report.model_dump())  # another party's: never here
        with pytest.raises(IncompleteRequest):
            await client.submit(silent)  # submit enforces it, unless overridden

        answered = silent.model_copy(
            update={
                "national_law": (
                    NationalLawStatement(requirement_id=rid, how="The order names the bank."),
                )
            }
        )
        assert (await client.check(answered)).complete
        started.append(await client.submit(answered))

        # The other party's check lists its own requirement only; an answer to this party's
        # requirement is one it never made known.
        to_other = answered.model_copy(update={"requested_state": OTHER})
        other_report = await client.check(to_other)
        assert sorted(f.field for f in other_report.findings) == sorted(
            [f"national_law[{other_consultation}-1]", f"national_law[{rid}]"]
        )
        assert advised not in str(other_report.model_dump())
    finally:
        await wind_up(client, started, worker)
