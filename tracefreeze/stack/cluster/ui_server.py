"""The Temporal UI server of the cluster (``temporal-ui``), as deploy/k8s/temporal-values.yaml
runs it (``web:``): the Web UI on the cluster's frontend, its default namespace the one of
the Helm values, its codec endpoint the cluster's codec server so that a request's encrypted
payloads are decoded in the browser (RS 87(3): the content stays encrypted in Temporal).

The UI server reads ``<cluster>/temporal-ui/config/cluster.yaml`` (written at every start:
``--root <dir> --env cluster start``) and serves the UI and its HTTP API
(``/api/v1/settings``, ``/api/v1/namespaces/<ns>/workflows``...) on 127.0.0.1 at its own
port below 32768; it reaches the frontend over mutual TLS (``web.tls``). What differs from
production: no sign-in (``auth``), so no access token for the codec server to check: the UI
does not pass one and the cluster's codec server runs without authentication on 127.0.0.1
only, as the dev stack's does.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tracefreeze.config import REPO_ROOT
from tracefreeze.stack.cluster import temporal_certs
from tracefreeze.stack.cluster.layout import NAMESPACE, Cluster
from tracefreeze.stack.errors import StackError, tail_of
from tracefreeze.stack.pids import alive
from tracefreeze.stack.ports import HOST

NAME = "temporal-ui"
ENVIRONMENT = "cluster"
VALUES = REPO_ROOT / "deploy" / "k8s" / "temporal-values.yaml"


def web_env() -> dict[str, str]:
    """The Web UI's environment in the Helm values (``web.additionalEnv``)."""
    values = yaml.safe_load(VALUES.read_text())
    return {e["name"]: str(e["value"]) for e in values["web"].get("additionalEnv", [])}


def root(cluster: Cluster) -> Path:
    return cluster.dir / "temporal-ui"


def url(cluster: Cluster) -> str:
    return f"http://{HOST}:{cluster.ports.temporal_ui}"


def codec_endpoint(cluster: Cluster) -> str:
    """Where the browser posts payloads to decode: the cluster's codec server."""
    return f"http://{HOST}:{cluster.ports.codec}"


def config(cluster: Cluster) -> dict[str, Any]:
    p, web = cluster.ports, web_env()
    port = p.temporal_ui
    made = {
        "temporalGrpcAddress": f"{HOST}:{p.frontend}",
        "host": HOST,
        "port": port,
        "publicPath": "",
        "enableUi": True,
        "defaultNamespace": web.get("TEMPORAL_DEFAULT_NAMESPACE", NAMESPACE),
        "showTemporalSystemNamespace": False,
        "disableNewsFetch": True,
        "notifyOnNewVersion": False,
        "distribution": "server",
        "auth": {"enabled": False},
        # Served over plain HTTP on 127.0.0.1: the CSRF cookie cannot be Secure.
        "cors": {
            "cookieInsecure": True,
            "allowOrigins": [f"http://{HOST}:{port}", f"http://localhost:{port}"],
        },
        "codec": {
            "endpoint": codec_endpoint(cluster),
            "passAccessToken": False,  # no sign-in here, so no token (see the module's doc)
            "includeCredentials": False,
        },
    }
    if cluster.options.secured:  # mutual TLS to the frontend, as web.tls of the Helm values
        made["tls"] = temporal_certs.ui_config(cluster)
    return made


def write_config(cluster: Cluster) -> Path:
    directory = root(cluster) / "config"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{ENVIRONMENT}.yaml"
    with path.open("w") as out:
        out.write("# Written by tracefreeze/stack/cluster/ui_server.py at every start.\n")
        out.write(yaml.safe_dump(config(cluster), sort_keys=False))
    return path


def command(cluster: Cluster, binary: Path) -> list[str]:
    write_config(cluster)
    return [str(binary), "--root", str(root(cluster)), "--config", "config",
            "--env", ENVIRONMENT, "start"]  # fmt: skip


def settings(cluster: Cluster, timeout_s: float = 3.0) -> dict[str, Any]:
    """The UI server's ``/api/v1/settings`` (what the browser is told: the codec endpoint,
    the default namespace...); an OSError if it does not answer."""
    with urllib.request.urlopen(f"{url(cluster)}/api/v1/settings", timeout=timeout_s) as answer:
        return json.loads(answer.read())


def healthy(cluster: Cluster) -> bool:
    try:
        return "Codec" in settings(cluster)
    except (OSError, ValueError):
        return False


def wait_ready(cluster: Cluster, pid: int, deadline: float) -> None:
    log = cluster.log_dir / f"{NAME}.log"
    while not healthy(cluster):
        if not alive(pid):
            raise StackError(f"{NAME} exited during start (see {log})" + tail_of(log, 20))
        if time.monotonic() >= deadline:
            raise StackError(f"{NAME} not answering at {url(cluster)} (see {log})" + tail_of(log))
        time.sleep(0.3)
