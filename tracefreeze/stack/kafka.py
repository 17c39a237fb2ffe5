"""The local Kafka 4 broker: KRaft in combined mode (broker + controller), one node, run from
the Apache Kafka jars that Maven fetches once into the cache (``deploy/local/pom.xml``).

``TRACEFREEZE_KAFKA_SECURED=1``: clients and the broker itself authenticate with
SASL/SCRAM-SHA-512 (the users are made with the storage), the controller listener with
SASL/PLAIN as ``admin`` only (KRaft cannot use SCRAM there); KRaft's StandardAuthorizer denies
what no ACL allows, ``admin`` is the super user, and every principal gets exactly the ACLs of
``tracefreeze.security.kafka_acls`` (deploy/kafka-security.md).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from tracefreeze.config import REPO_ROOT
from tracefreeze.security.kafka_acls import ADMIN, apply_acls, ensure_users, scram_arguments
from tracefreeze.stack.errors import StackError, tail_of
from tracefreeze.stack.layout import Stack
from tracefreeze.stack.pids import alive
from tracefreeze.stack.ports import listening

KAFKA_VERSION = "4.1.1"
JAVA_MIN = 17
LOCAL = REPO_ROOT / "deploy" / "local"


def java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(Path(home) / "bin" / "java", os.X_OK):
        return str(Path(home) / "bin" / "java")
    return "java"


def check_java() -> None:
    command = java()
    if shutil.which(command) is None:
        raise StackError(
            f"java not found: install a JDK or JRE >= {JAVA_MIN} (Kafka {KAFKA_VERSION})"
        )
    out = subprocess.run([command, "-version"], capture_output=True, text=True, check=False)
    found = re.search(r'version "(?:1\.)?(\d+)', out.stderr + out.stdout)
    if found is None:
        raise StackError(f"cannot tell the java version from '{command} -version'")
    if int(found[1]) < JAVA_MIN:
        raise StackError(
            f"java {found[1]} is too old: Kafka {KAFKA_VERSION} needs java >= {JAVA_MIN}"
        )


def cksum(data: bytes) -> int:
    """POSIX ``cksum`` (CRC-32, polynomial 0x04C11DB7, length appended): the cache's key."""
    crc = 0
    for byte in data + _length_octets(len(data)):
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return ~crc & 0xFFFFFFFF


def _length_octets(n: int) -> bytes:
    out = b""
    while n:
        out += bytes([n & 0xFF])
        n >>= 8
    return out


