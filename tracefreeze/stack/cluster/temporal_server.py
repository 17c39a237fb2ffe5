"""The real Temporal server of the cluster (frontend, history, matching and worker services in
one process) on PostgreSQL, with advanced visibility in PostgreSQL too.

Its configuration is generated from deploy/k8s/temporal-values.yaml, the Helm values of
production: the history shards, the two SQL stores (plugin ``postgres12``, databases
``temporal`` and ``temporal_visibility``, their connection pools), the namespace and its
retention, and its TLS (``server.tls``: mutual TLS on the frontend and between the services,
``temporal_certs``). Only what differs on one machine differs: the address (127.0.0.1, free
ports), the password (the cluster's own), no TLS to PostgreSQL, the certificates (the
cluster's local CA). The databases are made with the module's
schema tool (``sql``: ``create-database``, ``setup-schema -v 0.0``, ``update-schema -d
<module>/schema/postgresql/v12/{temporal,visibility}/versioned``), the search attributes of
``workflows.search_attributes`` registered with the ``temporal`` CLI, as
deploy/k8s/temporal-search-attributes-job.yaml does.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from tracefreeze.stack.cluster import authorization, build, postgres, temporal_certs
from tracefreeze.stack.cluster.layout import NAMESPACE, Cluster
from tracefreeze.stack.errors import StackError, tail_of
from tracefreeze.stack.helm_values import helm_dynamic_config, helm_values
from tracefreeze.stack.pids import alive
from tracefreeze.stack.ports import HOST
from workflows.search_attributes import dev_server_flags

STORES = {"default": "temporal", "visibility": "visibility"}
"""Helm datastore -> the module's schema directory under schema/postgresql/v12."""
DYNAMIC = {
    # The dev server's setting: a search attribute registered is usable at once.
    "system.forceSearchAttributesCacheRefreshOnRead": [{"value": True, "constraints": {}}],
    "limit.maxIDLength": [{"value": 255, "constraints": {}}],
}


def namespace_retention() -> str:
    """The retention of the namespace ``tracefreeze`` in the Helm values."""
    namespaces = helm_values()["namespaces"]["namespace"]
    (ours,) = [n for n in namespaces if n["name"] == NAMESPACE]
    return str(ours["retention"])


def config_dir(cluster: Cluster) -> Path:
    return cluster.dir / "temporal"


def config(cluster: Cluster) -> dict[str, Any]:
    """The server's configuration, from the Helm values with the cluster's addresses."""
    p, persistence = cluster.ports, helm_values()["persistence"]
    secret = postgres.password(cluster)
    stores: dict[str, Any] = {}
    for name, store in persistence["datastores"].items():
        sql = {k: v for k, v in store["sql"].items() if k not in ("existingSecret", "secretKey")}
        sql |= {"connectAddr": f"{HOST}:{p.postgres}", "user": postgres.USER, "password": secret}
        sql.pop("tls", None)  # PostgreSQL listens on 127.0.0.1 only
        stores[name] = {"sql": sql}

    def service(grpc: int, membership: int, **extra: int) -> dict[str, Any]:
        rpc = {"grpcPort": grpc, "membershipPort": membership, "bindOnIP": HOST, **extra}
        return {"rpc": rpc}

    made = {
        "log": {"stdout": True, "level": "warn"},
        "persistence": {
            "defaultStore": persistence["defaultStore"],
            "visibilityStore": persistence["visibilityStore"],
            "numHistoryShards": persistence["numHistoryShards"],
            "datastores": stores,
        },
        "global": {
            "membership": {"maxJoinDuration": "30s", "broadcastAddress": HOST},
            "metrics": {
                "prometheus": {
                    "framework": "tally",
                    "timerType": "histogram",
                    "listenAddress": f"{HOST}:{p.temporal_metrics}",
                }
            },
        },
        "services": {
            "frontend": service(p.frontend, p.frontend_membership, httpPort=p.frontend_http),
            "history": service(p.history, p.history_membership),
            "matching": service(p.matching, p.matching_membership),
            "worker": service(p.internal_worker, p.internal_worker_membership),
        },
        "clusterMetadata": {
            "enableGlobalNamespace": False,
            "failoverVersionIncrement": 10,
            "masterClusterName": "active",
            "currentClusterName": "active",
            "clusterInformation": {
                "active": {
                    "enabled": True,
                    "initialFailoverVersion": 1,
                    "rpcName": "frontend",
                    "rpcAddress": f"{HOST}:{p.frontend}",
                }
            },
        },
        "dcRedirectionPolicy": {"policy": "noop"},
        "dynamicConfigClient": {
            "filepath": str(config_dir(cluster) / "dynamicconfig.yaml"),
            "pollInterval": "10s",
        },
    }
    if cluster.options.secured:
        made["global"]["tls"] = temporal_certs.server_config(cluster)
    return made


