"""The scale benchmark's table (``scale.py``): the product's starts and firing against the
bare engine at equal counts, and against bare timers that publish when they fall due."""

from __future__ import annotations

from typing import Any

from bench.report import fmt, table, verdict
from bench.scale import FIRE_RATE_TARGET


def print_scale(r: dict[str, Any]) -> None:
    count = f"{r['started']:,} started ({r['due_together']:,} due together)"
    bare = r.get("bare") or {}

    escalating = r.get("bare_escalating") or {}

    def ratio(key: str) -> str:
        return f"{fmt(r[key], 2)}x" if r.get(key) is not None else ""

    def against(key: str, ratio_key: str, digits: int) -> list[str]:
        return [fmt(bare.get(key), digits), ratio(ratio_key)]

    print(
        table(
            f"4. Scale ({count}; target {r['target_requests']:,}; "
            f"workflow cache {r['max_cached_workflows']}); baseline: the bare engine, "
            f"{bare.get('due_together', 0):,} trivial timers due together "
            "(ratios only at equal counts: the product's own)",
            ["figure", "value", "bare engine", "ratio", "target"],
            [
                [
                    "start throughput, workflows/s",
                    fmt(r["starts_s"], 0),
                    *against("starts_s", "ratio_starts", 0),
                    "",
                ],
                [
                    "settled starts/s (transmission published)",
                    fmt(r["settled_starts_s"], 0),
                    "",
                    "",
                    "",
                ],
                ["worker RSS after starts, MiB", fmt(r["rss_after_starts_mib"], 0), "", "", ""],
                [
                    "server RSS peak through the product's starts and firing, MiB",
                    fmt(r.get("server_peak_rss_mib"), 0),
                    "",
                    "",
                    "",
                ],
                [
                    "worker RSS peak, MiB",
                    fmt(r["peak_rss_mib"], 0),
                    "",
                    "",
                    f"<= 1024: {verdict(r['peak_rss_mib'] <= 1024)}",
                ],
                [
                    "deadlines fired per second (all due / last one's lateness)",
                    fmt(r.get("fire_rate_s"), 0),
                    *against("fire_rate_s", "ratio_fire_rate", 0),
                    f">= {FIRE_RATE_TARGET}x: {verdict(r.get('fire_rate_met'))}",
                ],
                [
                    "the same over the wave (all due / first deadline to last firing)",
                    fmt(r.get("wave_rate_s"), 0),
                    *against("wave_rate_s", "ratio_wave_rate", 0),
                    "",
                ],
                *(
                    [
                        [
                            "the same; baseline: bare timers that publish when due",
                            fmt(r.get("fire_rate_s"), 0),
                            fmt(escalating.get("fire_rate_s"), 0),
                            ratio("ratio_fire_rate_escalating"),
                            "",
                        ],
                        [
                            "escalations out per second (all due / the last one on Kafka); "
                            "baseline: timers that publish",
                            fmt(r.get("out_rate_s"), 0),
                            fmt(escalating.get("out_rate_s"), 0),
                            ratio("ratio_out_rate_escalating"),
                            "",
                        ],
                    ]
                    if escalating
                    else []
                ),
                [
                    "escalation lateness p50, s",
                    fmt(r["lateness_p50_s"], 2),
                    *against("lateness_p50_s", "ratio_lateness_p50", 2),
                    "",
                ],
                [
                    "escalation lateness p99, s",
                    fmt(r["lateness_p99_s"], 2),
                    *against("lateness_p99_s", "ratio_lateness_p99", 2),
                    f"<= 5 or the bare engine's: {verdict(r.get('lateness_met'))}",
                ],
                ["escalation lateness max, s", fmt(r["lateness_max_s"], 2), "", "", ""],
                [
                    "published (Kafka) lateness p50 / p99, s",
                    f"{fmt(r['published_lateness_p50_s'], 2)} / "
                    f"{fmt(r['published_lateness_p99_s'], 2)}",
                    "",
                    "",
                    "",
                ],
                [
                    "fired / due",
                    f"{r['fired']:,} / {r['due_together']:,}",
                    "",
                    "",
                    f"all: {verdict(r['not_fired'] == 0)}",
                ],
                [
                    "spread of the deadlines, s",
                    fmt(r["deadline_spread_s"], 2),
                    fmt(bare.get("deadline_spread_s"), 2),
                    "",
                    "",
                ],
                *cpu_rows(r),
                *parts_rows(r),
            ],
        )
    )