def jars(stack: Stack) -> Path:
    """The directory of the Kafka jars, fetched with Maven once per ``pom.xml``."""
    pom = LOCAL / "pom.xml"
    cache = stack.options.cache_dir
    directory = cache / f"kafka-{KAFKA_VERSION}-{cksum(pom.read_bytes())}"
    if (directory / ".resolved").exists():
        return directory / "jars"
    if shutil.which("mvn") is None:
        raise StackError(
            f"mvn not found: install Maven >= 3.8 (needed once, to fetch the Kafka "
            f"{KAFKA_VERSION} jars)"
        )
    print(f"kafka: fetching the Kafka {KAFKA_VERSION} jars with Maven into {directory} (once)...")
    tmp = Path(tempfile.mkdtemp(prefix=".resolve.", dir=cache))
    log = cache / f"maven-{directory.name.rsplit('-', 1)[1]}.log"
    shutil.copy(pom, tmp / "pom.xml")
    with log.open("w") as out:
        done = subprocess.run(
            ["mvn", "-q", "-B", "-f", str(tmp / "pom.xml"), "dependency:copy-dependencies",
             f"-DoutputDirectory={tmp / 'jars'}", "-DincludeScope=runtime"],
            stdout=out, stderr=subprocess.STDOUT, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise StackError(
            f"Maven could not fetch the Kafka {KAFKA_VERSION} jars (log: {log})" + tail_of(log, 20)
        )
    (tmp / "pom.xml").unlink()
    (tmp / ".resolved").write_text(datetime.now(UTC).isoformat() + "\n")
    try:  # atomic publish; a concurrent stack may have won the race, which is fine
        tmp.rename(directory)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    if not (directory / ".resolved").exists():
        raise StackError(f"could not publish the Kafka jars to {directory}")
    return directory / "jars"


def admin_password(stack: Stack) -> str | None:
    """The super user's password on a secured broker (users made once); None if plaintext."""
    return ensure_users(stack.settings)[ADMIN] if stack.options.kafka_secured else None


AUTHORIZER = (
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "allow.everyone.if.no.acl.found=false",
    f"super.users=User:{ADMIN}",
)
"""What no ACL allows is denied; ``admin`` is the super user."""


def sasl_properties(admin: str) -> list[str]:
    """SASL on a broker's listeners: clients and brokers SCRAM-SHA-512 (users made with the
    storage), the controllers PLAIN as ``admin`` only (KRaft cannot use SCRAM there)."""
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
    login = f'username="{ADMIN}" password="{admin}"'
    return [
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
        "sasl.mechanism.controller.protocol=PLAIN",
        f"listener.name.client.scram-sha-512.sasl.jaas.config={scram} required {login};",
        "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
        f"listener.name.controller.plain.sasl.jaas.config={plain} required {login} "
        f'user_{ADMIN}="{admin}";',
    ]


def properties(stack: Stack, admin: str | None) -> str:
    host, port = stack.kafka
    controller = f"{host}:{stack.settings.kafka_controller_port}"
    common = [
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{controller}",
        "controller.listener.names=CONTROLLER",
        f"log.dirs={stack.kafka_dir / 'data'}",
        "num.partitions=1",
        "auto.create.topics.enable=false",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=3",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "log.retention.hours=168",
    ]
    if admin is None:
        listeners = [
            f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{controller}",
            f"advertised.listeners=PLAINTEXT://{host}:{port}",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        ]
    else:
        listeners = [
            f"listeners=CLIENT://{host}:{port},CONTROLLER://{controller}",
            f"advertised.listeners=CLIENT://{host}:{port}",
            "inter.broker.listener.name=CLIENT",
            "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
            *sasl_properties(admin),
            *AUTHORIZER,
        ]
    header = "# Written by tracefreeze/stack/kafka.py at every start; edit it, not this file."
    return "\n".join([header, *common[:3], *listeners, *common[3:]]) + "\n"


def java_command(stack: Stack, classpath: Path) -> list[str]:
    """The java command line up to the main class."""
    return [
        java(), "-Xms128m", f"-Xmx{stack.options.kafka_heap}", "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
        f"-Dkafka.logs.dir={stack.log_dir}",
        f"-Dlog4j2.configurationFile={LOCAL / 'log4j2.properties'}",
        "-cp", f"{classpath}/*",
    ]  # fmt: skip


def cluster_id() -> str:
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def prepare(stack: Stack, classpath: Path, admin: str | None) -> tuple[list[str], Path]:
    """Write the properties (0600: a secured broker's hold the admin's password), format the
    storage once; the broker's command line and its properties file."""
    props = stack.kafka_dir / "server.properties"
    fd = os.open(props, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(properties(stack, admin))
    command = java_command(stack, classpath)
    data = stack.kafka_dir / "data"
    if not (data / "meta.properties").exists():
        cid = cluster_id()
        print(f"kafka: formatting storage in {data} (cluster {cid})")
        scram = scram_arguments(ensure_users(stack.settings)) if admin is not None else []
        log = stack.log_dir / "kafka-format.log"
        with log.open("w") as out:
            format_storage = ["kafka.tools.StorageTool", "format", "-t", cid, "-c", str(props)]
            done = subprocess.run(
                [*command, *format_storage, *scram], stdout=out, stderr=subprocess.STDOUT
            )
        if done.returncode != 0:
            raise StackError(f"could not format the Kafka storage in {data}" + tail_of(log, 20))
    return [*command, "kafka.Kafka", str(props)], props


def apply_acl_plan(stack: Stack, classpath: Path) -> None:
    if apply_acls(stack.settings, java(), f"{classpath}/*") != 0:
        raise StackError("could not create the Kafka ACLs")
    print(
        f"kafka: SASL/SCRAM users and ACLs in place (passwords in {stack.kafka_dir / 'users.json'})"
    )


def wait_listening(started: float, deadline: float, stack: Stack, pid: int) -> None:
    """Until the broker accepts connections; fails at once if it exits."""
    host, port = stack.kafka
    while not listening(host, port):
        if not alive(pid):
            raise StackError(
                f"kafka exited during start (see {stack.log_dir / 'kafka.log'})"
                + tail_of(stack.log_dir / "kafka.out", 15)
                + tail_of(stack.log_dir / "kafka.log", 30)
            )
        if time.monotonic() >= deadline:
            raise StackError(
                f"kafka not listening on {host}:{port} after "
                f"{stack.options.stack_timeout_s:g}s (see {stack.log_dir / 'kafka.log'})"
            )
        time.sleep(0.3)
    print(f"kafka: listening on {host}:{port} ({time.monotonic() - started:.0f}s)")
