"""The processes a benchmark starts: ``python -m bench.apps worker|bridge|codec-server|
trivial-worker``.

``worker``, ``bridge`` and ``codec-server`` are the product's own ``run_worker`` /
``run_bridge`` / ``run_codec_server`` with the product's settings (the environment), logging
as the CLI does (INFO). ``trivial-worker``
runs the baseline's trivial workflow on a bare client (no data converter of ours);
``trivial-relay`` is baseline (c)'s bridge (``bench/bare_chain.py``).

``--profile PATH`` runs the process under pyinstrument (if installed) and writes
``PATH.html`` and ``PATH.txt`` when it stops; with ``--profile-on-signal`` the profiler
starts on SIGUSR1 instead of at once (and SIGUSR2 writes the profile early).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

import structlog

from tracefreeze.config import Settings, get_settings
from tracefreeze.ops.lifecycle import stop_on_signals
from tracefreeze.ops.logging import configure_logging
from tracefreeze.temporal import access, exit_process

log = structlog.get_logger("bench.apps")


class Profiling:
    """An optional pyinstrument profiler of this process's main thread."""

    def __init__(self, path: Path | None, on_signal: bool) -> None:
        self.path, self.on_signal = path, on_signal
        self.profiler: Any = None
        self.written = False
        if path is None:
            return
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("bench.apps: pyinstrument not installed; no profile", file=sys.stderr)
            self.path = None
            return
        self.profiler = Profiler(interval=0.002, async_mode="disabled")

    def install(self) -> None:
        """Start now, or on SIGUSR1. The signals are taken even with no profiler: their default
        action ends the process (a scale run without pyinstrument lost its worker at the
        firing it was to measure)."""
        if not self.on_signal:
            if self.profiler is not None:
                self.profiler.start()
            return
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, self.start)
        loop.add_signal_handler(signal.SIGUSR2, self.write)

    def start(self) -> None:
        if self.profiler is not None and not self.profiler.is_running and not self.written:
            self.profiler.start()
            log.info("profiler started")

    def write(self) -> None:
        if self.profiler is None or self.written or self.path is None:
            return
        if not self.profiler.is_running and self.profiler.last_session is None:
            return
        with contextlib.suppress(RuntimeError):
            self.profiler.stop()
        self.written = True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        Path(f"{self.path}.html").write_text(self.profiler.output_html(), encoding="utf-8")
        Path(f"{self.path}.txt").write_text(
            self.profiler.output_text(unicode=True, color=False, show_all=False),
            encoding="utf-8",
        )
        session = self.profiler.last_session
        if session is not None:  # self time per function: where the CPU actually went
            from pyinstrument.renderers import ConsoleRenderer

            flat = ConsoleRenderer(flat=True, show_all=True).render(session)
            Path(f"{self.path}.flat.txt").write_text("\n".join(flat.splitlines()[:60]))
        log.info("profile written", path=str(self.path))


async def _main(kind: str, profiling: Profiling) -> None:
    settings = get_settings()
    profiling.install()
    if kind == "worker":
        from tracefreeze.worker import run_worker

        await run_worker(settings)
    elif kind == "bridge":
        from tracefreeze.intake.bridge import run_bridge

        await run_bridge(settings)
    elif kind == "codec-server":  # the product's, in a thread: SIGTERM ends the process
        from tracefreeze.security.codec_server import run_codec_server

        await asyncio.to_thread(run_codec_server, settings.codec_port)
    elif kind == "trivial-relay":
        await run_trivial_relay(settings)
    else:
        await run_trivial_worker(settings)


TRANSMITTED_BYTES = 1024
"""The bare message's size: about a transmission event's."""


async def run_trivial_worker(settings: Settings) -> None:
    """Baseline (b)'s worker: bare client, the product worker's cache and task settings, and
    the one-message activity of the bare start (the product's producer settings)."""
    from temporalio import activity
    from temporalio.client import Client
    from temporalio.worker import Worker

    from bench.trivial import DUE_HEADER, TASK_QUEUE, TRANSMIT, CounterWorkflow, TimerWorkflow
    from tracefreeze.kafka import make_producer, start_with_timeout, stop_with_timeout
    from tracefreeze.worker import tuning

    client = await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, **access(settings)
    )
    producer = make_producer(settings, client_id="bench-trivial")
    await start_with_timeout(producer, settings.kafka_timeout_s)

    @activity.defn(name=TRANSMIT)
    async def transmit(topic: str, due: float = 0.0) -> None:
        key = activity.info().workflow_id.encode()
        headers = [(DUE_HEADER, repr(due).encode())] if due else None
        send = producer.send_and_wait(
            topic, value=b"x" * TRANSMITTED_BYTES, key=key, headers=headers
        )
        await asyncio.wait_for(send, settings.kafka_timeout_s)

    stop = asyncio.Event()
    try:
        with stop_on_signals(stop):
            async with Worker(
                client,
                task_queue=TASK_QUEUE,
                workflows=[CounterWorkflow, TimerWorkflow],
                activities=[transmit],
                **tuning(settings),
            ):
                log.info("trivial worker started", task_queue=TASK_QUEUE)
                await stop.wait()
    finally:
        await stop_with_timeout(producer, settings.kafka_timeout_s)


RELAY_TOPIC = "BENCH_RELAY_TOPIC"
RELAY_WORKFLOW = "BENCH_RELAY_WORKFLOW"
"""The environment of ``trivial-relay``: the topic it reads, the workflow it updates."""


async def run_trivial_relay(settings: Settings) -> None:
    """Baseline (c)'s bridge: reads a topic with the product's consumer settings (committed
    records, a group, commits by hand) and makes one update (``CounterWorkflow.bump``) of one
    workflow per record, committing each batch once its updates returned; no check of the
    message (the product's bridge verifies its signature and bounds: its own work)."""
    import os

    from temporalio.client import Client

    from bench.trivial import CounterWorkflow
    from tracefreeze.kafka import make_consumer, start_with_timeout, stop_with_timeout

    client = await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, **access(settings)
    )
    handle = client.get_workflow_handle(os.environ[RELAY_WORKFLOW])
    group = f"bench-relay-{os.environ[RELAY_TOPIC]}"  # a group per topic, per run
    consumer = make_consumer(settings, os.environ[RELAY_TOPIC], group_id=group)
    await start_with_timeout(consumer, settings.kafka_timeout_s)
    stop = asyncio.Event()
    try:
        with stop_on_signals(stop):
            while not consumer.assignment() and not stop.is_set():
                await consumer.getmany(timeout_ms=100)
            log.info("relay started")
            while not stop.is_set():
                for tp, records in (await consumer.getmany(timeout_ms=100)).items():
                    for _ in records:
                        await handle.execute_update(CounterWorkflow.bump)
                    await consumer.commit({tp: records[-1].offset + 1})
    finally:
        await stop_with_timeout(consumer, settings.kafka_timeout_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.apps")
    parser.add_argument(
        "kind", choices=("worker", "bridge", "codec-server", "trivial-worker", "trivial-relay")
    )
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--profile-on-signal", action="store_true")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    profiling = Profiling(args.profile, args.profile_on_signal)
    code = 0
    try:
        asyncio.run(_main(args.kind, profiling))
    except Exception as err:
        log.exception("app failed", error=repr(err))
        code = 1
    finally:
        profiling.write()
    exit_process(code)


if __name__ == "__main__":
    sys.exit(main())