def cpu_rows(r: dict[str, Any]) -> list[list[str]]:
    """What one start and one firing cost each process in CPU (``bench/cpu.py``), the
    product's against the bare engine's in the same run; the ratio here is the product's cost
    over the bare engine's (above 1: dearer). A start's client is the benchmark's own process
    (the product's ``submit`` against a bare ``start_workflow``); a firing's is not compared
    (one side reads the escalations from Kafka, the other waits for the results)."""
    rows = []
    for prefix, what, processes, baselines in (
        ("start_", "start", ("worker", "server", "client"), (("bare", "bare starts"),)),
        (
            "",
            "firing",
            ("worker", "server"),
            (("bare", "bare timers"), ("bare_escalating", "timers that publish")),
        ),
    ):
        for process in processes:
            key = f"{prefix}{process}_cpu_ms"
            for name, label in baselines:
                bare = (r.get(name) or {}).get(key)
                if r.get(key) is None or bare is None:
                    continue
                profiled = " (profiler on)" if what == "firing" and r.get("cpu_profiled") else ""
                rows.append(
                    [
                        f"{process} CPU per {what}, ms{profiled if process == 'worker' else ''}; "
                        f"baseline: {label}",
                        fmt(r[key], 2),
                        fmt(bare, 2),
                        f"{fmt(r[key] / bare, 2)}x" if bare else "",
                        "",
                    ]
                )
    windows = [(r.get(n) or {}).get("cpu_window_s") for n in ("bare", "bare_escalating")]
    if r.get("cpu_window_s") is not None:
        rows.append(
            [
                "firing's CPU window, s (deadlines to worker idle; bare / timers that publish)",
                fmt(r["cpu_window_s"], 1),
                " / ".join(fmt(w, 1) for w in windows if w is not None),
                "",
                "",
            ]
        )
    return rows


PARTS = {
    "timer_late": "the server fired the timer after its deadline",
    "task_wait": "its task waited for the worker",
    "task_and_round": "the task and its publishing round ran",
    "follow_up": "the task recording the round came after it",
}


def parts_rows(r: dict[str, Any]) -> list[list[str]]:
    """What a firing's lateness is made of, stage by stage, from a sample of histories on
    each side (``bench/firing_parts.py``): p50 / p99 seconds; baseline: timers that publish
    (the bare timers' own where there are none)."""
    mine = r.get("parts") or {}
    theirs = (r.get("bare_escalating") or {}).get("parts") or (r.get("bare") or {}).get("parts")
    if not mine or not theirs:
        return []

    def pair(parts: dict[str, Any], stage: str) -> str:
        return f"{fmt(parts.get(f'{stage}_p50_s'), 1)} / {fmt(parts.get(f'{stage}_p99_s'), 1)}"

    rows = [
        [f"firing stage p50 / p99, s: {label}", pair(mine, stage), pair(theirs, stage), "", ""]
        for stage, label in PARTS.items()
    ]
    rows.append(
        [
            f"workflow tasks timed out after a firing (of {mine['sampled']} / "
            f"{theirs['sampled']} histories read)",
            str(mine["tasks_timed_out"]),
            str(theirs["tasks_timed_out"]),
            "",
            "",
        ]
    )

    def left_out(parts: dict[str, Any]) -> str:
        return f"{fmt(parts.get('unread'), 0)} / {fmt(parts.get('no_firing'), 0)}"

    rows.append(
        [
            "histories drawn and left out: unreadable / no firing in the wave",
            left_out(mine),
            left_out(theirs),
            "",
            "",
        ]
    )
    return rows
