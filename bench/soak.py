"""Load held over time: ``python -m bench.run --only soak --soak-minutes 60`` (``make
bench-soak``; not part of the default run).

Setup (not timed): ``requests`` requests are submitted, acknowledged and frozen (so every
later valuation is a valid update). This machine's drain rate is measured first by a short
backlog drain (``bench/drain.py`` at its quick size) unless ``--soak-rate`` gives the rate to
hold. Then, for ``minutes``:

- signed valuations at half the drain rate, spread over the requests, through Kafka and the
  bridge, as States' systems send them (each request continues as new every few hundred);
- deadlines firing alongside: every minute ``deadlines_per_minute`` more requests start with
  their acknowledgement due a minute later, each firing the first step of its escalation
  ladder (the reminder) while the answers flow;
- the codec server decoding a payload of a request's history every 10 s, as the Temporal
  Web UI asks it to.

Every ``sample_s`` (a minute; less in a short run) the worker's, the bridge's and the codec
server's RSS and the bridge group's lag on the answers topic are sampled. At the end: every
answer applied exactly once (each request's count of answers taken, and the
``answer.accepted`` events on Kafka: one distinct event per answer) and nothing
dead-lettered, every deadline
fired once, RSS flat within 10% after warm-up (the peak of the later half of the samples
against the earlier half's; warm-up: a sixth of the run, and at least one and a half run
lives of a request at the rate, since a cached run's memory grows with its history until
it continues as new), the lag bounded (at most a minute of answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any, NamedTuple

from bench import drain as d
from bench.common import (
    GroupLag,
    StateSigner,
    answer_script,
    bounded,
    count_topic,
    end_offsets,
    percentile,
    send_and_wait_taken,
    wait_committed,
)
from bench.scale import collect_escalations
from bench.soak_load import CODEC_TOKEN, Sent, decode_like_the_ui, fire_deadlines, hold_rate
from bench.stack import BenchStack
from schemas.views import ANSWERS_PER_RUN
from tracefreeze.client import RequestClient
from tracefreeze.stack.ports import free_ports

TASK_QUEUE = "bench-soak"
RSS_FLAT = 1.10
"""After warm-up, the later half's peak RSS at most this times the earlier half's."""


class SoakSizes(NamedTuple):
    """How long, how many requests take the answers, how many deadlines fire a minute."""

    minutes: float = 60.0
    requests: int = 200
    """Acknowledged and frozen first; each then takes a valuation in turn."""
    deadlines_per_minute: int = 20
    rate_s: float | None = None
    """Answers per second to hold; None: half the drain rate measured first."""

    @property
    def sample_s(self) -> float:
        return min(60.0, self.minutes * 60 / 10)

    def warm_up_s(self, rate_s: float) -> float:
        """A sixth of the run, and at least one and a half run lives of a request at this
        rate (``ANSWERS_PER_RUN`` answers, then it continues as new): until then each cached
        request's run, and the worker's memory with it, still grows with its history."""
        life = ANSWERS_PER_RUN / (rate_s / self.requests) if rate_s > 0 else 0.0
        return max(60.0, self.minutes * 60 / 6, 1.5 * life)


class Samples:
    """RSS of each process and the bridge group's lag, one row per ``sample_s``."""

    def __init__(self, stack: BenchStack, apps: dict[str, Any], every_s: float) -> None:
        self.stack, self.apps, self.every_s = stack, apps, every_s
        self.rows: list[dict[str, Any]] = []

    async def run(self, t0: float, sent: Sent) -> None:
        settings = self.stack.settings
        topic = settings.topics.state_answers
        async with GroupLag(settings, settings.bridge_group_id) as group:
            while True:
                ends = await end_offsets(settings, topic)
                committed = await group.committed(topic)
                lag = None  # not known yet: no coordinator for the group
                if committed is not None:
                    lag = sum(max(0, end - committed.get(tp, 0)) for tp, end in ends.items())
                row: dict[str, Any] = {
                    "t_s": round(time.perf_counter() - t0, 1),
                    "sent": sent.count,
                    "lag": lag,
                }
                for name, app in self.apps.items():
                    if not app.running:
                        raise RuntimeError(f"{name} exited:\n{app.tail()}")
                    row[f"{name}_rss_mib"] = round((app.rss_bytes() or 0) / 2**20, 1)
                self.rows.append(row)
                print(f"  soak: {row}", flush=True)
                await asyncio.sleep(self.every_s)


