"""What the benchmark run prints and keeps: one table per benchmark on stdout, and every
headline figure with its baseline, ratio and target (``summary.json``)."""

from __future__ import annotations

from typing import Any

from bench.report import fmt, spread, table, verdict


def print_baselines(r: dict[str, Any]) -> None:
    k, t = r["kafka"], r["temporal"]
    print(
        table(
            f"1. Baselines (same brokers and Temporal server as the product; "
            f"concurrency {r['concurrency']}; message {r['value_bytes']} B)",
            ["figure", "median (min-max)", "runs x n"],
            [
                [
                    "(a) Kafka round trip p50, ms",
                    spread(k["round_trip_p50_ms"], 2),
                    f"{k['round_trip_p50_ms']['n']} x {k['n_round_trips']}",
                ],
                ["(a) Kafka round trip p99, ms", spread(k["round_trip_p99_ms"], 2), ""],
                [
                    "(a) Kafka throughput, msg/s",
                    spread(k["throughput_msgs_s"], 0),
                    f"{k['throughput_msgs_s']['n']} x {k['n_burst']}",
                ],
                [
                    "(b) Temporal update round trip p50, ms",
                    spread(t["round_trip_p50_ms"], 2),
                    f"{t['round_trip_p50_ms']['n']} x {t['n_round_trips']}",
                ],
                ["(b) Temporal update round trip p99, ms", spread(t["round_trip_p99_ms"], 2), ""],
                ["(b) Temporal query round trip p50, ms", spread(t["query_p50_ms"], 2), ""],
                [
                    "(b) Temporal updates/s",
                    spread(t["updates_s"], 0),
                    f"{t['updates_s']['n']} x {t['n_updates']} over {t['workflows']} workflows",
                ],
            ],
        )
    )


def print_latency(r: dict[str, Any]) -> None:
    print(
        table(
            f"3. End-to-end latency, light load ({len(r['runs'])} x {r['answers_per_repeat']} "
            "sequential signed answers: produce → visible in query)",
            ["figure", "median (min-max)", "baseline (a)+(b)", "ratio", "target"],
            [
                [
                    "p50, ms",
                    spread(r["p50_ms"], 1),
                    fmt(r["baseline_p50_ms"], 1),
                    f"{fmt(r['ratio_p50'], 2)}x ({fmt(r['ratio_p50_spread'][0], 2)}-"
                    f"{fmt(r['ratio_p50_spread'][1], 2)})",
                    f"<= 1.25x: {verdict(r['target_met'])}",
                ],
                [
                    "p99, ms",
                    spread(r["p99_ms"], 1),
                    fmt(r["baseline_p99_ms"], 1),
                    f"{fmt(r['ratio_p99'], 2)}x",
                    "",
                ],
                _against(
                    r,
                    "produce → event read downstream, p50, ms",
                    "downstream_p50_ms",
                    "(a)+(b)+(a) ",
                    "baseline_downstream_p50_ms",
                    "ratio_downstream_p50",
                ),
                [
                    "produce → event read downstream, p99, ms",
                    spread(r["downstream_p99_ms"], 1),
                    *("", "", ""),
                ],
                _against(
                    r,
                    "p50 against (a)+(b)+(b) query, ms",
                    "p50_ms",
                    "",
                    "baseline_with_query_p50_ms",
                    "ratio_p50_with_query",
                ),
                *_against_chain(r),
                _against(
                    r,
                    "part: product update round trip p50, ms (no Kafka)",
                    "product_update_p50_ms",
                    "(b) ",
                    "baseline_update_p50_ms",
                    "ratio_update_p50",
                ),
                *_against_update_out(r),
                _against(
                    r,
                    "part: progress query round trip p50, ms",
                    "progress_query_p50_ms",
                    "(b) query ",
                    "baseline_query_p50_ms",
                    "ratio_query_p50",
                ),
                _against(
                    r,
                    f"part: {r['readers']} readers polling, query p99, ms",
                    "readers_query_p99_ms",
                    "(b) query ",
                    "baseline_query_p50_ms",
                    "ratio_readers_query_p99",
                ),
                [
                    f"part: {r['readers']} readers polling, query p50 / max, ms",
                    f"{spread(r['readers_query_p50_ms'], 1)} / "
                    f"{spread(r['readers_query_max_ms'], 1)}",
                    *("", "", ""),
                ],
                [
                    "part: readers' queries / refused as ahead of history",
                    f"{r['readers_queries']:,} / {r['readers_refused_ahead']:,.0f}",
                    *("", "", ""),
                ],
            ],
        )
    )


def _against(
    r: dict[str, Any], label: str, figure: str, base_name: str, baseline: str, ratio: str
) -> list[str]:
    """A row of the latency table: a figure, its baseline (named) and their ratio."""
    return [
        label,
        spread(r[figure], 1),
        f"{base_name}{fmt(r[baseline], 1)}",
        f"{fmt(r[ratio], 2)}x",
        "",
    ]


