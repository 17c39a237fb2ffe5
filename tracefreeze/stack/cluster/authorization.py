"""Temporal's own authorization on the cluster: the frontend refuses a call without a valid
token, and grants by the token's ``permissions`` (``tracefreeze/security/identity.py``).

The server's JWT claim mapper and default authorizer (``global.authorization``): the keys
from the local issuer's JWKS through ``file://`` (in production the Court's identity
provider's JWKS URL, deploy/k8s/temporal-values.yaml), tokens ES256 or RS256 with the audience
``identity.AUDIENCE``; a permission is ``<namespace>:<role>`` (read, write, worker, admin) or
``temporal-system:<role>`` for the cluster. Health checks stay open.

With an authorizer, the server's own system workflows (its ``worker`` service) must not call
the public frontend, which would refuse them: the server runs an ``internal-frontend``
service beside it, which the other services find through membership and which trusts them
(its claim mapper grants the internal principal, on the internode listener only, bound to
127.0.0.1 here and to the pod network in production).

``frontend.enablePrincipalPropagation`` lets the frontend pass the caller's principal to
the history service, which stamps it on the history events it writes for that call
(``HistoryEvent.principal``): who started a request, who signalled it, in Temporal's record.

The cluster's own clients get their tokens through their environment (``token_env``): the
workers and bridges their service's, the ``temporal`` CLI that makes the namespace and the
search attributes the admin's (``cli_flags``), every other client (``cluster.env``, the
drills) the Registry officer's.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tracefreeze.security import identity
from tracefreeze.stack.cluster.layout import Cluster, low_free_ports
from tracefreeze.stack.ports import HOST

SERVICES = ("frontend", "internal-frontend", "history", "matching", "worker")
"""The server's services, ``internal-frontend`` with them (the server's default omits it)."""
ADMIN = "tracefreeze-admin"
"""Makes the namespace and registers the search attributes (``temporal-system:admin``)."""
CLIENT = "registry-officer"
"""Whom ``cluster.env`` and the cluster's ``settings`` act as, unless told otherwise."""


def ensure(cluster: Cluster) -> None:
    """The local issuer, its JWKS and the demo users' tokens for the cluster's namespace."""
    identity.ensure_demo_identities(cluster.dir, cluster.settings.temporal_namespace)


def token_file(cluster: Cluster, subject: str) -> Path:
    return identity.token_file(cluster.dir, subject)


def token_env(cluster: Cluster, subject: str = CLIENT) -> dict[str, str]:
    return {"TRACEFREEZE_TEMPORAL_TOKEN_FILE": str(token_file(cluster, subject))}


def app_env(cluster: Cluster, kind: str) -> dict[str, str]:
    """An app's token: the worker's and the bridge's own; the codec server calls no Temporal."""
    return identity.app_token_env(cluster.dir, kind)


def server_config(cluster: Cluster, helm: dict[str, Any]) -> dict[str, Any]:
    """``global.authorization`` of the server's configuration: the Helm values' block
    (``helm``) with the local issuer's JWKS file as the key source."""
    made = copy.deepcopy(helm)
    made["jwtKeyProvider"]["keySourceURIs"] = [identity.jwks_file(cluster.dir).resolve().as_uri()]
    if made.get("audience") != identity.AUDIENCE:
        raise ValueError(f"the Helm values' audience is not {identity.AUDIENCE!r}")
    return made


def internal_ports(cluster: Cluster) -> tuple[int, int]:
    """The internal frontend's gRPC and membership ports, picked free once (below 32768, as
    every Temporal port: its membership port goes in a ``smallint``)."""
    path = cluster.dir / "temporal" / "internal-frontend-ports.json"
    if path.exists():
        grpc, membership = json.loads(path.read_text())
        return int(grpc), int(membership)
    taken = set(json.loads(cluster.ports.model_dump_json(exclude={"brokers", "controllers",
                "workers", "bridges"})).values())  # fmt: skip
    picked = [p for p in low_free_ports(6) if p not in taken][:2]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(picked))
    return picked[0], picked[1]


def with_authorization(
    cluster: Cluster, config: dict[str, Any], helm: dict[str, Any]
) -> dict[str, Any]:
    """``config`` with ``global.authorization`` and the ``internal-frontend`` service, from
    the Helm values' ``server.config.authorization`` (``helm``)."""
    grpc, membership = internal_ports(cluster)
    rpc = {"grpcPort": grpc, "membershipPort": membership, "bindOnIP": HOST}
    config["global"]["authorization"] = server_config(cluster, helm)
    config["services"]["internal-frontend"] = {"rpc": rpc}
    return config


def service_flags() -> list[str]:
    return [arg for service in SERVICES for arg in ("--service", service)]


def cli_flags(cluster: Cluster) -> list[str]:
    """Plain text unless the cluster's clients speak TLS: the ``temporal`` CLI turns TLS on by
    itself when given an API key (``cli_env``)."""
    return [] if cluster.options.secured else ["--tls=false"]


def cli_env(cluster: Cluster) -> dict[str, str]:
    """The ``temporal`` CLI as the admin: its token in ``TEMPORAL_API_KEY`` (not in argv,
    which every local user can read)."""
    return {"TEMPORAL_API_KEY": token_file(cluster, ADMIN).read_text().strip()}
