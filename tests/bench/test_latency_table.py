"""The latency table's update row against (b'), the bare update whose task also sends a
message out (``bench/bare_chain.py``): shown with its ratio when measured, absent otherwise."""

from __future__ import annotations

from bench.tables import LATENCY_PARTS, _against_update_out


def test_the_update_against_the_bare_update_with_a_message_out() -> None:
    measured = {
        "product_update_p50_ms": {"median": 24.3, "min": 21.8, "max": 26.9, "n": 2},
        "baseline_update_out_p50_ms": 19.5,
        "ratio_update_out_p50": 24.3 / 19.5,
    }
    [row] = _against_update_out(measured)
    assert row[2] == "(b') 19.5"
    assert row[3] == "1.25x"
    assert "ratio_update_out_p50" in LATENCY_PARTS


def test_a_run_without_it_shows_no_row() -> None:
    assert _against_update_out({"product_update_p50_ms": {"median": 1.0}}) == []
