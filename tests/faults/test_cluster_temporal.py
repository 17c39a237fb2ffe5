"""The Temporal server of the production-shaped cluster (``make cluster-up``) as its clients
meet it.

Its UI server, through the UI server's own HTTP API: what the browser is told (the codec
endpoint: the cluster's codec server), a workflow of the namespace listed from the real
server's SQL visibility, and an encrypted payload of its history decoded by the codec server
for the UI's origin, as the browser does (RS 87(3): the content is encrypted in Temporal and
shown to the Court's user).

Its frontend's mutual TLS (``server.tls`` of deploy/k8s/temporal-values.yaml): a plain-text
client and a TLS client without a certificate are refused, a client with the cluster's
certificate is served.

Skipped with the cluster drills' ``NOT RUN`` reason when the Go build is not cached.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import TLSConfig

from tests.faults.cluster import started_cluster
from tracefreeze.security.identity import configured_token
from tracefreeze.stack.cluster import apps, ui_server
from tracefreeze.stack.cluster.layout import NAMESPACE, Cluster
from tracefreeze.temporal import connect

pytestmark = [pytest.mark.cluster, pytest.mark.faults]

CODEC = "codec-server"
WAIT_S = 60.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """The cluster's services (Temporal, its UI server...) and its codec server."""
    for cluster in started_cluster():
        pid = apps.start(cluster, CODEC, cluster.stack.child_env())
        apps.wait_ready(cluster, {CODEC: pid}, time.monotonic() + WAIT_S)
        yield cluster  # control.down (started_cluster) stops the codec server too


def get(url: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as answer:
        return json.loads(answer.read())


def api(cluster: Cluster, path: str, **query: str) -> Any:
    """GET ``/api/v1/<path>`` of the UI server (the routes its browser code calls) as the
    officer: the UI server forwards the caller's ``Authorization`` to the frontend, whose JWT
    authorizer refuses a call without one (``test_cluster_auth.py``)."""
    suffix = f"?{urlencode(query)}" if query else ""
    return get(
        f"{ui_server.url(cluster)}/api/v1/{path}{suffix}", configured_token(cluster.settings)
    )


def until_listed(cluster: Cluster, path: str, query: str) -> dict[str, Any]:
    """The UI server's listing for ``query`` once it holds an execution (SQL visibility is
    written just after the start); fails after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not (listed := api(cluster, path, query=query)).get("executions"):
        assert time.monotonic() < deadline, f"not listed by the UI server after {WAIT_S}s"
        time.sleep(0.5)
    return listed


def decode(endpoint: str, origin: str, payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """``POST <endpoint>/decode`` as the UI's page in the browser does: the decoded payload
    and the ``Access-Control-Allow-Origin`` answered."""
    request = urllib.request.Request(
        f"{endpoint}/decode",
        data=json.dumps({"payloads": [payload]}).encode(),
        headers={"Content-Type": "application/json", "Origin": origin, "X-Namespace": NAMESPACE},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        (decoded,) = json.loads(answer.read())["payloads"]
        return decoded, answer.headers["Access-Control-Allow-Origin"]


async def test_the_ui_server_lists_a_workflow_and_its_payloads_decode(cluster: Cluster) -> None:
    settings = await asyncio.to_thread(api, cluster, "settings")
    assert settings["DefaultNamespace"] == NAMESPACE
    assert settings["Codec"]["Endpoint"] == f"http://127.0.0.1:{cluster.ports.codec}"

    secret = f"probe-{uuid.uuid4().hex}"
    workflow_id = f"ui-probe-{uuid.uuid4().hex[:10]}"
    client = await connect(cluster.settings)
    await client.start_workflow(  # as a person's start must be: under an id never used
        "UiProbe",
        secret,
        id=workflow_id,
        task_queue=f"ui-probe-{uuid.uuid4().hex[:8]}",
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )  # no worker: it stays Running, which is all the listing needs

    path = f"namespaces/{NAMESPACE}/workflows"
    query = f"WorkflowId = '{workflow_id}'"
    listed = await asyncio.to_thread(until_listed, cluster, path, query)
    (execution,) = listed["executions"]
    assert execution["execution"]["workflowId"] == workflow_id
    assert execution["type"]["name"] == "UiProbe"
    assert execution["status"] == "WORKFLOW_EXECUTION_STATUS_RUNNING"

    history = await asyncio.to_thread(api, cluster, f"{path}/{quote(workflow_id, safe='')}/history")
    started = history["history"]["events"][0]["workflowExecutionStartedEventAttributes"]
    (payload,) = started["input"]["payloads"]
    assert secret.encode() not in base64.b64decode(payload["data"])  # encrypted in Temporal

    origin = ui_server.url(cluster)
    endpoint = settings["Codec"]["Endpoint"]
    answer, allowed = await asyncio.to_thread(decode, endpoint, origin, payload)
    assert allowed == origin  # the browser, on the UI's page, may read the answer
    assert json.loads(base64.b64decode(answer["data"])) == secret


async def test_the_frontend_serves_only_clients_with_the_cluster_s_certificate(
    cluster: Cluster,
) -> None:
    s = cluster.settings
    assert s.temporal_tls_ca_file and s.temporal_tls_cert_file and s.temporal_tls_key_file
    ca, cert, key = (p.read_bytes() for p in (s.temporal_tls_ca_file, s.temporal_tls_cert_file,
                                              s.temporal_tls_key_file))  # fmt: skip
    name = s.temporal_tls_server_name
    address = s.temporal_address
    # The refusals below are TLS's own: no connection is made, so no token is looked at.
    with pytest.raises(RuntimeError):  # plain text to a TLS listener
        await Client.connect(address, namespace=NAMESPACE, tls=False)
    with pytest.raises(RuntimeError):  # TLS, but no client certificate (requireClientAuth)
        await Client.connect(
            address, namespace=NAMESPACE, tls=TLSConfig(server_root_ca_cert=ca, domain=name)
        )
    mutual = TLSConfig(
        server_root_ca_cert=ca, client_cert=cert, client_private_key=key, domain=name
    )
    token = configured_token(s)  # the frontend's JWT authorizer wants a principal besides
    client = await Client.connect(address, namespace=NAMESPACE, tls=mutual, api_key=token)
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=NAMESPACE)
    )
    assert described.namespace_info.name == NAMESPACE
    served = await connect(s)  # tracefreeze's own client, from the cluster's settings
    assert served.namespace == NAMESPACE