def write_config(cluster: Cluster) -> Path:
    """``temporal/config.yaml`` (0600: it holds the database password) and the dynamic config."""
    directory = config_dir(cluster)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dynamicconfig.yaml").write_text(yaml.safe_dump(DYNAMIC | helm_dynamic_config()))
    path = directory / "config.yaml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("# Written by tracefreeze/stack/cluster/temporal_server.py at every start.\n")
        made = authorization.with_authorization(
            cluster, config(cluster), helm_values()["authorization"]
        )
        out.write(yaml.safe_dump(made, sort_keys=False))
    return path


def _sql(cluster: Cluster, tools: Path, database: str, *args: str) -> None:
    env = dict(os.environ) | {"SQL_PASSWORD": postgres.password(cluster)}
    log = cluster.log_dir / "temporal-schema.log"
    with log.open("a") as out:
        done = subprocess.run(
            [str(tools / "sql"), "--plugin", "postgres12", "--ep", HOST,
             "--p", str(cluster.ports.postgres), "--u", postgres.USER, "--db", database, *args],
            env=env, stdout=out, stderr=subprocess.STDOUT, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise StackError(f"schema tool failed on {database}: {' '.join(args)}" + tail_of(log, 20))


def ensure_schema(cluster: Cluster, tools: Path, module: Path) -> None:
    """Both databases made once and updated to the module's schema at every start."""
    persistence = helm_values()["persistence"]
    made = postgres.home(cluster) / f"schema-{build.TEMPORAL_VERSION}"
    for store, schema in STORES.items():
        database = persistence["datastores"][store]["sql"]["databaseName"]
        versioned = module / "schema" / "postgresql" / "v12" / schema / "versioned"
        marker = postgres.home(cluster) / f"created-{database}"
        if not marker.exists():
            _sql(cluster, tools, database, "create-database")
            _sql(cluster, tools, database, "setup-schema", "-v", "0.0")
            marker.touch()
        if not made.exists():
            _sql(cluster, tools, database, "update-schema", "-d", str(versioned))
    made.touch()


def command(cluster: Cluster, tools: Path) -> list[str]:
    return [str(tools / "server"), "--config-file", str(write_config(cluster)), "start",
            *authorization.service_flags()]  # fmt: skip


def cli_command(cluster: Cluster, *args: str) -> list[str]:
    """``temporal <args>`` at the cluster's frontend (mutual TLS when secured)."""
    tls = temporal_certs.cli_flags(cluster) if cluster.options.secured else []
    address = cluster.settings.temporal_address
    temporal = str(cluster.stack.venv_bin / "temporal")
    auth = authorization.cli_flags(cluster)
    return [temporal, *args, "--address", address, "--command-timeout", "10s", *tls, *auth]


def _cli(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | authorization.cli_env(cluster)  # the admin's token, not in argv
    done = subprocess.run(cli_command(cluster, *args), env=env, capture_output=True, text=True)
    return done


def healthy(cluster: Cluster) -> bool:
    done = _cli(cluster, "operator", "cluster", "health")
    return done.returncode == 0 and "SERVING" in done.stdout and "NOT_SERVING" not in done.stdout


def wait_serving(cluster: Cluster, pid: int, deadline: float) -> None:
    log = cluster.log_dir / "temporal.log"
    while not healthy(cluster):
        if not alive(pid):
            raise StackError(f"temporal exited during start (see {log})" + tail_of(log, 30))
        if time.monotonic() >= deadline:
            raise StackError(f"temporal not SERVING (see {log})" + tail_of(log, 30))
        time.sleep(0.5)


def ensure_namespace(cluster: Cluster, deadline: float) -> None:
    """The namespace of the Helm values with its retention, then every search attribute."""
    ns = ["--namespace", NAMESPACE]
    while _cli(cluster, "operator", "namespace", "describe", *ns).returncode != 0:
        done = _cli(cluster, "operator", "namespace", "create", *ns,
                    "--retention", namespace_retention())  # fmt: skip
        if done.returncode == 0:
            print(f"temporal: namespace {NAMESPACE} created")
        elif time.monotonic() >= deadline:
            raise StackError(f"could not create namespace {NAMESPACE}: {done.stderr.strip()}")
        else:
            time.sleep(1)
    # A new namespace reaches the frontend's cache within seconds: until then it is unknown.
    while (listing := _cli(cluster, "operator", "search-attribute", "list", *ns)).returncode:
        if time.monotonic() >= deadline:
            raise StackError(f"namespace {NAMESPACE} not usable: {listing.stderr.strip()}")
        time.sleep(1)
    wanted = dict(flag.split("=") for flag in dev_server_flags()[1::2])
    missing = {name: kind for name, kind in wanted.items() if name not in listing.stdout}
    for name, kind in missing.items():
        done = _cli(cluster, "operator", "search-attribute", "create", *ns,
                    "--name", name, "--type", kind)  # fmt: skip
        if done.returncode != 0:
            raise StackError(f"could not register search attribute {name}: {done.stderr.strip()}")
    print(f"temporal: search attributes registered ({len(wanted)}, {len(missing)} new)")
