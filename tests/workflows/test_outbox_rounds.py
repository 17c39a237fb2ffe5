"""How a request's outbox is cut into publishing rounds (``workflows/request_outbox.py``).

A round's input is written to the request's history and the server refuses a payload over
2 MB, so the signed originals of Court actions (RS 93(1)(k), 57(3)(e), 75(4): the Court's
decisions kept re-verifiable) go by size, not by count: a forfeiture order (RS 77(2)(b))
may carry a new version of a request naming every asset (RS 97).
"""

from __future__ import annotations

from functools import cache

from schemas import court as c
from schemas.common import MAX_ASSETS
from schemas.court_record import SignedCourtAction
from schemas.outbox import ROUND_BYTES
from tests.builders import court_action, court_request, example, new_event_id, now
from workflows.request_outbox import _json_bytes, _within


@cache
def modified_request() -> dict[str, object]:
    """A new version of a request naming every asset it may (RS 97 consultation)."""
    asset = example("court-request")["known_assets"][0]
    assets = [{**asset, "asset_id": f"a-{n}"} for n in range(MAX_ASSETS)]
    return court_request(known_assets=assets).model_dump(mode="json")


def large_original() -> SignedCourtAction:
    action = court_action(
        c.ConsultationResponse,
        resolution="request_modified",
        modified_request=modified_request(),
    )
    return SignedCourtAction(
        id=new_event_id(),
        time=now(),
        subject="ICC-01/22-RND-0001",
        requested_state="NLD",
        action=action,
    )


def rounds(signed: list[SignedCourtAction], spent: int) -> list[int]:
    out = []
    while signed:
        n = _within(signed, spent)
        out.append(n)
        signed = signed[n:]
    return out


def test_signed_originals_go_by_size_each_round_within_the_budget() -> None:
    originals = [large_original() for _ in range(10)]
    size = _json_bytes(originals[0])
    assert size > ROUND_BYTES // 4, "the test's originals must be large"
    cut = rounds(list(originals), 0)
    assert sum(cut) == len(originals) and len(cut) > 2
    at = 0
    for n in cut:
        assert n >= 1
        assert sum(_json_bytes(o) for o in originals[at : at + n]) <= ROUND_BYTES
        at += n
    # Ten of them (the count a round once took) would be several times the budget.
    assert 10 * size > 2 * ROUND_BYTES
    # The request's text in the round (a transmission) counts against the same budget.
    text = _json_bytes(court_request())
    with_text = rounds(list(originals), text)
    assert with_text[0] <= cut[0]
    assert text + sum(_json_bytes(o) for o in originals[: with_text[0]]) <= ROUND_BYTES


def test_an_original_larger_than_what_is_left_still_goes_alone() -> None:
    """Never a round that sends nothing: the outbox always moves (the schema bounds one
    original far below the server's limit)."""
    originals = [large_original() for _ in range(3)]
    assert rounds(originals, ROUND_BYTES) == [1, 1, 1]
    assert _within([], 0) == 0
