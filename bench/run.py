"""Run every benchmark on an isolated stack: ``python -m bench.run [--quick] [--only ...]``.

Order: baselines, end-to-end latency, backlog drain, long life, case, scale (the heaviest
last); ``--only case`` runs the case alone (it has no baseline, so the baselines are skipped).
The soak (``bench/soak.py``, an hour by default) runs only when named: ``--only soak``.
Each prints its table and writes ``bench/results/<name>.json``; ``summary.json`` has every
headline figure with its baseline and ratio. Where a target is missed, a profiled repeat
(pyinstrument, if installed) writes the worker's and bridge's profiles to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

from bench import baselines as b
from bench import case as cs
from bench import drain as d
from bench import latency as lat
from bench import long_life as ll
from bench import scale as sc
from bench import soak as sk
from bench.common import state_signer
from bench.report import RESULTS_DIR, write_json
from bench.scale_table import print_scale
from bench.stack import BenchStack, running_cluster, running_stack
from bench.tables import (
    headline,
    print_baselines,
    print_case,
    print_drain,
    print_latency,
    print_long_life,
)
from tracefreeze.config import WORKER_CACHE_LIMIT
from tracefreeze.temporal import exit_process

ALL = ("baselines", "latency", "drain", "long_life", "case", "scale")
OPTIONAL = ("soak",)
"""Run only when named (``--only soak``, ``make bench-soak``): an hour, not minutes."""
NO_BASELINE = {"case", "long_life", "scale", "soak"}
"""Benchmarks that compare with no baseline of ``baselines.py`` (the case none, the long life
its own runs, the scale its own bare engine in the same run): alone, they run without them."""


async def guarded(name: str, out: dict[str, Any], coro: Any) -> dict[str, Any] | None:
    """Run one benchmark; a failure is recorded and the others still run."""
    try:
        return await coro
    except Exception as err:
        import traceback

        traceback.print_exc()
        print(f"bench: {name} failed: {err!r}", flush=True)
        out.setdefault("errors", {})[name] = repr(err)
        return None


async def run_all(
    stack: BenchStack,
    quick: bool,
    only: set[str],
    results: Path,
    profile: bool,
    long_life: ll.LongLifeSizes | None = None,
    soak: sk.SoakSizes | None = None,
    scale_sizes: sc.ScaleSizes | None = None,
) -> dict[str, Any]:
    signer = state_signer(stack.state_dir)
    out: dict[str, Any] = {"quick": quick}
    base: dict[str, Any] = {}
    if only - NO_BASELINE:
        sizes_b = b.QUICK_SIZES if quick else b.BaselineSizes()
        base = await b.run_baselines(stack, signer, sizes_b)
        write_json("baselines", base, results)
        print_baselines(base)
        out["baselines"] = base

    async def latency() -> dict[str, Any]:
        r = await lat.run_latency(
            stack, signer, lat.QUICK_SIZES if quick else lat.LatencySizes(), base
        )
        print_latency(r)
        write_json("latency", r, results)
        if not r["target_met"] and profile:
            r["profile"] = await _profile_latency(stack, signer, results)
            write_json("latency", r, results)
        return r

    async def drain() -> dict[str, Any]:
        sizes = d.QUICK_SIZES if quick else d.DrainSizes()
        bare = base["temporal"]
        bare_cpu = {k: v["median"] for k, v in bare.items() if k.startswith("update_")}
        r = await d.run_drain(stack, signer, sizes, bare["updates_s"]["median"], bare_cpu)
        print_drain(r)
        write_json("drain", r, results)
        if not r["target_met"] and profile:
            print("  drain target missed: profiled repeat ...", flush=True)
            r["profile"] = await d.profile_drain(stack, signer, sizes, results)
            print(f"  profiles: {', '.join(r['profile']['profiles'])}")
            write_json("drain", r, results)
        return r

    async def long_life_run() -> dict[str, Any]:
        sizes = long_life or ll.sizes_for(quick, None, None)
        r = await ll.run_long_life(stack, signer, sizes)
        print_long_life(r)
        write_json("long_life", r, results)
        return r

    async def case() -> dict[str, Any]:
        r = await cs.run_case(stack, signer, cs.sizes_for(quick))
        print_case(r)
        write_json("case", r, results)
        return r

    async def scale() -> dict[str, Any]:
        sizes = scale_sizes or sc.sizes_for(quick)
        # Asked for (--scale-profile), the profiler is armed in the measured run and samples
        # the worker only while the deadlines fire (a separate run at a size that fits the
        # cache would not show it); its cost then weighs on the product's side alone.
        path = results / "profile-scale-worker" if profile and sizes.profiled else None
        r = await sc.run_scale(stack, sizes, profile=path)
        if path is not None:
            r["profiles"] = [f"{path}.{ext}" for ext in ("html", "txt", "flat.txt")]
        print_scale(r)
        write_json("scale", r, results)
        if path is not None and not r["target_met"]:
            print(f"  scale target missed; profile of the worker while firing: {path}.html")
        return r

    async def soak_run() -> dict[str, Any]:
        r = await sk.run_soak(stack, signer, soak or sk.SoakSizes())
        sk.print_soak(r)
        write_json("soak", r, results)
        return r

    for name, job in (
        ("latency", latency),
        ("drain", drain),
        ("long_life", long_life_run),
        ("case", case),
        ("scale", scale),
        ("soak", soak_run),
    ):
        if name in only:
            r = await guarded(name, out, job())
            await stack.stop_apps()  # whatever a failed benchmark left running
            if r is not None:
                out[name] = r
    return out


async def _profile_latency(stack: BenchStack, signer: Any, results: Path) -> dict[str, Any]:
    settings = stack.settings.model_copy(update={"task_queue": lat.TASK_QUEUE})
    paths = {k: results / f"profile-latency-{k}" for k in ("worker", "bridge")}
    stack.start_app("worker", lat.TASK_QUEUE, profile=paths["worker"])
    stack.start_app("bridge", lat.TASK_QUEUE, profile=paths["bridge"])
    try:
        sizes = lat.LatencySizes(answers=40, repeats=1)
        visible, consumed = await lat.one_repeat(settings, signer, "ICC-01/22-LAT-PROF", sizes)
    finally:
        await stack.stop_apps()
    from bench.common import latency_stats

    return {
        "under_profiler": latency_stats(visible),
        "under_profiler_downstream": latency_stats(consumed),
        "profiles": [f"{p}.{ext}" for p in paths.values() for ext in ("html", "txt")],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", nargs="+", choices=ALL[1:] + OPTIONAL, default=list(ALL[1:]))
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--no-profile", action="store_true", help="no profiled repeats")
    parser.add_argument(
        "--long-life-answers",
        type=int,
        help="answers the long-life request takes (the ten-year figure: 100000)",
    )
    parser.add_argument(
        "--long-life-window-s",
        type=float,
        help="the long-life request's dedupe window in seconds (years compressed to minutes)",
    )
    parser.add_argument(
        "--soak-minutes", type=float, default=60.0, help="the soak's length (--only soak)"
    )
    parser.add_argument(
        "--soak-rate",
        type=float,
        help="answers/s the soak holds (default: half the drain rate, measured first)",
    )
    parser.add_argument(
        "--escalating-baseline",
        action="store_true",
        help="scale: also bare timers that publish when due (about 4 more minutes in a full run)",
    )
    parser.add_argument(
        "--scale-cache",
        type=cache_size,
        help="scale: both workers' workflow cache (default: the requests the run can start, "
        "every request due together cached; the product's default is 1000)",
    )
    parser.add_argument(
        "--scale-profile",
        action="store_true",
        help="scale: profile the product's worker while it fires (its ratios then carry the "
        "profiler's cost, which the bare worker does not pay)",
    )
    parser.add_argument("--keep-state", action="store_true", help="keep the stack's state dir")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="on the production-shaped cluster (make cluster-up's: Temporal server on "
        "PostgreSQL, 3 brokers); results in bench/results/cluster/",
    )
    args = parser.parse_args(argv)
    if args.cluster:
        from tracefreeze.stack.cluster import brokers

        b.REPLICATION, b.MIN_INSYNC = brokers.REPLICATION, brokers.MIN_INSYNC
        if args.results == RESULTS_DIR:
            args.results = RESULTS_DIR / "cluster"
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # transient metadata errors
    t0 = time.perf_counter()
    what = "the cluster" if args.cluster else "an isolated stack"
    print(f"bench: starting {what} ({'quick' if args.quick else 'full'} run) ...")
    code = 0
    start = running_cluster if args.cluster else running_stack
    signal.signal(signal.SIGTERM, _terminated)
    try:
        with start(keep_state=args.keep_state) as stack:
            print(
                f"bench: Temporal {stack.settings.temporal_address}, "
                f"Kafka {stack.settings.kafka_bootstrap} (up in {time.perf_counter() - t0:.0f}s); "
                f"state {stack.state_dir}",
                flush=True,
            )
            out = asyncio.run(
                run_all(
                    stack,
                    args.quick,
                    set(args.only),
                    args.results,
                    not args.no_profile,
                    ll.sizes_for(args.quick, args.long_life_answers, args.long_life_window_s),
                    sk.SoakSizes(minutes=args.soak_minutes, rate_s=args.soak_rate),
                    sc.sizes_for(
                        args.quick, args.escalating_baseline, args.scale_cache, args.scale_profile
                    ),
                )
            )
    except Exception as err:
        import traceback

        traceback.print_exc()
        print(f"bench: failed: {err}", file=sys.stderr)
        code = 1
    else:
        wall = time.perf_counter() - t0
        summary = {
            "quick": args.quick,
            "wall_seconds": wall,
            "figures": headline(out),
            "errors": out.get("errors", {}),
        }
        path = write_json("summary", summary, args.results)
        missed = [
            k
            for k, v in summary["figures"].items()
            if isinstance(v, dict) and v.get("met") is False
        ]
        scale_verdict = out["scale"]["target_met"] if out.get("scale") else True
        if scale_verdict is False:
            missed.append("scale")
        if scale_verdict is None:
            print(
                "bench: scale: its targets met as far as judged, not judged in full "
                "(short of the full count, or counts unequal)"
            )
        print(f"\nbench: total wall time {wall / 60:.1f} min; results in {path.parent}")
        if missed:
            print(f"bench: targets missed: {', '.join(missed)} (profiles in {path.parent})")
        if out.get("errors"):
            print(f"bench: failed benchmarks: {', '.join(out['errors'])}")
            code = 1
    exit_process(code)


def cache_size(text: str) -> int:
    """``--scale-cache``: checked before the run starts (the worker's own bound, ``Settings``
    ``worker_cached_workflows``), not when the scale section starts its worker minutes in."""
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= size <= WORKER_CACHE_LIMIT:
        raise argparse.ArgumentTypeError(f"{size} is not within 1-{WORKER_CACHE_LIMIT:,}")
    return size


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM as Ctrl-C: the run is cancelled and its stack or cluster stopped on the way out
    (by default the process died at once and left them running)."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
