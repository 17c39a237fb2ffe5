"""PostgreSQL of the cluster: its own data dir and port, never the system's service.

``initdb`` refuses to run as root, so as root every PostgreSQL command runs as the
``postgres`` user (``setpriv``: the same process, so its pid file holds the server itself and
its environment still carries the cluster's state dir). The superuser is ``temporal``, the
role deploy/k8s/temporal-values.yaml connects with; its password is random, kept in
``<cluster>/postgres/password`` (0600). Connections over TCP on 127.0.0.1 only, SCRAM.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import time
from pathlib import Path

from tracefreeze.stack.cluster.layout import Cluster
from tracefreeze.stack.errors import StackError, tail_of
from tracefreeze.stack.pids import alive
from tracefreeze.stack.ports import HOST

USER = "temporal"
SYSTEM_USER = "postgres"


def bin_dir() -> Path:
    """The newest PostgreSQL server binaries (``TRACEFREEZE_PG_BIN`` to choose)."""
    chosen = os.environ.get("TRACEFREEZE_PG_BIN")
    if chosen:
        return Path(chosen)
    found = shutil.which("pg_config")
    if found:
        done = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(done.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not versions:
        raise StackError(
            "PostgreSQL not found: install the server (Debian: apt-get install postgresql) "
            "or set TRACEFREEZE_PG_BIN to its bin directory"
        )
    return versions[-1].parent


def as_owner() -> list[str]:
    """The prefix that runs a PostgreSQL command as its owner (``postgres`` when root)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={SYSTEM_USER}", f"--regid={SYSTEM_USER}", "--init-groups"]


def home(cluster: Cluster) -> Path:
    return cluster.dir / "postgres"


def data_dir(cluster: Cluster) -> Path:
    return home(cluster) / "data"


def password(cluster: Cluster) -> str:
    path = home(cluster) / "password"
    if not path.exists():
        home(cluster).mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def init(cluster: Cluster) -> None:
    """``initdb`` once: superuser ``temporal`` with the cluster's password, SCRAM on TCP."""
    data = data_dir(cluster)
    if (data / "PG_VERSION").exists():
        return
    secret = password(cluster)
    home(cluster).mkdir(parents=True, exist_ok=True)
    _own(home(cluster))
    pwfile = home(cluster) / "initdb-password"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    _own(pwfile)
    log = cluster.log_dir / "postgres-initdb.log"
    try:
        with log.open("w") as out:
            done = subprocess.run(
                [*as_owner(), str(bin_dir() / "initdb"), "-D", str(data), "-U", USER,
                 f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8",
                 "--locale=C", "--no-instructions"],
                stdout=out, stderr=subprocess.STDOUT, cwd=home(cluster), check=False,
            )  # fmt: skip
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise StackError(f"initdb failed in {data}" + tail_of(log, 20))
    print(f"postgres: initialised {data}")


def command(cluster: Cluster) -> list[str]:
    """The server itself (no pg_ctl: its pid is the postmaster's), TCP on 127.0.0.1 only."""
    return [
        *as_owner(), str(bin_dir() / "postgres"), "-D", str(data_dir(cluster)),
        "-p", str(cluster.ports.postgres), "-c", f"listen_addresses={HOST}",
        "-c", "unix_socket_directories=", "-c", "max_connections=200",
    ]  # fmt: skip


def ready(cluster: Cluster) -> bool:
    done = subprocess.run(
        [str(bin_dir() / "pg_isready"), "-h", HOST, "-p", str(cluster.ports.postgres), "-t", "2"],
        capture_output=True, check=False,
    )  # fmt: skip
    return done.returncode == 0


def wait_ready(cluster: Cluster, pid: int, deadline: float) -> None:
    log = cluster.log_dir / "postgres.log"
    while not ready(cluster):
        if not alive(pid):
            raise StackError("postgres exited during start" + tail_of(log, 30))
        if time.monotonic() >= deadline:
            raise StackError(f"postgres not ready on port {cluster.ports.postgres}" + tail_of(log))
        time.sleep(0.3)
