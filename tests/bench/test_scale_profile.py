"""The scale run compares the product's firing with bare workers that run without a
profiler, so the product's worker is profiled only when asked (``--scale-profile``): with
the profiler it spent 22.6 ms of CPU per firing against 8.8 without, and the ratios carried
it as the product's."""

from __future__ import annotations

from bench import scale as sc


def test_the_scale_run_profiles_only_when_asked() -> None:
    for quick in (False, True):
        assert not sc.sizes_for(quick).profiled
        assert sc.sizes_for(quick, profiled=True).profiled
    asked = sc.sizes_for(False, escalating_baseline=True, cache=500, profiled=True)
    assert (asked.escalating_baseline, asked.workflow_cache, asked.profiled) == (True, 500, True)
