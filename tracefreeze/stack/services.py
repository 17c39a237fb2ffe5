"""The commands of the local stack: ``up`` and ``down`` (Kafka + Temporal), ``apps_up`` and
``apps_down`` (worker, bridge, codec server), ``status``. Each prints one line per step.

``up`` makes the local keys if missing (demo State signing keys + registry, payload codec
key, in ``<state dir>/keys``), starts what is not running, waits until it is healthy and
ensures the topics (and, secured, the users and ACLs); run again, it starts only what is down,
which is how the fault drills bring back a service they killed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import urllib.request
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import SecretStr

from tracefreeze.demo.keys import ensure_demo_keys
from tracefreeze.record.writer import configured_dsn
from tracefreeze.security.codec import ensure_codec_keys
from tracefreeze.security.identity import app_token_env, ensure_demo_identities
from tracefreeze.security.organ_keys import ensure_organ_keys, organ_keys_file
from tracefreeze.stack import kafka, temporal
from tracefreeze.stack.errors import StackError, tail_of
from tracefreeze.stack.layout import APPS, SERVICES, Stack
from tracefreeze.stack.pids import locked, record, recorded_address, running_pid, stop
from tracefreeze.stack.ports import HOST, check_distinct, check_free, listening, valid_port
from tracefreeze.stack.process import App
from tracefreeze.topics import ensure_topics

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own (the caller may have a loop running)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _start(stack: Stack, name: str, argv: list[str], env: dict[str, str], log: str) -> int:
    path = stack.log_dir / log
    with path.open("a") as out:
        out.write(f"----- {name} started {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} -----\n")
    health = {"worker": stack.options.worker_health_port}
    health["bridge"] = stack.options.bridge_health_port
    app = App(name, argv, env, path, health_port=health.get(name, 0), detached=True).start()
    return app.pid


def _already(stack: Stack, name: str, address: str) -> bool:
    """Runs from this state dir (with this address; another is refused)."""
    pid = running_pid(stack, name)
    if pid is None:
        return False
    recorded = recorded_address(stack, name)
    if recorded is not None and recorded != address:
        raise StackError(
            f"{name} already runs at {recorded} from {stack.state_dir}, not at {address}: "
            "run `make down` first"
        )
    print(f"{name}: already running (pid {pid}, {address})")
    return True


def _keys(stack: Stack) -> None:
    registry = ensure_demo_keys(stack.state_dir)
    ensure_codec_keys(stack.state_dir)
    organs = ensure_organ_keys(stack.state_dir)  # one signing key per organ, and the relay's
    print(f"keys: demo State keys and codec key in {registry.parent}; registry {registry}")
    print(f"keys: {len(organs.keys)} organ keys in {organ_keys_file(stack.state_dir)}")
    tokens = ensure_demo_identities(stack.state_dir, stack.settings.temporal_namespace)
    print(f"identity: demo users' tokens in {tokens} (tracefreeze whoami)")


def _topics(stack: Stack, admin: str | None, deadline: float, just_started: bool) -> None:
    """The broker accepts connections a little before it can create topics: retry until the
    deadline when it has just started, once when it was already running."""
    settings = stack.settings
    if admin is not None:
        settings = settings.model_copy(
            update={
                "kafka_security_protocol": "SASL_PLAINTEXT",
                "kafka_sasl_username": kafka.ADMIN,
                "kafka_sasl_password": SecretStr(admin),
            }
        )
    while True:
        try:
            created = _run(ensure_topics(settings))
        except Exception as exc:
            if not just_started or time.monotonic() >= deadline:
                reason = str(exc) or type(exc).__name__
                raise StackError(
                    f"could not ensure the Kafka topics on {settings.kafka_bootstrap}: {reason}"
                ) from exc
            time.sleep(1)
            continue
        print(f"kafka: topics created: {', '.join(created)}" if created else "kafka: topics exist")
        return


def up(stack: Stack) -> None:
    t0 = time.monotonic()
    s, o = stack.settings, stack.options
    (t_host, t_port), (k_host, k_port) = stack.temporal, stack.kafka
    ports = [
        t_port,
        k_port,
        valid_port(s.kafka_controller_port, "TRACEFREEZE_KAFKA_CONTROLLER_PORT"),
    ]
    if not o.temporal_headless:
        ports.append(valid_port(s.temporal_ui_port, "TRACEFREEZE_TEMPORAL_UI_PORT"))
    check_distinct(ports)
    stack.make_dirs()
    with locked(stack):
        _keys(stack)
        start_k = not _already(stack, "kafka", s.kafka_bootstrap)
        start_t = not _already(stack, "temporal", s.temporal_address)
        if start_k:
            kafka.check_java()
            check_free("kafka", "broker", k_host, k_port, "TRACEFREEZE_KAFKA_BOOTSTRAP")
            check_free("kafka", "controller", k_host, s.kafka_controller_port,
                       "TRACEFREEZE_KAFKA_CONTROLLER_PORT")  # fmt: skip
        if start_t:
            temporal.binary(stack)
            check_free("temporal", "gRPC", t_host, t_port, "TRACEFREEZE_TEMPORAL_ADDRESS")
            if not o.temporal_headless:
                check_free("temporal", "UI", t_host, s.temporal_ui_port,
                           "TRACEFREEZE_TEMPORAL_UI_PORT")  # fmt: skip
        admin = kafka.admin_password(stack)
        env = stack.child_env(admin)
        k_pid = t_pid = 0
        if start_k:
            classpath = kafka.jars(stack)
            argv, _ = kafka.prepare(stack, classpath, admin)
            k_pid = _start(stack, "kafka", argv, env, "kafka.out")
            record(stack, "kafka", k_pid, s.kafka_bootstrap)
            print(f"kafka: starting (pid {k_pid}, log {stack.log_dir / 'kafka.log'})")
        if start_t:
            t_pid = _start(stack, "temporal", temporal.command(stack), env, "temporal.log")
            record(stack, "temporal", t_pid, f"{s.temporal_address} {stack.ui_url}")
            print(f"temporal: starting (pid {t_pid}, log {stack.log_dir / 'temporal.log'})")
        deadline = t0 + o.stack_timeout_s
        if start_t:
            temporal.wait_serving(t0, deadline, stack, t_pid)
        if start_k:
            kafka.wait_listening(t0, deadline, stack, k_pid)
        _topics(stack, admin, deadline, start_k)
        if start_k and admin is not None:
            kafka.apply_acl_plan(stack, classpath)
        if start_k or start_t:
            print(f"stack: up in {time.monotonic() - t0:.0f}s; Temporal UI: {stack.ui_url}")


def _ready(stack: Stack, name: str, pid: int, health_port: int, deadline: float) -> None:
    """Until the app answers: /readyz 200 (worker, bridge), its port (codec server)."""
    log = stack.log_dir / f"{name}.log"
    while True:
        if running_pid(stack, name) != pid:
            raise StackError(f"{name} exited right after start (see {log})" + tail_of(log, 30))
        if name == "codec-server":
            if listening(HOST, stack.settings.codec_port):
                return
        elif health_port == 0:
            time.sleep(stack.options.apps_settle_s)  # no probe to ask: alive after a while
            if running_pid(stack, name) == pid:
                return
        else:
            try:
                with urllib.request.urlopen(f"http://{HOST}:{health_port}/readyz", timeout=2):
                    return
            except OSError:
                pass
        if time.monotonic() >= deadline:
            raise StackError(
                f"{name} not ready after {stack.options.stack_timeout_s:g}s (see {log})"
            )
        time.sleep(0.2)


def apps_up(stack: Stack) -> None:
    stack.make_dirs()
    o = stack.options
    with locked(stack):
        if running_pid(stack, "temporal") is None or running_pid(stack, "kafka") is None:
            raise StackError(
                f"Temporal and Kafka are not both running from {stack.state_dir}: run make up first"
            )
        env = stack.child_env(kafka.admin_password(stack))
        health = {"worker": o.worker_health_port, "bridge": o.bridge_health_port}
        started: dict[str, int] = {}
        for name in APPS:
            if name == "recorder" and not configured_dsn(stack.settings):
                print("recorder: no record store (skipped)")
                continue
            pid = running_pid(stack, name)
            if pid is not None:
                print(f"{name}: already running (pid {pid})")
                continue
            argv = stack.app_command(name)
            if name == "codec-server":
                check_free(name, "HTTP", HOST, stack.settings.codec_port, "TRACEFREEZE_CODEC_PORT")
                argv += ["--port", str(stack.settings.codec_port)]
            elif health.get(name):
                variable = f"TRACEFREEZE_{name.upper()}_HEALTH_PORT"
                check_free(name, "health", HOST, valid_port(health[name], variable), variable)
            own = env | app_token_env(stack.state_dir, name)  # its principal (identity.py)
            pid = _start(stack, name, argv, own, f"{name}.log")
            record(stack, name, pid)
            started[name] = pid
            print(f"{name}: starting (pid {pid}, log {stack.log_dir / f'{name}.log'})")
        deadline = time.monotonic() + o.stack_timeout_s
        for name, pid in started.items():
            _ready(stack, name, pid, health.get(name, 0), deadline)
            print(f"{name}: running")


def apps_down(stack: Stack) -> None:
    with locked(stack):
        print("\n".join(stop(stack, APPS)))


def down(stack: Stack) -> None:
    with locked(stack):
        print("\n".join(stop(stack, APPS) + stop(stack, SERVICES)))


def status(stack: Stack) -> list[str]:
    """One line per service and app, the UI address, the state dir."""
    s = stack.settings
    lines = []
    for name in (*SERVICES, *APPS):
        address = {
            "temporal": s.temporal_address,
            "kafka": s.kafka_bootstrap,
            "codec-server": f"http://{HOST}:{s.codec_port}",
        }.get(name, f"log {stack.log_dir / f'{name}.log'}")
        if name in SERVICES:
            address = recorded_address(stack, name) or address
        pid = running_pid(stack, name)
        state = f"running  pid {pid:<7}" if pid else f"stopped  {'':<11}"
        lines.append(f"{name:<13} {state} {address}")
    ui = stack.ui_url
    if running_pid(stack, "temporal") is not None:
        recorded = (stack.run_dir / "temporal.addr").read_text().split(maxsplit=1)
        ui = recorded[1].strip() if len(recorded) > 1 else ui
    lines += [f"{'ui':<13} {ui}", f"{'state':<13} {stack.state_dir}"]
    return lines
