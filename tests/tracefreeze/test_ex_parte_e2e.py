"""On the real stack: a State's signed answer to an ex parte request (Rule 99(2)) travels
Kafka → bridge → the request under its opaque workflow id, which names neither the reference
nor the State; the Court's client reads it by reference (issue 11, §6)."""

from __future__ import annotations

import base64
import os
import re

import pytest

from schemas.ledger import RequestStatus
from tests.builders import acknowledgement, court_request, now
from tests.tracefreeze.e2e import Running, send_signed, wait_view
from tests.workflows.support import shown
from tracefreeze.errors import TracefreezeError
from tracefreeze.security.request_ids import KEY_ENV
from workflows import search_attributes as sa

pytestmark = pytest.mark.stack


async def test_an_answer_reaches_an_ex_parte_request_under_its_opaque_id(
    running: Running,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    r = running
    request = court_request(confidentiality="ex_parte")
    workflow_id = await r.client.submit(request)
    assert workflow_id.startswith("request/x")
    assert request.reference not in workflow_id and "NLD" not in workflow_id

    await send_signed(r, acknowledgement(request, sent_at=now()))
    view = await wait_view(r.client, request.reference, lambda v: v.answers_seen == 1)
    assert view.status is RequestStatus.ACKNOWLEDGED
    assert await r.client.resolve(request.reference) == workflow_id  # by reference alone
    handle = r.client.client.get_workflow_handle(workflow_id)
    # shown after the answer's round
    await shown(handle, sa.REQUEST_STATUS, RequestStatus.ACKNOWLEDGED.value)
    attrs = (await handle.describe()).typed_search_attributes
    assert all(attrs.get(key) is None for key in sa.REVEALING)
    progress = await r.client.progress(request.reference, "NLD")  # plain id first, then opaque
    assert (progress.status, progress.answers_seen) == (RequestStatus.ACKNOWLEDGED, 1)
    unknown = court_request()  # never started: named by its plain id, under neither id
    with pytest.raises(TracefreezeError, match=re.escape(f"no request {unknown.workflow_id}")):
        await r.client.progress(unknown.reference, "NLD")
