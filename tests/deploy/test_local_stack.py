"""The local stack itself (``python -m tracefreeze.stack``, what ``make up`` runs): topics,
Temporal, idempotence, status, the apps, port clash, the Kafka jar cache's key."""

from __future__ import annotations

import asyncio
import itertools
import json
import mmap
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from tracefreeze.config import REPO_ROOT, Settings
from tracefreeze.stack import temporal as temporal_stack
from tracefreeze.stack.errors import StackError
from tracefreeze.stack.isolated import new_settings, run_cli, stack_env
from tracefreeze.stack.kafka import cksum
from tracefreeze.stack.layout import Stack, StackOptions
from tracefreeze.stack.pids import running_pid
from tracefreeze.stack.ports import HOST, free_ports
from tracefreeze.stack.temporal import SINGLE_SHARD_DYNAMIC_CONFIG
from workflows import search_attributes

pytestmark = pytest.mark.stack


async def test_topics_exist_with_their_partitions(stack: Settings) -> None:
    wanted = stack.topics.partitions()
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await asyncio.wait_for(admin.start(), stack.kafka_timeout_s)
    try:
        described = await asyncio.wait_for(
            admin.describe_topics(list(wanted)), stack.kafka_timeout_s
        )
    finally:
        await admin.close()
    found = {t["topic"]: t for t in described}
    assert set(found) == set(wanted)
    for topic, partitions in wanted.items():
        assert found[topic]["error_code"] == 0, topic
        assert len(found[topic]["partitions"]) == partitions, topic


async def test_temporal_serves_with_the_search_attributes(stack: Settings) -> None:
    client = await Client.connect(stack.temporal_address, namespace=stack.temporal_namespace)
    assert await client.service_client.check_health()
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=stack.temporal_namespace)
    )
    registered = dict(response.custom_attributes)
    for key in search_attributes.ALL:
        assert key.name in registered, key.name
        assert registered[key.name] == int(key.indexed_value_type), key.name


def test_second_up_says_already_running(stack: Settings) -> None:
    result = run_cli("up", stack, timeout_s=60)
    assert result.returncode == 0, result.stderr
    assert "kafka: already running" in result.stdout
    assert "temporal: already running" in result.stdout


def test_status_lists_every_service(stack: Settings) -> None:
    result = run_cli("status", stack, timeout_s=30)
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "running" in lines["temporal"] and stack.temporal_address in lines["temporal"]
    assert "running" in lines["kafka"] and stack.kafka_bootstrap in lines["kafka"]
    assert "stopped" in lines["worker"] and "stopped" in lines["bridge"]


def test_stack_sh_hands_over_to_python(stack: Settings) -> None:
    """``deploy/local/stack.sh`` (named in older notes) runs the same commands."""
    env = os.environ | stack_env(stack) | {"TRACEFREEZE_PYTHON": sys.executable}
    result = subprocess.run(
        [str(REPO_ROOT / "deploy" / "local" / "stack.sh"), "status"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == run_cli("status", stack, timeout_s=60).stdout.splitlines()
    assert "running" in result.stdout.splitlines()[0]


def test_apps_up_waits_until_each_app_serves_and_apps_down_stops_them(stack: Settings) -> None:
    worker, bridge = free_ports(2)
    own = {
        "TRACEFREEZE_WORKER_HEALTH_PORT": str(worker),
        "TRACEFREEZE_BRIDGE_HEALTH_PORT": str(bridge),
    }
    try:
        result = run_cli("apps-up", stack, timeout_s=180, overrides=own)
        assert result.returncode == 0, result.stdout + result.stderr
        # apps-up returned: each app answers now, no waiting here.
        for port in (worker, bridge):
            with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=5) as ready:
                assert ready.status == 200, port
        codec = socket.create_connection((HOST, stack.codec_port), timeout=5)
        codec.close()
        status = run_cli("status", stack, timeout_s=30, overrides=own).stdout
        lines = {line.split()[0]: line for line in status.splitlines()}
        for app in ("worker", "bridge", "codec-server"):
            assert "running" in lines[app], status
    finally:
        down = run_cli("apps-down", stack, timeout_s=120, overrides=own)
    assert down.returncode == 0, down.stderr
    for app in ("worker", "bridge", "codec-server"):
        assert f"{app}: stopped" in down.stdout, down.stdout
    assert not (stack.state_dir / "run" / "worker.pid").exists()


def test_jar_cache_key_is_posix_cksum() -> None:
    """The cache's directory is named by ``cksum`` of pom.xml, as the shell stack named it,
    so that a cache filled before is found again."""
    assert cksum(b"") == 4294967295
    assert cksum(b"abc") == 1219131554
    assert cksum(b"a" * 1000) != cksum(b"a" * 1001)


def test_up_fails_on_a_taken_port(tmp_path: Path) -> None:
    settings = new_settings(tmp_path / "state")
    port = int(settings.kafka_bootstrap.rsplit(":", 1)[1])
    with socket.socket() as listener:
        listener.bind((HOST, port))
        listener.listen()
        try:
            result = run_cli("up", settings, timeout_s=120)
        finally:
            run_cli("down", settings, timeout_s=60)
    assert result.returncode != 0
    assert str(port) in result.stderr
    assert "in use" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_the_dev_server_runs_with_its_single_shard_settings(stack: Settings) -> None:
    """The dev server keeps every workflow in one history shard, so its per-shard cap on timer
    queue reads is the namespace's; the stack raises it (``SINGLE_SHARD_DYNAMIC_CONFIG``), and
    the running server of this state dir was started with it. Each key must be one the engine
    knows, for Temporal takes an unknown key without a word: the running binary is searched for
    its name. Each value is an integer, the type of Temporal's setting."""
    pid = running_pid(Stack(stack, StackOptions()), "temporal")
    assert pid is not None, "the stack's Temporal server is not running"
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    given = {v.decode() for k, v in itertools.pairwise(argv) if k == b"--dynamic-config-value"}
    with (
        open(f"/proc/{pid}/exe", "rb") as exe,
        mmap.mmap(exe.fileno(), 0, access=mmap.ACCESS_READ) as server,
    ):
        for key, value in SINGLE_SHARD_DYNAMIC_CONFIG.items():
            assert type(value) is int, f"{key}: {value!r} is not an integer"
            assert f"{key}={json.dumps(value)}" in given, (key, sorted(given))
            assert server.find(key.encode()) >= 0, f"{key} is not a setting of the running server"


def test_a_setting_in_the_helm_values_and_for_the_single_shard_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One place for each setting: the dev server's command is not built with a key the Helm
    values set too (no stack needed: the command is only built)."""
    key = next(iter(SINGLE_SHARD_DYNAMIC_CONFIG))
    monkeypatch.setattr(
        temporal_stack, "helm_dynamic_config", lambda: {key: [{"value": 20, "constraints": {}}]}
    )
    settings = new_settings(tmp_path)
    with pytest.raises(StackError, match="set it in one place"):
        temporal_stack.command(Stack(settings, StackOptions()))
    monkeypatch.undo()
    args = temporal_stack.command(Stack(settings, StackOptions()))
    assert f"{key}={SINGLE_SHARD_DYNAMIC_CONFIG[key]}" in args