def _against_update_out(r: dict[str, Any]) -> list[list[str]]:
    """The update alone against (b'), the bare update whose task also sends a message out
    (if measured)."""
    if "ratio_update_out_p50" not in r:
        return []
    return [
        _against(
            r,
            "part: product update p50 against (b') bare update + message out, ms",
            "product_update_p50_ms",
            "(b') ",
            "baseline_update_out_p50_ms",
            "ratio_update_out_p50",
        )
    ]


def _against_chain(r: dict[str, Any]) -> list[list[str]]:
    """Both end-to-end figures against (c), the same chain on bare parts (if measured)."""
    if "ratio_chain_p50" not in r:
        return []
    return [
        _against(r, "p50 against (c) bare chain, ms", "p50_ms", "(c) ", *_chain("chain")),
        _against(
            r,
            "→ event read downstream, p50 against (c), ms",
            "downstream_p50_ms",
            "(c) ",
            *_chain("chain_downstream"),
        ),
    ]


def _chain(name: str) -> tuple[str, str]:
    return f"baseline_{name}_p50_ms", f"ratio_{name}_p50"


def print_drain(r: dict[str, Any]) -> None:
    v = r["verify"]
    print(
        table(
            f"2. Backlog drain ({r['answers_per_repeat']:,} signed answers over "
            f"{r['requests']} requests per repeat, {len(r['runs'])} repeats)",
            ["figure", "median (min-max)", "baseline (b)", "ratio", "target"],
            [
                [
                    "answers/s (from bridge start)",
                    spread(r["answers_s"], 0),
                    f"{fmt(r['baseline_updates_s'], 0)} updates/s",
                    f"{fmt(r['ratio'], 2)}x ({fmt(r['ratio_spread'][0], 2)}-"
                    f"{fmt(r['ratio_spread'][1], 2)})",
                    f">= {r['target_ratio']}x: {verdict(r['target_met'])}",
                ],
                [
                    "answers/s (from the bridge's launch)",
                    spread(r["answers_s_from_launch"], 0),
                    "",
                    "",
                    "",
                ],
                [
                    "answers/s (bridge start until the worker is idle: events out too)",
                    spread(r["answers_s_until_idle"], 0) if "answers_s_until_idle" in r else "",
                    "",
                    "",
                    "",
                ],
                [
                    "applied / expected",
                    f"{v['applied']:,} / {v['expected']:,}",
                    "",
                    "",
                    f"exact: {verdict(v['ok'])}",
                ],
                [
                    "lost, duplicated, dead-lettered",
                    f"{v['lost']}, {v['duplicated']}, {v['dead_lettered']}",
                    "",
                    "",
                    "",
                ],
                *drain_cpu_rows(r),
            ],
        )
    )


def drain_cpu_rows(r: dict[str, Any]) -> list[list[str]]:
    """CPU per answer taken (worker, bridge, server) against a bare update's (its worker,
    its client, the server), and the sums: whether the drain's gap is work or waiting."""
    bare = r.get("baseline_cpu") or {}
    rows, ours, theirs = [], 0.0, 0.0
    for process, bare_process in (("worker", "worker"), ("bridge", "client"), ("server", "server")):
        mine = (r.get(f"{process}_cpu_ms") or {}).get("median")
        other = bare.get(f"update_{bare_process}_cpu_ms")
        if mine is None:
            continue
        ours += mine
        theirs += other or 0.0
        rows.append(
            [
                f"{process} CPU per answer, ms (bare: its {bare_process} per update)",
                spread(r[f"{process}_cpu_ms"], 2),
                fmt(other, 2) if other is not None else "",
                "",
                "",
            ]
        )
    if rows and theirs:
        rows.append(["CPU per answer, all three, ms", fmt(ours, 2), fmt(theirs, 2), "", ""])
    return rows


def print_long_life(r: dict[str, Any]) -> None:
    largest = r["replay_largest_run_s"]
    print(
        table(
            f"5. Long life (one request, {r['answers']:,} answers through Kafka and the bridge)",
            ["figure", "value", "reference", "ratio"],
            [
                [
                    "answers visible in query",
                    fmt(r["answers_seen"]),
                    fmt(r["answers"]),
                    verdict(r["all_applied"]),
                ],
                ["runs (continue-as-new)", fmt(r["runs"]), "", ""],
                [
                    "max events per run",
                    fmt(r["max_events_per_run"]),
                    f"{fmt(r['total_events'])} events in all",
                    f"{fmt(r['max_events_per_run'] / r['total_events'], 2)}x",
                ],
                ["max history bytes per run", fmt(r["max_bytes_per_run"]), "", ""],
                [
                    "max first-event (carried) bytes per run",
                    fmt(r["max_first_event_bytes"]),
                    "",
                    "",
                ],
                [
                    "largest run: events, bytes, replay s",
                    f"{fmt(r['largest_run']['events'])}, {fmt(r['largest_run']['bytes'])}, "
                    f"{fmt(r['largest_run']['replay_s'], 3)}",
                    "",
                    "",
                ],
                ["replay of the largest run, s", spread(largest, 3), "", ""],
                ["replay of every run, s", fmt(r["replay_total_s"], 3), "", ""],
                ["answers/s on one request", fmt(r["answers_s"], 0), "", ""],
            ],
        )
    )


