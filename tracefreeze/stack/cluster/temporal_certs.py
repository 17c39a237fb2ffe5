"""TLS of the cluster's Temporal server, as deploy/k8s/temporal-values.yaml declares it
(``server.tls``): mutual TLS between its services (``internode``: server and client
certificate ``temporal-internode``) and on its frontend (server certificate
``temporal-frontend``; client certificates required when the values say
``requireClientAuth``), every certificate issued by the cluster's local CA (``tls.py``, made
at start, never committed), with the server names of the values.

Its clients present ``tracefreeze-temporal-client`` (production's Secret
``tracefreeze-temporal-client-tls``): the workers, the bridges, the ``temporal`` CLI that
registers the namespace and search attributes, and every client of ``cluster.env``; the UI
server presents ``temporal-frontend``, as the Helm values' ``web.tls`` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tracefreeze.config import REPO_ROOT
from tracefreeze.stack.cluster import tls
from tracefreeze.stack.cluster.layout import Cluster

VALUES = REPO_ROOT / "deploy" / "k8s" / "temporal-values.yaml"
INTERNODE = "temporal-internode"
FRONTEND = "temporal-frontend"
CLIENT = "tracefreeze-temporal-client"


def helm_tls() -> dict[str, Any]:
    """``server.tls`` of the Helm values (``internode`` and ``frontend``)."""
    return yaml.safe_load(VALUES.read_text())["server"]["tls"]


def web_tls() -> dict[str, Any]:
    """``web.tls`` of the Helm values: how the UI server reaches the frontend."""
    return yaml.safe_load(VALUES.read_text())["web"]["tls"]


def server_name() -> str:
    """The name the frontend's certificate is checked against by every client."""
    return str(helm_tls()["frontend"]["serverName"])


def ensure(cluster: Cluster) -> None:
    """The three certificates (once), each for its production server name too."""
    groups = helm_tls()
    names = {
        INTERNODE: [groups["internode"]["serverName"]],
        FRONTEND: [groups["frontend"]["serverName"]],
    }
    tls.ensure(cluster, [INTERNODE, FRONTEND, CLIENT], names)


def _group(cluster: Cluster, cert: str, declared: dict[str, Any]) -> dict[str, Any]:
    ca = str(tls.ca_file(cluster))
    return {
        "server": {
            "certFile": str(tls.cert_file(cluster, cert)),
            "keyFile": str(tls.key_file(cluster, cert)),
            "requireClientAuth": bool(declared["requireClientAuth"]),
            "clientCaFiles": [ca],
        },
        "client": {"serverName": declared["serverName"], "rootCaFiles": [ca]},
    }


def server_config(cluster: Cluster) -> dict[str, Any]:
    """``global.tls`` of the server's config. The system workers reach the frontend with the
    internode certificate and ``frontend.client`` (the server's own default)."""
    groups = helm_tls()
    assert groups["internode"]["enabled"] and groups["frontend"]["enabled"], groups
    return {
        "internode": _group(cluster, INTERNODE, groups["internode"]),
        "frontend": _group(cluster, FRONTEND, groups["frontend"]),
    }


def client_files(cluster: Cluster) -> tuple[Path, Path, Path]:
    """CA, certificate and key of tracefreeze's Temporal clients."""
    return tls.ca_file(cluster), tls.cert_file(cluster, CLIENT), tls.key_file(cluster, CLIENT)


def client_settings(cluster: Cluster) -> dict[str, Any]:
    """The ``Settings`` fields of a Temporal client of the cluster (mutual TLS)."""
    ca, cert, key = client_files(cluster)
    return {
        "temporal_tls": True,
        "temporal_tls_ca_file": ca,
        "temporal_tls_cert_file": cert,
        "temporal_tls_key_file": key,
        "temporal_tls_server_name": server_name(),
    }


def client_env(cluster: Cluster) -> dict[str, str]:
    """The same as ``TRACEFREEZE_TEMPORAL_TLS_*`` variables, and as the ``temporal`` CLI's
    own ``TEMPORAL_TLS_*`` (as the search-attribute Job of deploy/k8s sets them)."""
    ca, cert, key = client_files(cluster)
    return {
        "TRACEFREEZE_TEMPORAL_TLS": "true",
        "TRACEFREEZE_TEMPORAL_TLS_CA_FILE": str(ca),
        "TRACEFREEZE_TEMPORAL_TLS_CERT_FILE": str(cert),
        "TRACEFREEZE_TEMPORAL_TLS_KEY_FILE": str(key),
        "TRACEFREEZE_TEMPORAL_TLS_SERVER_NAME": server_name(),
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(ca),
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(cert),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(key),
        "TEMPORAL_TLS_SERVER_NAME": server_name(),
    }


def cli_flags(cluster: Cluster) -> list[str]:
    """The ``temporal`` CLI's flags for the cluster's frontend."""
    ca, cert, key = client_files(cluster)
    return ["--tls-ca-path", str(ca), "--tls-cert-path", str(cert), "--tls-key-path", str(key),
            "--tls-server-name", server_name()]  # fmt: skip


def ui_config(cluster: Cluster) -> dict[str, Any]:
    """The UI server's ``tls`` block (its connection to the frontend), from ``web.tls``."""
    web = web_tls()
    return {
        "caFile": str(tls.ca_file(cluster)),
        "certFile": str(tls.cert_file(cluster, FRONTEND)),
        "keyFile": str(tls.key_file(cluster, FRONTEND)),
        "serverName": web["serverName"],
        "enableHostVerification": bool(web["enableHostVerification"]),
    }
