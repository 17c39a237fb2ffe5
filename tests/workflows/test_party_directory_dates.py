"""A party's directory refuses a Court action dated ahead of its clock (review M3, #17), as a
request does (``workflows/court_admission.py``): an act is taken once it is decided, never
before (Rule 180(2): an agreed change of channel is the Court's act of the day it is made)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from schemas.directory import AgreedContactChange
from tests.workflows import party_directory_support as support
from tests.workflows.support import court_request
from tracefreeze.errors import TracefreezeError
from workflows.court_admission import CLOCK_SKEW

env = pytest.fixture(name="env")(support.server_of_each_test)
courts = pytest.fixture(name="courts")(support.court_maker)


async def test_an_agreed_change_dated_ahead_of_the_directorys_clock_is_refused(
    env: Any, worker: Any, courts: Any
) -> None:
    """Checked with the organ's signature, before the change's own rules: old code, the
    agreement dated an hour ahead was recorded."""
    code = support.fresh_code()
    court = courts(code)
    await court.submit(court_request(requested_state=code))
    await court.party(code)
    ahead = await env.get_current_time() + CLOCK_SKEW + timedelta(hours=1)
    fields = support.court_fields(decided_at=ahead, channel="central_authority", languages=["fr"])
    with pytest.raises(TracefreezeError, match="later than the clock here"):
        await court.parties.act(code, AgreedContactChange(**fields))
    assert (await court.party(code)).pending == []
