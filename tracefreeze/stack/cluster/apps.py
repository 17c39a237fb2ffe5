"""The cluster's own processes of tracefreeze: two workers, two bridges (one consumer group:
the answers' partitions shared between them) and the codec server, as deploy/k8s runs them
(``replicas: 2``), each with its /metrics, /healthz and /readyz on a port of its own; and the
recorder, which keeps the record store (the Court's record of every event, answer and signed
Court action, ``tracefreeze/record/``) in its own database on the cluster's PostgreSQL.
"""

from __future__ import annotations

import time
import urllib.request
from datetime import UTC, datetime

from tracefreeze.security.kafka_acls import BRIDGE, RECORDER, WORKER
from tracefreeze.stack import record_store
from tracefreeze.stack.cluster.authorization import app_env
from tracefreeze.stack.cluster.layout import BRIDGES, WORKERS, Cluster
from tracefreeze.stack.errors import StackError, tail_of
from tracefreeze.stack.pids import record, running_pid
from tracefreeze.stack.ports import HOST, check_free, listening
from tracefreeze.stack.process import App


def names_and_ports(cluster: Cluster) -> dict[str, int]:
    """Each app's name (its pid file and log) and its HTTP port (health, or the codec's)."""
    p = cluster.ports
    apps = {f"worker-{i + 1}": p.workers[i] for i in range(WORKERS)}
    apps |= {f"bridge-{i + 1}": p.bridges[i] for i in range(BRIDGES)}
    return apps | {"codec-server": p.codec, "recorder": 0}  # the recorder serves no HTTP


def record_dsn(cluster: Cluster) -> str:
    """The record store's database on the cluster's PostgreSQL (``record_store.create_store``
    makes and migrates it at ``cluster-up``)."""
    return record_store.dsn(cluster, record_store.DATABASE)


def principal_env(cluster: Cluster, name: str) -> dict[str, str]:
    """Each app's own Kafka principal on a secured cluster, as in production: the workers
    ``tracefreeze-worker``, the bridges ``tracefreeze-bridge`` (their ACLs only); and its own
    Temporal token (``authorization.app_env``)."""
    principal = {"worker": WORKER, "bridge": BRIDGE, "recorder": RECORDER}.get(kind(name))
    own = {"TRACEFREEZE_RECORD_DSN": record_dsn(cluster)} if name == "recorder" else {}
    return (cluster.kafka_env(principal) if principal else {}) | app_env(cluster, kind(name)) | own


def kind(name: str) -> str:
    return name.rsplit("-", 1)[0] if name[-1].isdigit() else name


def start(cluster: Cluster, name: str, env: dict[str, str]) -> int:
    """Start one app detached (its pid file records it); its pid."""
    stack, port = cluster.stack, names_and_ports(cluster)[name]
    if port:
        check_free(name, "HTTP", HOST, port, f"{cluster.dir / 'ports.json'}")
    argv = stack.app_command(kind(name))
    health = port
    if name == "codec-server":
        argv += ["--port", str(port)]
        health = 0
    log = cluster.log_dir / f"{name}.log"
    with log.open("a") as out:
        out.write(f"----- {name} started {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} -----\n")
    app = App(name, argv, env, log, health_port=health, detached=True).start()
    record(stack, name, app.pid)
    return app.pid


def ready(cluster: Cluster, name: str) -> bool:
    port = names_and_ports(cluster)[name]
    if name == "codec-server":
        return listening(HOST, port)
    if name == "recorder":  # its consumer joined: it logs so once its topics are assigned
        log = cluster.log_dir / f"{name}.log"
        return log.exists() and "recorder started" in log.read_text(errors="replace")
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=2):
            return True
    except OSError:
        return False


def wait_ready(cluster: Cluster, started: dict[str, int], deadline: float) -> None:
    for name, pid in started.items():
        while not ready(cluster, name):
            log = cluster.log_dir / f"{name}.log"
            if running_pid(cluster.stack, name) != pid:
                raise StackError(f"{name} exited right after start" + tail_of(log, 30))
            if time.monotonic() >= deadline:
                raise StackError(f"{name} not ready (see {log})" + tail_of(log, 20))
            time.sleep(0.3)
        print(f"{name}: ready (pid {pid})")
