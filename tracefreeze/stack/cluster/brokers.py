"""The cluster's Kafka 4: three KRaft nodes, each broker and controller (three voters), run
from the same cached jars as the dev stack's broker (``tracefreeze.stack.kafka``).

Every topic gets the replicas and the config (``min.insync.replicas``, ``retention.ms``) that
production declares for it in deploy/k8s/base/kafka-topics.yaml, read from that file
(``topic_configs``; a topic of the drills, named apart, takes its role's): replication 3 with
``min.insync.replicas=2``, so that an acks=all write survives the loss of any one broker.
The internal topics (offsets, transactions) are replicated the same way.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from tracefreeze.config import REPO_ROOT, Settings, Topics
from tracefreeze.stack import kafka
from tracefreeze.stack.cluster import tls
from tracefreeze.stack.cluster.layout import BROKERS, Cluster
from tracefreeze.stack.errors import StackError, tail_of
from tracefreeze.stack.pids import alive
from tracefreeze.stack.ports import HOST, listening
from tracefreeze.topics import party_channels

REPLICATION = 3
MIN_INSYNC = 2
TOPICS = REPO_ROOT / "deploy" / "k8s" / "base" / "kafka-topics.yaml"


def production_topics() -> dict[str, dict[str, Any]]:
    """The KafkaTopic specs of deploy/k8s by topic name."""
    return {
        doc["spec"]["topicName"]: doc["spec"]
        for doc in yaml.safe_load_all(TOPICS.read_text())
        if doc and doc.get("kind") == "KafkaTopic"
    }


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Each topic of ``settings`` with the config production gives the topic of its role."""
    ours, default, specs = settings.topics, Topics(), production_topics()
    shared = [f for f in type(ours).model_fields if f != "party_channels"]  # that one a prefix
    roles = {getattr(ours, f): getattr(default, f) for f in shared}
    roles |= {ours.party_channel(c): default.party_channel(c) for c in party_channels(settings)}
    configs: dict[str, dict[str, str]] = {}
    for name, role in roles.items():
        spec = specs.get(role)
        if spec is None:
            raise StackError(f"{TOPICS.name} declares no topic {role}")
        if spec["replicas"] != REPLICATION:
            raise StackError(f"{TOPICS.name}: {role} has {spec['replicas']} replicas, not 3")
        configs[name] = {k: str(v) for k, v in spec.get("config", {}).items()}
    return configs


def name(node: int) -> str:
    return f"kafka-{node}"


def data_dir(cluster: Cluster, node: int) -> Path:
    return cluster.dir / "kafka" / f"broker-{node}"


def voters(cluster: Cluster) -> str:
    p = cluster.ports
    return ",".join(f"{n}@{HOST}:{p.controllers[n - 1]}" for n in range(1, BROKERS + 1))


def properties(cluster: Cluster, node: int, security: list[str]) -> str:
    """One node's properties; ``security``: its listener lines (``tls.listeners``)."""
    lines = [
        "# Written by tracefreeze/stack/cluster/brokers.py at every start.",
        "process.roles=broker,controller",
        f"node.id={node}",
        f"controller.quorum.voters={voters(cluster)}",
        "controller.listener.names=CONTROLLER",
        *security,
        f"log.dirs={data_dir(cluster, node)}",
        "num.partitions=1",
        "auto.create.topics.enable=false",
        f"default.replication.factor={REPLICATION}",
        f"min.insync.replicas={MIN_INSYNC}",
        "unclean.leader.election.enable=false",
        f"offsets.topic.replication.factor={REPLICATION}",
        "offsets.topic.num.partitions=3",
        f"transaction.state.log.replication.factor={REPLICATION}",
        f"transaction.state.log.min.isr={MIN_INSYNC}",
        f"share.coordinator.state.topic.replication.factor={REPLICATION}",
        f"share.coordinator.state.topic.min.isr={MIN_INSYNC}",
        "group.initial.rebalance.delay.ms=0",
        "log.retention.hours=168",
    ]
    return "\n".join(lines) + "\n"


