"""How a request's outbox is cut into publishing rounds (``workflows/request_outbox.py``).

A round's input is written to the request's history, and the server refuses a payload over
2 MB: a round holds at most one copy of the request's text (a consultation response's signed
original may carry a new version of the request, RS 93(3), 97). Rounds are cut by kinds and
counts, never by measured sizes, so a replay cuts them the same way. The events one Court
decision caused stay in one round: the requested State's message of the decision names its
assets from them (``activities/party.py``).
"""

from __future__ import annotations

from activities.party import party_messages
from schemas import court as c
from schemas.assets import AssetKind
from schemas.common import MAX_ASSETS
from schemas.court_record import SignedCourtAction
from schemas.events import AssetEventData, RequestEvent, RequestEventType
from schemas.ledger import AssetStatus
from schemas.outbox import MAX_GROUP, MAX_OUTBOX_ROUND, PublishOutbox
from tests.builders import court_action, court_request, example, new_event_id, now
from tests.events import request_event
from tests.workflows.support import ORDER, forfeiture
from workflows.request_outbox import MAX_SIGNED_ROUND, originals, whole_groups

REQUEST = court_request()


def event(caused_by: str | None, asset: str | None = None, **extra: object) -> RequestEvent:
    """A Court action's event (``asset`` None) or one of its assets' release."""
    if asset is None:
        return request_event(REQUEST, RequestEventType.COURT_ACTION, caused_by=caused_by, **extra)
    released = AssetStatus.RELEASED
    data = AssetEventData(asset_id=asset, kind=AssetKind.BANK_ACCOUNT, status=released)
    kind = RequestEventType.ASSET_RELEASED
    return request_event(REQUEST, kind, caused_by=caused_by, asset=data, **extra)


def decision(n_assets: int) -> list[RequestEvent]:
    """A Chamber's release (RS 75(4), 93(1)(k)): its own event, then one per asset."""
    cause = new_event_id()
    head = event(cause, action="release")
    return [head] + [event(cause, asset=f"a-{i}") for i in range(n_assets)]


def rounds(events: list[RequestEvent]) -> list[list[RequestEvent]]:
    out = []
    while events:
        n = whole_groups(events, MAX_OUTBOX_ROUND)
        out.append(events[:n])
        events = events[n:]
    return out


def test_a_decision_and_its_assets_are_never_split_across_rounds() -> None:
    """A release of 30 assets queued behind 80 events goes whole in the next round, and the
    State's message of it names all 30; a release larger than a round goes whole, alone."""
    before = [event(new_event_id()) for _ in range(80)]
    release = decision(30)
    cut = rounds(before + release)
    assert [len(r) for r in cut] == [80, 31]
    [message] = party_messages(None, cut[1], [], REQUEST.confidentiality)
    assert message.decision is not None and len(message.decision.assets) == 30
    big = decision(MAX_ASSETS)
    cut = rounds(before + big + [event(new_event_id())])
    assert [len(r) for r in cut] == [80, MAX_ASSETS + 1, 1]
    assert MAX_ASSETS + 1 <= MAX_GROUP  # the schema takes the largest group
    PublishOutbox(events_topic="e", escalations_topic="x", events=cut[1])
    # Events of no answer (a clock's) are cut anywhere.
    loose = [event(None) for _ in range(250)]
    assert [len(r) for r in rounds(loose)] == [100, 100, 50]
    # Only what was queued when publishing began: what arrived meanwhile waits its round.
    assert whole_groups(before + release, MAX_OUTBOX_ROUND, queued=80) == 80
    assert whole_groups(loose, MAX_OUTBOX_ROUND, queued=30) == 30
    assert whole_groups(loose, MAX_OUTBOX_ROUND, queued=0) == 0


def _original(modifies: bool) -> SignedCourtAction:
    if modifies:
        asset = example("court-request")["known_assets"][0]
        new = court_request(known_assets=[asset]).model_dump(mode="json")
        action = court_action(
            c.ConsultationResponse, resolution="request_modified", modified_request=new
        )
    else:
        action = forfeiture("a-1")
    return SignedCourtAction(
        id=new_event_id(),
        time=now(),
        subject=REQUEST.reference,
        requested_state="NLD",
        action=action,
    )


def test_a_new_version_of_the_request_goes_alone_never_beside_its_text() -> None:
    small, text = _original(False), _original(True)
    assert ORDER  # the forfeiture names the order it executes (RS 77(2)(b))
    assert originals([small] * 12, False) == MAX_SIGNED_ROUND
    assert originals([small, small, text, small], False) == 2  # the text waits its turn
    assert originals([text, small], False) == 1  # alone
    # Beside a round already carrying the request's text (its events move the outbox).
    assert originals([text, small], True) == 0
    assert originals([small, text], True) == 1
    assert originals([], False) == 0
    assert originals([small] * 12, False, queued=3) == 3  # only what was queued at the start
