"""The scale benchmark's workflow cache: both workers take the same size, by default one that
holds every request the run can start (docs/operations.md "Scaling out": a deployment sizes
its cache to the requests due together), and ``--scale-cache`` measures another."""

from __future__ import annotations

import argparse

import pytest

from bench.run import cache_size
from bench.scale import sizes_for
from tracefreeze.config import Settings


@pytest.mark.parametrize("quick", [False, True])
def test_by_default_every_request_the_run_can_start_is_cached(quick: bool) -> None:
    sizes = sizes_for(quick)
    assert sizes.workflow_cache == sizes.requests
    assert sizes.cache_env() == {"TRACEFREEZE_WORKER_CACHED_WORKFLOWS": str(sizes.requests)}


def test_an_asked_size_reaches_both_workers_and_the_product_takes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sizes = sizes_for(False, escalating_baseline=True, cache=1_000)
    assert sizes.workflow_cache == 1_000
    assert sizes.escalating_baseline
    for key, value in sizes.cache_env().items():
        monkeypatch.setenv(key, value)
    assert Settings().worker_cached_workflows == 1_000


@pytest.mark.parametrize("text", ["0", "-1", "100001", "ten", "1.5"])
def test_a_cache_size_out_of_the_workers_bounds_is_refused_before_the_run(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        cache_size(text)
    assert cache_size("1000") == 1_000