async def accepted_on_kafka(settings: Any, prefix: str) -> dict[str, int]:
    """The ``answer.accepted`` events of the requests under ``prefix``: records, distinct
    event ids, distinct answers they name."""
    from tracefreeze.kafka import make_reader

    topic = settings.topics.request_events
    ends = await end_offsets(settings, topic)
    reader = make_reader(settings, client_id="bench-soak-count")
    await reader.start()
    records, ids, answers = 0, set(), set()
    try:
        reader.assign(list(ends))
        await reader.seek_to_beginning(*ends)
        while [tp for tp, end in ends.items() if await reader.position(tp) < end]:
            for batch in (await reader.getmany(timeout_ms=1000, max_records=5000)).values():
                for record in batch:
                    if not record.key.startswith(prefix.encode()):
                        continue
                    if b"answer.accepted" not in record.value:
                        continue
                    event = json.loads(record.value)
                    records += 1
                    ids.add(event["id"])
                    answers.add(event["caused_by"])
    finally:
        await reader.stop()
    return {"records": records, "distinct_events": len(ids), "distinct_answers": len(answers)}


async def run_soak(stack: BenchStack, signer: StateSigner, sizes: SoakSizes) -> dict[str, Any]:
    settings = stack.settings.model_copy(update={"task_queue": TASK_QUEUE})
    rate = sizes.rate_s
    drain = None
    if rate is None:
        print("  soak: measuring the drain rate first ...", flush=True)
        drain = await d.run_drain(stack, signer, d.QUICK_SIZES, float("nan"))  # no ratio
        rate = drain["answers_s"]["median"] / 2
    prefix = f"ICC-01/22-SOAK{uuid.uuid4().hex[:4].upper()}-"
    references = [f"{prefix}{i:05d}" for i in range(sizes.requests)]
    tokens = stack.state_dir / "soak-codec-tokens"
    tokens.write_text(CODEC_TOKEN + "\n", encoding="utf-8")
    port = free_ports(1)[0]
    apps = {
        "worker": stack.start_app("worker", TASK_QUEUE),
        "bridge": stack.start_app("bridge", TASK_QUEUE),
        "codec_server": stack.start_app(
            "codec-server",
            extra_env={
                "TRACEFREEZE_CODEC_PORT": str(port),
                "TRACEFREEZE_CODEC_AUTH": "token",
                "TRACEFREEZE_CODEC_TOKENS_FILE": str(tokens),
            },
            wait_for="codec server listening",
        ),
    }
    sent = Sent()
    dead_before = await count_topic(settings, settings.topics.dead_letter)
    tasks: list[asyncio.Task[Any]] = []  # the load's side tasks: cancelled if the load fails
    try:
        await d.submit_all(settings, references)
        head = [a for r in references for a in answer_script(r, 2, fresh=True)]
        for answer in head:
            sent.add(answer)
        await send_and_wait_taken(settings, signer, head, 300)
        run = uuid.uuid4().hex[:6].upper()
        print(f"  soak: {sizes.minutes:g} min at {rate:.0f} answers/s ...", flush=True)
        t0 = time.perf_counter()
        until = t0 + sizes.minutes * 60
        samples = Samples(stack, apps, sizes.sample_s)
        sampler = asyncio.create_task(samples.run(t0, sent))
        started: list[str] = []
        firing = asyncio.create_task(
            fire_deadlines(settings, run, sizes.deadlines_per_minute, until, started)
        )
        decoding = asyncio.create_task(decode_like_the_ui(stack, port, references, until))
        tasks += [sampler, firing, decoding]
        await hold_rate(settings, signer, references, rate, until, sent)
        stopped = time.time()
        sampler.cancel()  # the samples are of the load, not of the drain-out after it
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        await firing
        decoded = await decoding
        target = await end_offsets(settings, settings.topics.state_answers)
        done, _ = await wait_committed(settings, settings.topics.state_answers, target, 600)
        await _quiet(settings, settings.topics.request_events)  # the last rounds published
        fired_ids: dict[str, set[str]] = {}
        fired = await collect_escalations(settings, run, len(started), 300, fired_ids)
        seen = await _answers_seen(settings, references)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await stack.stop_apps()
    on_kafka = await accepted_on_kafka(settings, prefix)
    dead = await count_topic(settings, settings.topics.dead_letter) - dead_before
    lateness = [
        event.time.timestamp() - event.deadline.timestamp()
        for event, _ in fired
        if event.deadline is not None
    ]
    wrong = sum(1 for r in references if seen.get(r) != sent.per_request[r])
    out: dict[str, Any] = {
        "minutes": sizes.minutes,
        "rate_s": rate,
        "drain_answers_s": drain["answers_s"]["median"] if drain else None,
        "requests": sizes.requests,
        "samples": samples.rows,
        "answers_sent": sent.count,
        "answers_seen": sum(seen.values()),
        "requests_with_wrong_count": wrong,
        "accepted_on_kafka": on_kafka,
        "lost": sent.count - on_kafka["distinct_answers"],
        "dead_lettered": dead,
        "drained_after_s": None if done is None else done - stopped,
        "deadlines_started": len(started),
        "deadlines_fired": len(fired),
        "deadlines_fired_twice": sum(1 for ids in fired_ids.values() if len(ids) > 1),
        "firing_lateness_p50_s": percentile(lateness, 50),
        "firing_lateness_p99_s": percentile(lateness, 99),
        "codec_decodes": decoded,
    }
    out.update(_flatness(samples.rows, sizes, rate))
    out["exact"] = (
        wrong == 0
        and out["lost"] == 0
        and on_kafka["distinct_answers"] == on_kafka["distinct_events"] == sent.count
        and dead == 0
        and len(fired) == len(started)
        and out["deadlines_fired_twice"] == 0
        and decoded["failed"] == 0
    )
    out["target_met"] = out["exact"] and out["rss_flat"] is True and out["lag_bounded"] is True
    return out


