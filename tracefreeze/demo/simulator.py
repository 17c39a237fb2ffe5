"""The demo's State system: answers a request as a State's central authority would.

Answers go to ``tracefreeze.state-answers`` through the State kit (``tracefreeze/state_kit.py``,
``send_answers``), exactly as a State's system sends them: key = the request reference, body =
the answer's canonical JSON signed with the State's demo key (``tracefreeze/demo/keys.py``:
``<state_dir>/keys/<STATE>.pem``, made by ``make up``), the signature headers and the
CloudEvents headers (``tracefreeze/intake/envelope.py``), a fresh event id per answer. Scripts:

- ``acknowledge``: acknowledgement of receipt;
- ``freeze-known``: an execution report (RS 99) freezing every asset the Court already knew
  of, with the measures the Court asked for (read from the request's search attributes);
- ``no-assets``: no assets found (RS 99); during a postponement it ends it;
- ``postpone-94``: postponement for another investigation (RS 94), proposing a period of
  30 days from now for the Court to agree;
- ``claim:<asset_id>``: a fictional bona fide third party claims that asset
  (RS 93(1)(k), Rule 99); the claim id is fresh.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from schemas.answers import (
    Acknowledgement,
    AssetResult,
    ExecutionReport,
    NoAssetsReport,
    Postponement,
    PostponementGround,
    ThirdPartyClaim,
)
from schemas.common import Measure, Money
from schemas.ledger import LedgerEntry
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.demo.keys import demo_signer
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.envelope import answer_headers
from tracefreeze.intake.routing import Answer
from tracefreeze.state_kit import Signer, send_answers
from workflows import search_attributes as sa

__all__ = ["SCRIPTS", "answer_headers", "check_script", "simulate_state"]
SCRIPTS = ("acknowledge", "freeze-known", "no-assets", "postpone-94", "claim:<asset_id>")
CLAIM = "claim:"
"""Prefix of the third-party-claim script; the asset id follows."""
POSTPONEMENT_PERIOD = timedelta(days=30)
ASSET_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
"""An asset id as the ledger spells it (``schemas.common.Identifier``)."""
CLAIMANT = "Stichting Fictieve Havenbelangen (fictional bona fide purchaser)"
AUTHORITY = "Central Authority for International Legal Assistance in Criminal Matters"
EXECUTING_AUTHORITY = "Public Prosecution Service"
PLAUSIBLE_VALUE = Money(amount=Decimal("250000.00"), currency="EUR")


async def simulate_state(
    settings: Settings, request_reference: str, state: str, script: str
) -> list[str]:
    """Send the script's answers for one request to one State; return their event ids."""
    check_script(script)
    sent_at = datetime.now(UTC)
    common: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "request_reference": request_reference,
        "state": state,
        "sent_at": sent_at,
    }
    answer: Answer
    if script == "acknowledge":
        answer = Acknowledgement(**common, authority=AUTHORITY)
    elif script == "no-assets":
        answer = NoAssetsReport(**common, registers_searched=("land register", "bank accounts"))
    elif script == "postpone-94":
        answer = Postponement(
            **common,
            ground=PostponementGround.ANOTHER_INVESTIGATION,
            proposed_until=sent_at + POSTPONEMENT_PERIOD,
            reasons="Execution would interfere with an ongoing national money-laundering "
            "investigation into the same accounts.",
        )
    elif script.startswith(CLAIM):
        asset_id = script.removeprefix(CLAIM)
        answer = ThirdPartyClaim(
            **common,
            claim_id=f"claim-{uuid.uuid4().hex[:12]}",
            asset_id=asset_id,
            claimant=CLAIMANT,
            basis="Bought the asset in good faith before the measure, for full value, "
            "without knowledge of its origin.",
        )
    else:
        results = await _freeze_known(settings, request_reference, state)
        answer = ExecutionReport(**common, final=False, results=results)
    await _send(settings, [answer])
    return [answer.event_id]


def check_script(script: str) -> None:
    """A known script, or ``claim:`` followed by an asset id."""
    fixed = [s for s in SCRIPTS if not s.startswith(CLAIM)]
    asset_id = script.removeprefix(CLAIM)
    if script in fixed or (script.startswith(CLAIM) and ASSET_ID.fullmatch(asset_id)):
        return
    raise TracefreezeError(f"unknown script {script!r}; choose one of {', '.join(SCRIPTS)}")


async def _freeze_known(settings: Settings, reference: str, state: str) -> tuple[AssetResult, ...]:
    """One result per known asset not yet frozen or seized, with the requested measures."""
    client = await RequestClient.connect(settings)
    view = await client.view(reference, state)
    workflow_id = await client.workflow_id(reference, state)
    description = await client.client.get_workflow_handle(workflow_id).describe()
    requested = set(description.typed_search_attributes.get(sa.MEASURES) or ())
    measures = tuple(
        m for m in (Measure.IDENTIFY, Measure.TRACE, Measure.FREEZE) if m.value in requested
    )
    if Measure.FREEZE not in measures and Measure.SEIZE.value in requested:
        measures += (Measure.SEIZE,)
    pending = [e for e in view.ledger.entries.values() if not e.status.restrained]
    if not pending or not measures:
        raise TracefreezeError(f"request {reference} to {state}: no known asset left to freeze")
    return tuple(_result(entry, measures) for entry in pending)


def _result(entry: LedgerEntry, measures: tuple[Measure, ...]) -> AssetResult:
    asset = entry.asset
    return AssetResult(
        asset_id=asset.asset_id,
        measures_executed=measures,
        value=entry.value or asset.estimated_value or PLAUSIBLE_VALUE,
        location=entry.location or asset.location,
        registry_reference=asset.registry_reference or f"REG-{asset.asset_id.upper()}",
        executing_authority=EXECUTING_AUTHORITY,
    )


async def _send(settings: Settings, answers: list[Answer]) -> None:
    """Sign with each State's demo key and send through the State kit, as a State would."""
    signed = []
    for answer in answers:
        signer = Signer(*demo_signer(settings.state_dir, answer.state))
        signed.append((answer, *signer.sign(answer), signer.key_id))
    await send_answers(settings, signed)
