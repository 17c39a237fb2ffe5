"""An asset's status moves forward in the order RS 93(1)(k)'s measures go (identify, trace,
freeze or seize), then forfeiture ordered by the Trial Chamber (RS 77(2)(b)) and enforced
through the Presidency's request (RS 109, Rules 217-218), transfer to the Court (RS 109(3))
and allocation (Rule 221); a release ends it. Every ledger update compares ranks, so the
order is tested here apart."""

from __future__ import annotations

from schemas.ledger import AssetStatus


def test_rank_is_the_declared_order_of_progress() -> None:
    assert [s.rank for s in AssetStatus] == list(range(len(AssetStatus)))
    assert AssetStatus.KNOWN.rank < AssetStatus.TRACED.rank < AssetStatus.FROZEN.rank
    assert AssetStatus.FROZEN.rank < AssetStatus.SEIZED.rank < AssetStatus.FORFEITURE_ORDERED.rank
    assert max(AssetStatus, key=lambda s: s.rank) is AssetStatus.RELEASED


def test_executing_ends_at_seizure() -> None:
    """The State's execution reports (RS 93(1)(k), executed under RS 99) move an asset
    forward only while it is in the State's execution; an order of forfeiture and what
    follows are the Court's (RS 77(2)(b), 109)."""
    executing = {s for s in AssetStatus if s.executing}
    assert executing == {
        AssetStatus.KNOWN,
        AssetStatus.IDENTIFIED,
        AssetStatus.TRACED,
        AssetStatus.FROZEN,
        AssetStatus.SEIZED,
    }
