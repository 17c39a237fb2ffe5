"""``cluster-up``, ``cluster-down``, ``cluster-status``: the production shape on one machine.

``up`` starts what is not running, in order of need, and waits for each part's health:
PostgreSQL (schemas made or updated), the Temporal server (namespace and search attributes)
and its UI server (``ui_server``), the three Kafka nodes (topics replicated 3,
min.insync.replicas 2), the record store's database (made and migrated on the same
PostgreSQL), then two workers, two bridges, the codec server and the recorder. Run again, it
starts only what is down: that is how the drills bring back a process they killed.
``down`` stops the apps first, then the UI server and Temporal, the brokers and PostgreSQL
(state kept). Processes are found through their pid files only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from tracefreeze.demo.keys import ensure_demo_keys
from tracefreeze.security.codec import ensure_codec_keys
from tracefreeze.security.kafka_acls import (
    ADMIN,
    acl_plan,
    apply_acls,
    ensure_users,
    scram_arguments,
    users_file,
)
from tracefreeze.security.organ_keys import ensure_organ_keys
from tracefreeze.stack import kafka, record_store
from tracefreeze.stack.cluster import (
    apps,
    authorization,
    brokers,
    build,
    postgres,
    temporal_certs,
    temporal_server,
    tls,
    ui_build,
    ui_server,
)
from tracefreeze.stack.cluster.layout import BROKERS, Cluster
from tracefreeze.stack.errors import StackError
from tracefreeze.stack.layout import Stack
from tracefreeze.stack.pids import locked, record, running_pid, stop
from tracefreeze.stack.ports import HOST, listening
from tracefreeze.stack.process import App
from tracefreeze.stack.services import _run
from tracefreeze.topics import ensure_topics

LAST_BROKER_STOP_S = 10.0
SERVICES = ("postgres", "temporal", *(brokers.name(n) for n in range(1, BROKERS + 1)))


def _start(cluster: Cluster, name: str, argv: list[str], env: dict[str, str]) -> int:
    log = cluster.log_dir / f"{name}.log"
    pid = App(name, argv, env, log, detached=True).start().pid
    record(cluster.stack, name, pid)
    print(f"{name}: starting (pid {pid}, log {log})", flush=True)
    return pid


def _step(what: str, t0: float, action: Callable[[], object]) -> None:
    started = time.monotonic()
    action()
    print(f"{what}: ready ({time.monotonic() - started:.1f}s; {time.monotonic() - t0:.0f}s "
          "since cluster-up)", flush=True)  # fmt: skip


def _acls(cluster: Cluster, classpath: Path) -> None:
    """The ACL plan of deploy/kafka-security.md on the brokers, as ``admin`` over TLS."""
    s = cluster.client_settings()
    if apply_acls(s, kafka.java(), f"{classpath}/*", tls_ca=s.kafka_ssl_cafile) != 0:
        raise StackError("could not create the Kafka ACLs")
    print(f"kafka: SASL/SCRAM over TLS, {len(acl_plan(s))} ACLs (users in "
          f"{users_file(cluster.dir)}, CA {tls.ca_file(cluster)})")  # fmt: skip


def _topics(cluster: Cluster, deadline: float) -> None:
    s = cluster.client_settings()
    configs = brokers.topic_configs(s)
    while True:
        try:
            created = _run(ensure_topics(s, brokers.REPLICATION, configs))
        except Exception as exc:
            if time.monotonic() >= deadline:
                raise StackError(f"could not ensure the Kafka topics: {exc}") from exc
            time.sleep(1)
            continue
        print(f"kafka: topics created: {len(created)}" if created else "kafka: topics exist")
        return


def up(cluster: Cluster, with_apps: bool = True) -> None:
    """Start what is down; ``with_apps`` False: the services only (the drills run their own)."""
    t0 = time.monotonic()
    stack = cluster.stack
    cluster.make_dirs()
    deadline = t0 + cluster.options.timeout_s
    with locked(stack):
        ensure_demo_keys(cluster.dir)
        ensure_organ_keys(cluster.dir)  # each organ's signing key in its folder, the relay's
        ensure_codec_keys(cluster.dir)
        authorization.ensure(cluster)
        tools = build.build(cluster.cache_dir)
        ui = ui_build.build_ui(cluster.cache_dir)
        module = build.module_dir()
        env = stack.child_env()
        new = {name for name in SERVICES if running_pid(stack, name) is None}
        if "postgres" in new:
            postgres.init(cluster)
            pid = _start(cluster, "postgres", postgres.command(cluster), env)
            _step("postgres", t0, lambda: postgres.wait_ready(cluster, pid, deadline))
        started_brokers: dict[int, int] = {}
        admin, scram = None, []
        if cluster.options.secured:
            users = ensure_users(cluster.settings)
            admin, scram = users[ADMIN], scram_arguments(users)
            tls.ensure(cluster, [brokers.name(n) for n in range(1, BROKERS + 1)])
            temporal_certs.ensure(cluster)
        classpath = kafka.jars(stack)
        if new & set(SERVICES[2:]):
            kafka.check_java()
            for node in range(1, BROKERS + 1):
                if brokers.name(node) in new:
                    lines = brokers.listeners(cluster, node, admin)
                    argv = brokers.prepare(cluster, node, classpath, lines, scram)
                    started_brokers[node] = _start(cluster, brokers.name(node), argv, env)
        _step("schema", t0, lambda: temporal_server.ensure_schema(cluster, tools, module))
        _step("record store", t0, lambda: asyncio.run(record_store.create_store(cluster)))
        if "temporal" in new:
            pid = _start(cluster, "temporal", temporal_server.command(cluster, tools), env)
            _step("temporal", t0, lambda: temporal_server.wait_serving(cluster, pid, deadline))
        temporal_server.ensure_namespace(cluster, deadline)
        if running_pid(stack, ui_server.NAME) is None:
            pid = _start(cluster, ui_server.NAME, ui_server.command(cluster, ui), env)
            _step(ui_server.NAME, t0, lambda: ui_server.wait_ready(cluster, pid, deadline))
        _step("kafka", t0, lambda: brokers.wait_listening(cluster, started_brokers, deadline))
        _topics(cluster, deadline)
        applied = cluster.dir / "kafka" / "acls-applied"
        if admin is not None and not applied.exists():  # kept in the metadata log after
            _acls(cluster, classpath)
            applied.touch()
        cluster.write_env({"TRACEFREEZE_RECORD_DSN": apps.record_dsn(cluster)})
        if with_apps:
            names = [n for n in apps.names_and_ports(cluster) if running_pid(stack, n) is None]
            app_env = env | cluster.temporal_env()
            started = {
                n: apps.start(cluster, n, app_env | apps.principal_env(cluster, n)) for n in names
            }
            _step("apps", t0, lambda: apps.wait_ready(cluster, started, deadline))
        print(f"cluster: up in {time.monotonic() - t0:.0f}s; UI {ui_server.url(cluster)}; "
              f"clients: set -a; . {cluster.env_file}")  # fmt: skip


def down(cluster: Cluster) -> None:
    stack = cluster.stack
    with locked(stack):
        lines = stop(stack, tuple(apps.names_and_ports(cluster)))
        lines += stop(stack, (ui_server.NAME, "temporal"))
        *others, last = SERVICES[2:]
        for broker in others:  # one by one: each hands its partitions over in turn
            lines += stop(stack, (broker,))
        # The last broker has no quorum left to confirm its controlled shutdown and waits for
        # ever: killed after LAST_BROKER_STOP_S (its logs are recovered at the next start).
        options = stack.options.model_copy(update={"stop_timeout_s": LAST_BROKER_STOP_S})
        lines += stop(Stack(stack.settings, options), (last,))
        lines += stop(stack, ("postgres",))
    print("\n".join(lines))


def addresses(cluster: Cluster) -> dict[str, str]:
    p = cluster.ports
    found = {
        "postgres": f"{HOST}:{p.postgres}",
        "temporal": f"{HOST}:{p.frontend}",
        ui_server.NAME: f"{HOST}:{p.temporal_ui}",
        **{brokers.name(n): f"{HOST}:{p.brokers[n - 1]}" for n in range(1, BROKERS + 1)},
    }
    found |= {name: f"{HOST}:{port}" for name, port in apps.names_and_ports(cluster).items()}
    return found | {"recorder": f"{HOST}:{p.postgres}/{record_store.DATABASE}"}


def _answers(cluster: Cluster, name: str, address: str) -> bool:
    if name == ui_server.NAME:
        return ui_server.healthy(cluster)
    if name == "recorder":  # no port of its own: its log says its consumer started
        return apps.ready(cluster, name)
    host, port = address.rsplit(":", 1)
    return listening(host, int(port))


def status(cluster: Cluster) -> list[str]:
    """One line per process: healthy (pid alive and its port answering), or what is wrong."""
    stack, lines = cluster.stack, []
    for name, address in addresses(cluster).items():
        pid = running_pid(stack, name)
        if pid is None:
            state = "stopped"
        elif _answers(cluster, name, address):
            state = "healthy"
        else:
            state = "no answer"
        lines.append(f"{name:<13} {state:<9} {'pid ' + str(pid) if pid else '':<10} {address}")
    lines += [f"{'namespace':<13} {cluster.settings.temporal_namespace}",
              f"{'ui':<13} {ui_server.url(cluster)}",
              f"{'state':<13} {cluster.dir}", f"{'clients':<13} {cluster.env_file}"]  # fmt: skip
    return lines


def healthy(cluster: Cluster) -> bool:
    return all(" healthy " in line for line in status(cluster)[: len(addresses(cluster))])
