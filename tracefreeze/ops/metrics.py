"""The Prometheus metrics of the worker and bridge, and the Temporal SDK's own.

Ours are ``prometheus_client`` metrics in its default registry. The SDK's (workflow and
activity task latencies, polls, sticky cache, RPCs) come from the Rust core's Prometheus
exporter, bound to a free loopback port of this process: ``/metrics`` on the health port
(``tracefreeze/ops/http.py``) serves both, one scrape target per process.
"""

from __future__ import annotations

import socket
import urllib.request

from prometheus_client import Counter, Gauge, Histogram
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

ANSWERS_ACCEPTED = Counter(
    "tracefreeze_answers_accepted",
    "State answers a request took (duplicates included), by answer type.",
    ["answer_type"],
)
ANSWERS_REJECTED = Counter(
    "tracefreeze_answers_rejected",
    "State answers refused by the bridge's gate or by the request, by reason code.",
    ["reason"],
)
DEAD_LETTERED = Counter(
    "tracefreeze_dead_lettered",
    "Records written (and acknowledged) to the dead-letter topic, by dead-letter reason.",
    ["reason"],
)
ESCALATIONS = Counter(
    "tracefreeze_escalations",
    "Escalation events published, by ladder step (or kind when the event has no step).",
    ["step"],
)
QUERY_EVENTS_REFUSED = Counter(
    "tracefreeze_query_events_refused",
    "Activations the worker refused because they would run a request ahead of its history "
    "(events no workflow task holds yet, tracefreeze/history_bound.py). A few under load are "
    "expected; a steady rate, or repeats on one run, means a server clock stepping back.",
)
BRIDGE_LATENCY = Histogram(
    "tracefreeze_bridge_processing_seconds",
    "Time from reading a State's answer to its final outcome (accepted or dead-lettered).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
CONSUMER_LAG = Gauge(
    "tracefreeze_consumer_lag",
    "Records not yet taken by the bridge, per partition: last stable offset minus position, "
    "plus the records fetched and queued behind the partition's lane.",
    ["topic", "partition"],
)
ANSWERS_PARKED = Counter(
    "tracefreeze_answers_parked",
    "State answers set aside in the dead-letter topic so that their partition moves on: "
    "reason stuck (their request could not take them within the retry budget, or one of "
    "its earlier answers was) or throttled (their State was over its answer budget).",
    ["reason"],
)
OLDEST_STUCK = Gauge(
    "tracefreeze_oldest_stuck_answer_seconds",
    "Age of the oldest answer the bridge is still retrying (0 when none is).",
)
ANSWERS_THROTTLED = Counter(
    "tracefreeze_answers_throttled",
    "State answers held back by their State's answer budget (waited, or parked as "
    "throttled), by State.",
    ["state"],
)
FORGED_REPLAYS = Counter(
    "tracefreeze_forged_replays",
    "Answers carrying replay headers whose MAC did not verify under the Court's replay key "
    "(tracefreeze/intake/replay_auth.py): handled as fresh answers, by the State that signed them.",
    ["state"],
)

_sdk: tuple[Runtime, str] | None = None


def sdk_runtime() -> Runtime:
    """The process's Temporal runtime exporting SDK metrics (made once, on first use)."""
    global _sdk
    if _sdk is None:
        address = f"127.0.0.1:{_free_port()}"
        telemetry = TelemetryConfig(metrics=PrometheusConfig(bind_address=address))
        _sdk = (Runtime(telemetry=telemetry), f"http://{address}/metrics")
    return _sdk[0]


def sdk_metrics_text(timeout_s: float = 2.0) -> str:
    """The SDK exporter's current exposition, or "" when there is none (or it is down)."""
    if _sdk is None:
        return ""
    try:
        with urllib.request.urlopen(_sdk[1], timeout=timeout_s) as answer:
            return answer.read().decode()
    except OSError:
        return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