def print_case(r: dict[str, Any]) -> None:
    print(
        table(
            f"6. Case (one State sends {r['answers']:,} answers to one request of a two-State "
            "case, through Kafka and the bridge)",
            ["figure", "value", "reference", "target"],
            [
                [
                    "max case history bytes per run",
                    fmt(r["max_bytes_per_run"]),
                    f"{fmt(r['total_bytes'])} bytes in all",
                    f"< {r['target_bytes_per_run']:,}: "
                    f"{verdict(r['max_bytes_per_run'] < r['target_bytes_per_run'])}",
                ],
                ["case runs (continue-as-new)", fmt(r["runs"]), "", ""],
                ["max case events per run", fmt(r["max_events_per_run"]), "", ""],
                [
                    "answers the case knows / applied",
                    f"{fmt(r['case_reported_answers'])} / {fmt(r['answers_seen'])}",
                    fmt(r["answers"]),
                    verdict(r["target_met"]),
                ],
                [
                    "the case / the other State's request",
                    f"{r['case_status']} / {r['other_state_status']}",
                    f"{r['other_state_answers_seen']} answers",
                    "",
                ],
                ["answers applied in, s", fmt(r["apply_seconds"], 1), "", ""],
                ["the flooded request's error", r.get("request_error") or "none", "", ""],
            ],
        )
    )


LATENCY_PARTS = (
    "downstream_p50_ms",
    "baseline_downstream_p50_ms",
    "ratio_downstream_p50",
    "ratio_p50_with_query",
    "product_update_p50_ms",
    "ratio_update_p50",
    "baseline_update_out_p50_ms",
    "ratio_update_out_p50",
    "progress_query_p50_ms",
    "ratio_query_p50",
)
"""The latency's parts (update alone, progress query alone), where the run measured them."""


def headline(out: dict[str, Any]) -> dict[str, Any]:
    """Every headline figure with its baseline and ratio."""
    h: dict[str, Any] = {}
    base = out.get("baselines")
    if base is not None:
        h |= {
            "kafka_round_trip_p50_ms": base["kafka"]["round_trip_p50_ms"],
            "kafka_throughput_msgs_s": base["kafka"]["throughput_msgs_s"],
            "temporal_update_round_trip_p50_ms": base["temporal"]["round_trip_p50_ms"],
            "temporal_updates_s": base["temporal"]["updates_s"],
        }
    if "case" in out:
        r = out["case"]
        h["case"] = {
            k: r[k] for k in ("answers", "runs", "max_bytes_per_run", "total_bytes", "case_status")
        }
        h["case"] |= {"target": "< 2,000,000 bytes per run", "met": r["target_met"]}
    if "drain" in out:
        r = out["drain"]
        h["drain"] = {"answers": r["answers_per_repeat"]}
        h["drain"] |= {k: r[k] for k in ("answers_s", "baseline_updates_s", "ratio")}
        target, met, exact = f">= {r['target_ratio']}", r["target_met"], r["verify"]["ok"]
        h["drain"] |= {"target": target, "met": met, "exact": exact}
    if "latency" in out:
        r = out["latency"]
        h["latency"] = {k: r[k] for k in ("p50_ms", "p99_ms", "baseline_p50_ms", "ratio_p50")}
        h["latency"] |= {"target": "<= 1.25", "met": r["target_met"]}
        h["latency"] |= {k: r.get(k) for k in LATENCY_PARTS}
    if "scale" in out:
        r = out["scale"]
        h["scale"] = {
            k: r[k]
            for k in (
                "target_requests",
                "started",
                "due_together",
                "starts_s",
                "peak_rss_mib",
                "lateness_p50_s",
                "lateness_p99_s",
                "not_fired",
                "target_met",
                "ratio_starts",
                "equal_counts",
                "fire_rate_s",
                "ratio_fire_rate",
                "ratio_lateness_p50",
                "ratio_lateness_p99",
                "ratio_fire_rate_escalating",
                "ratio_lateness_p99_escalating",
                "worker_cpu_ms",
                "server_cpu_ms",
                "start_worker_cpu_ms",
                "start_server_cpu_ms",
                "start_client_cpu_ms",
                "out_rate_s",
                "ratio_out_rate_escalating",
            )
            if k in r
        }
        for baseline in ("bare", "bare_escalating"):
            if baseline in r:
                h["scale"][baseline] = r[baseline]
    if "long_life" in out:
        r = out["long_life"]
        h["long_life"] = {
            k: r[k]
            for k in (
                "answers",
                "runs",
                "max_events_per_run",
                "total_events",
                "max_bytes_per_run",
                "max_first_event_bytes",
                "replay_total_s",
            )
        }
        h["long_life"]["replay_largest_run_s"] = r["replay_largest_run_s"]
    return h