async def _quiet(settings: Any, topic: str, still_s: float = 5.0, most_s: float = 120.0) -> None:
    """Until ``topic`` took nothing new for ``still_s``: the publishing rounds that follow
    the last updates are out (a round still retrying would otherwise count as lost)."""
    last, since, t0 = -1, time.monotonic(), time.monotonic()
    while time.monotonic() - t0 < most_s:
        now = await count_topic(settings, topic)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= still_s:
            return
        await asyncio.sleep(0.5)


async def _answers_seen(settings: Any, references: list[str]) -> dict[str, int]:
    client = await RequestClient.connect(settings)

    async def one(reference: str) -> tuple[str, int]:
        return reference, (await client.view(reference, "NLD")).answers_seen

    return dict(await bounded(4, [lambda r=r: one(r) for r in references]))


def _flatness(rows: list[dict[str, Any]], sizes: SoakSizes, rate: float) -> dict[str, Any]:
    """RSS growth after warm-up per process: the peak of the later half of the samples over
    the peak of the earlier half (a busy worker's memory is a saw: each cached request's run
    grows until it continues as new, so two single samples compare phases, not trends);
    lag's maximum."""
    warm_up = sizes.warm_up_s(rate)
    warm = [r for r in rows if r["t_s"] >= warm_up]
    growth: dict[str, float] = {}
    if len(warm) >= 4:  # else not measured: the run was too short for its warm-up
        earlier, later = warm[: len(warm) // 2], warm[len(warm) // 2 :]
        growth = {
            k.removesuffix("_rss_mib"): max(r[k] for r in later) / max(r[k] for r in earlier)
            for k in rows[0]
            if k.endswith("_rss_mib") and max(r[k] for r in earlier)
        }
    lags = [r["lag"] for r in rows if r["lag"] is not None]
    return {
        "warm_up_s": warm_up,
        "rss_growth_after_warm_up": growth,
        "rss_flat": all(g <= RSS_FLAT for g in growth.values()) if growth else None,
        "lag_max": max(lags) if lags else None,
        "lag_bounded": max(lags) <= rate * 60 if lags else None,
    }


def print_soak(r: dict[str, Any]) -> None:
    print(f"\n== Soak ({r['minutes']:g} min at {r['rate_s']:.0f} answers/s) ==")
    rows = [
        ("answers sent / taken", f"{r['answers_sent']:,} / {r['answers_seen']:,}"),
        (
            "answer.accepted on Kafka (records, distinct)",
            f"{r['accepted_on_kafka']['records']:,}, {r['accepted_on_kafka']['distinct_events']:,}",
        ),
        (
            "lost / dead-lettered / wrong counts",
            f"{r['lost']} / {r['dead_lettered']} / {r['requests_with_wrong_count']}",
        ),
        (
            "deadlines fired / started / fired twice",
            f"{r['deadlines_fired']} / {r['deadlines_started']} / {r['deadlines_fired_twice']}",
        ),
        (
            "firing lateness p50 / p99, s",
            f"{r['firing_lateness_p50_s']:.2f} / {r['firing_lateness_p99_s']:.2f}",
        ),
        (
            "RSS growth after warm-up",
            ", ".join(f"{k} {v:.2f}x" for k, v in r["rss_growth_after_warm_up"].items()),
        ),
        ("consumer lag max (answers)", f"{r['lag_max']}"),
        (
            "codec server decodes ok / failed",
            f"{r['codec_decodes']['decoded']} / {r['codec_decodes']['failed']}",
        ),
        ("exact; RSS flat; lag bounded", f"{r['exact']}; {r['rss_flat']}; {r['lag_bounded']}"),
    ]
    for name, value in rows:
        print(f"{name:<46} {value}")