def listeners(cluster: Cluster, node: int, admin: str | None) -> list[str]:
    return (
        plain_listeners(cluster, node) if admin is None else secured_listeners(cluster, node, admin)
    )


def plain_listeners(cluster: Cluster, node: int) -> list[str]:
    broker, controller = cluster.ports.brokers[node - 1], cluster.ports.controllers[node - 1]
    return [
        f"listeners=PLAINTEXT://{HOST}:{broker},CONTROLLER://{HOST}:{controller}",
        f"advertised.listeners=PLAINTEXT://{HOST}:{broker}",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    ]


def secured_listeners(cluster: Cluster, node: int, admin: str) -> list[str]:
    """SASL over TLS on both listeners: clients and brokers SCRAM-SHA-512 (users made with the
    storage), the controllers PLAIN as ``admin`` only (KRaft cannot use SCRAM there); the
    StandardAuthorizer denies what no ACL allows, ``admin`` is the super user."""
    broker, controller = cluster.ports.brokers[node - 1], cluster.ports.controllers[node - 1]
    return [
        f"listeners=CLIENT://{HOST}:{broker},CONTROLLER://{HOST}:{controller}",
        f"advertised.listeners=CLIENT://{HOST}:{broker}",
        "inter.broker.listener.name=CLIENT",
        "listener.security.protocol.map=CLIENT:SASL_SSL,CONTROLLER:SASL_SSL",
        *kafka.sasl_properties(admin),
        "ssl.keystore.type=PEM",
        f"ssl.keystore.location={tls.keystore(cluster, name(node))}",
        "ssl.truststore.type=PEM",
        f"ssl.truststore.location={tls.ca_file(cluster)}",
        *kafka.AUTHORIZER,
    ]


def java_command(cluster: Cluster, node: int, classpath: Path) -> list[str]:
    logs = cluster.log_dir / name(node)
    logs.mkdir(parents=True, exist_ok=True)
    return [
        kafka.java(), "-Xms128m", f"-Xmx{cluster.options.kafka_heap}", "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
        f"-Dkafka.logs.dir={logs}",
        f"-Dlog4j2.configurationFile={kafka.LOCAL / 'log4j2.properties'}",
        "-cp", f"{classpath}/*",
    ]  # fmt: skip


def cluster_id(cluster: Cluster) -> str:
    path = cluster.dir / "kafka" / "cluster-id"
    if not path.exists():
        path.write_text(kafka.cluster_id() + "\n")
    return path.read_text().strip()


def prepare(
    cluster: Cluster, node: int, classpath: Path, security: list[str], scram: list[str]
) -> list[str]:
    """Write the node's properties (0600), format its storage once; its command line."""
    props = cluster.dir / "kafka" / f"server-{node}.properties"
    fd = os.open(props, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(properties(cluster, node, security))
    command = java_command(cluster, node, classpath)
    data = data_dir(cluster, node)
    if not (data / "meta.properties").exists():
        log = cluster.log_dir / f"{name(node)}-format.log"
        with log.open("w") as out:
            done = subprocess.run(
                [*command, "kafka.tools.StorageTool", "format", "-t", cluster_id(cluster),
                 "-c", str(props), *scram],
                stdout=out, stderr=subprocess.STDOUT, check=False,
            )  # fmt: skip
        if done.returncode != 0:
            raise StackError(f"could not format the storage of {name(node)}" + tail_of(log, 20))
    return [*command, "kafka.Kafka", str(props)]


def wait_listening(cluster: Cluster, pids: dict[int, int], deadline: float) -> None:
    for node, pid in pids.items():
        port = cluster.ports.brokers[node - 1]
        while not listening(HOST, port):
            log = cluster.log_dir / name(node) / "kafka.log"
            if not alive(pid):
                raise StackError(f"{name(node)} exited during start" + tail_of(log, 30))
            if time.monotonic() >= deadline:
                raise StackError(f"{name(node)} not listening on {port}" + tail_of(log, 30))
            time.sleep(0.3)
