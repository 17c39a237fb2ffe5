"""The Temporal dev server of the local stack (``temporal server start-dev``, SQLite), with
every search attribute of ``workflows.search_attributes`` registered and its web UI wired to
the codec server, so that the UI shows decrypted payloads, and the dynamic config of
production's Helm values (deploy/k8s/temporal-values.yaml), which both engines take, plus the
dev server's own ``SINGLE_SHARD_DYNAMIC_CONFIG`` (it keeps every workflow in one history
shard)."""

from __future__ import annotations

import json
import os
import subprocess
import time

from tracefreeze.stack.errors import StackError, tail_of
from tracefreeze.stack.helm_values import helm_dynamic_config
from tracefreeze.stack.layout import Stack
from tracefreeze.stack.pids import alive
from workflows.search_attributes import dev_server_flags

SINGLE_SHARD_DYNAMIC_CONFIG: dict[str, int] = {"history.timerProcessorMaxPollRPS": 200}
"""Dynamic config of the dev server alone, which keeps every workflow in one history shard.

Temporal reads each shard's timer queue at most ``history.timerProcessorMaxPollRPS`` times a
second (default 20, up to 100 timer tasks a read), shared by priority among the queue's
readers. With one shard that cap is the whole namespace's. When thousands of deadlines fell
due together, the server split the tail of the wave off to a second reader, whose timers were
then loaded 25-54 a second and fired up to 35 s after their deadlines, while reads ran at the
cap; with the cap at 200 every timer of a wave was loaded within 8 s (``docs/operations.md``,
"Why the server fired timers late"). Its values are integers, as Temporal's setting is (a
test checks both). The production-shaped cluster has 512 shards at the default (the
Helm values do not set it). A stack already running keeps the arguments it was started with
(``make down && make up``)."""


def binary(stack: Stack) -> str:
    path = stack.venv_bin / "temporal"
    if not os.access(path, os.X_OK):
        raise StackError(f"temporal CLI not found at {path}: run make venv")
    return str(path)


def command(stack: Stack) -> list[str]:
    """``temporal server start-dev`` with the stack's address, UI, namespace and pragmas."""
    host, port = stack.temporal
    s, o = stack.settings, stack.options
    args = [binary(stack), "server", "start-dev", "--db-filename", str(stack.temporal_db)]
    args += ["--ip", host, "--port", str(port), "--log-level", "warn", *dev_server_flags()]
    if o.temporal_headless:
        args.append("--headless")
    else:
        args += ["--ui-port", str(s.temporal_ui_port), "--ui-disable-news-fetch"]
        args += ["--ui-codec-endpoint", f"http://127.0.0.1:{s.codec_port}"]
    if s.temporal_namespace != "default":
        args += ["--namespace", s.temporal_namespace]
    for key, settings in helm_dynamic_config().items():
        if len(settings) != 1 or settings[0].get("constraints"):
            raise StackError(f"dynamic config {key}: the dev server takes one value, unconstrained")
        if key in SINGLE_SHARD_DYNAMIC_CONFIG:
            raise StackError(
                f"dynamic config {key} is in the Helm values and in SINGLE_SHARD_DYNAMIC_CONFIG: "
                "set it in one place"
            )
        args += ["--dynamic-config-value", f"{key}={json.dumps(settings[0]['value'])}"]
    for key, value in SINGLE_SHARD_DYNAMIC_CONFIG.items():
        args += ["--dynamic-config-value", f"{key}={json.dumps(value)}"]
    for pragma in o.temporal_sqlite_pragmas.split():
        args += ["--sqlite-pragma", pragma]
    return args


def healthy(stack: Stack) -> bool:
    done = subprocess.run(
        [binary(stack), "operator", "cluster", "health", "--address",
         stack.settings.temporal_address, "--command-timeout", "3s"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.returncode == 0 and "SERVING" in done.stdout and "NOT_SERVING" not in done.stdout


def wait_serving(started: float, deadline: float, stack: Stack, pid: int) -> None:
    """Until the server answers its health check SERVING; fails at once if it exits."""
    log = stack.log_dir / "temporal.log"
    while not healthy(stack):
        if not alive(pid):
            raise StackError(f"temporal exited during start (see {log})" + tail_of(log, 30))
        if time.monotonic() >= deadline:
            raise StackError(
                f"temporal not SERVING on {stack.settings.temporal_address} after "
                f"{stack.options.stack_timeout_s:g}s (see {log})" + tail_of(log, 30)
            )
        time.sleep(0.3)
    took = time.monotonic() - started
    print(f"temporal: ready on {stack.settings.temporal_address} ({took:.0f}s)")
