"""An enforcement request marks the protective request it supplements only with the
Presidency's own signed act (review M2, #17; RS 109, Rule 217).

Old code: the enforcement request built the notice from its own start input and had it signed
by the workers' relay key, which the protective request took under that key alone; so whoever
could start a request claiming to be the Presidency's RS 109 request could mark a protective
request's assets as enforced and block the Presidency's real request. Now the notice is the
Presidency's act, signed for the protective request, which came with the enforcement request's
start input and is relayed as signed: the protective request verifies it as any Court action
(``workflows/request_links.py``, ``decision_signatures.py``), and the reason it was not told is
on the enforcement request's timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from schemas.court import EnforcementRequestMade, request_address
from schemas.organs import Organ
from schemas.request import CourtRequest
from tests.builders import enforcement_request, now
from tests.workflows.case_support import until
from tests.workflows.support import ACCOUNT, convicted, forfeiture, send, view
from tracefreeze.court_signing import presidency_notice
from tracefreeze.request_start import enforcement_notice
from tracefreeze.security.organ_keys import relayed, sign_action, signed, signer_for

Notice = Callable[[CourtRequest, str], EnforcementRequestMade]
"""A notice for an enforcement request and the address of the request it supplements."""


def unsigned(req: CourtRequest, **changes: Any) -> EnforcementRequestMade:
    notice = enforcement_notice(req, now(), None)
    assert notice is not None
    return notice.model_copy(update=changes)


def by_relay_key(req: CourtRequest, address: str) -> EnforcementRequestMade:
    """What the old code sent: the notice signed by the workers' relay key alone."""
    return relayed(unsigned(req), address)


def by_registry(req: CourtRequest, address: str) -> EnforcementRequestMade:
    """Decided by the Registry, signed with its key: not the Presidency's act (Rule 217)."""
    return signed(unsigned(req, decided_by="Registry"), address)


def under_registry_key(req: CourtRequest, address: str) -> EnforcementRequestMade:
    """Said to be the Presidency's, signed with the Registry's key."""
    return sign_action(unsigned(req, addressed_to=address), *signer_for(Organ.REGISTRY))


def for_another_request(req: CourtRequest, address: str) -> EnforcementRequestMade:
    """The Presidency's genuine act for another enforcement request (captured, reused)."""
    return signed(unsigned(req, enforcement_reference="ICC-01/22-ENF-OTHER1"), address)


async def not_told_note(handle: Any) -> str:
    """The enforcement request's note that the protective request was not told."""

    async def noted() -> bool:
        return any("NOT told" in t.what for t in (await view(handle)).timeline)

    await until(noted)
    return next(t.what for t in (await view(handle)).timeline if "NOT told" in t.what)


async def test_without_the_presidencys_signed_act_nothing_is_marked(worker) -> None:
    """An enforcement request started with no act of the Presidency marks nothing, and says
    why on its timeline (old code: the protective request's account marked as enforced)."""
    protective, first = await convicted(worker)
    await send(first, forfeiture(ACCOUNT))
    req = enforcement_request(supplements=protective.reference)
    handle = await worker.start(req)
    note = await not_told_note(handle)
    assert "no act of the Presidency signed for it came with this request" in note
    assert (await view(first)).ledger.entries[ACCOUNT].enforced_by is None


@pytest.mark.parametrize(
    ("notice", "fragment"),
    [
        (by_relay_key, "relays the Court's own acts, not this one"),
        (by_registry, "the Registry may not take enforcement_request_made"),
        (under_registry_key, "not that of 'Presidency'"),
        (for_another_request, "names another enforcement request or case"),
    ],
)
async def test_an_act_that_is_not_the_presidencys_for_this_request_marks_nothing(
    worker, notice: Notice, fragment: str
) -> None:
    """The protective request refuses a notice under the relay key alone, or not the
    Presidency's, and the enforcement request relays none that is not its own; the reason is
    on the enforcement request's timeline and the account is not marked."""
    protective, first = await convicted(worker)
    await send(first, forfeiture(ACCOUNT))
    req = enforcement_request(supplements=protective.reference)
    address = request_address(protective.reference, protective.requested_state)
    handle = await worker.start(req, enforcement_notice=notice(req, address))
    assert fragment in await not_told_note(handle)
    assert (await view(first)).ledger.entries[ACCOUNT].enforced_by is None


async def test_the_presidencys_signed_act_marks_the_account(worker) -> None:
    """The genuine act, signed by the Presidency for the protective request, is taken there."""
    protective, first = await convicted(worker)
    await send(first, forfeiture(ACCOUNT))
    req = enforcement_request(supplements=protective.reference)
    await worker.start(req, enforcement_notice=presidency_notice(req))

    async def marked() -> bool:
        return (await view(first)).ledger.entries[ACCOUNT].enforced_by == req.reference

    await until(marked)
