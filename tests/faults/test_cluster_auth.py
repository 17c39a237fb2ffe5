"""Temporal's own authorization on the production-shaped cluster (``make cluster-up``): the
frontend refuses a client without a valid token, grants by the token's permissions, and
stamps the caller's principal on the history events it writes; the cluster's own workers
and bridges, and the server's own services (through its internal frontend), keep working
(``tracefreeze/stack/cluster/authorization.py``, ``tracefreeze/security/identity.py``).

Who acts on a request is part of the record: RS 43(1) (the Registry transmits and follows
the Court's requests), Regulation 20 (the record of the proceedings kept by the Registry).

Runs only when the Temporal server build is cached (``make cluster-build``), as every
cluster drill (tests/faults/cluster.py).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr
from temporalio.api.enums.v1 import EventType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    PollActivityTaskQueueRequest,
    PollWorkflowTaskQueueRequest,
    RespondActivityTaskCompletedRequest,
    RespondQueryTaskCompletedRequest,
    RespondWorkflowTaskCompletedRequest,
)
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from schemas import court as c
from schemas.ledger import RequestStatus
from tests.builders import court_action, court_request
from tests.faults.cluster import require_build
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.record.evidence import VERIFIED
from tracefreeze.record.reader import RequestRecord, StoredEntry, find_records
from tracefreeze.record.show import reverify
from tracefreeze.security import identity
from tracefreeze.stack.cluster import apps, control
from tracefreeze.stack.cluster.authorization import token_file
from tracefreeze.stack.cluster.layout import Cluster, Ports, low_free_ports
from tracefreeze.stack.errors import StackError
from tracefreeze.stack.isolated import exported
from tracefreeze.temporal import connect, renewing_token

pytestmark = [pytest.mark.cluster, pytest.mark.faults]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A cluster of its own with its apps (two workers, two bridges, the codec server and the
    recorder), each acting with its own token; stopped and removed after."""
    require_build("the cluster's authorization tests")
    directory = Path(tempfile.mkdtemp(prefix="tracefreeze-cluster-auth-"))
    (directory / "ports.json").write_text(low_ports().model_dump_json())
    with exported({"TRACEFREEZE_CLUSTER_DIR": str(directory)}):
        made = Cluster.from_env(create=True)
        try:
            try:
                control.up(made, with_apps=True)
            except StackError as err:
                # A broker that cannot register with the controllers' quorum in Kafka's own
                # time (60 s) exits; on a loaded machine it happens at a first start. Started
                # again, as cluster-up does for any process that is down, it joins.
                if "exited during start" not in str(err):
                    raise
                control.up(made, with_apps=True)
            yield made
        finally:
            control.down(made)
            shutil.rmtree(directory, ignore_errors=True)


def low_ports() -> Ports:
    """Every port below 32768, outside the kernel's ephemeral range: a port of that range
    picked now can be taken by another process's outgoing connection before its broker
    binds it (on a machine running several clusters, a broker exited at start so)."""
    picked = Ports.pick()
    temporal = {getattr(picked, name) for name in list(Ports.model_fields)[1:11]}
    low = iter([port for port in low_free_ports(40) if port not in temporal])
    return picked.model_copy(
        update={
            "postgres": next(low),
            "brokers": [next(low) for _ in picked.brokers],
            "controllers": [next(low) for _ in picked.controllers],
            "codec": next(low),
            "workers": [next(low) for _ in picked.workers],
            "bridges": [next(low) for _ in picked.bridges],
        }
    )


def as_user(cluster: Cluster, subject: str | None) -> Settings:
    """The cluster's client settings acting as the demo user ``subject`` (None: no token)."""
    path = token_file(cluster, subject) if subject else None
    return cluster.client_settings().model_copy(update={"temporal_token_file": path})


def with_token(cluster: Cluster, token: str) -> Settings:
    return cluster.client_settings().model_copy(
        update={"temporal_token_file": None, "temporal_token": SecretStr(token)}
    )


async def refused(call: object) -> RPCStatusCode | None:
    """The RPC status a call was refused with, or None if it went through."""
    try:
        await call  # type: ignore[misc]
    except RPCError as err:
        return err.status
    return None


async def test_a_registry_officer_starts_a_request_and_the_record_names_who(
    cluster: Cluster,
) -> None:
    """The Registry officer transmits a request (RS 43(1)); the cluster's worker, acting with
    its own token, runs it and answers the view; the history names the officer as the one who
    started it and the worker as the one who completed its workflow tasks."""
    client = await RequestClient.connect(as_user(cluster, "registry-officer"))
    request = court_request(tag="AUTH")
    workflow_id = await client.submit(request)
    view = await client.view_id(workflow_id)  # a query: answered by a cluster worker
    assert view.reference == request.reference
    history = await client.client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0]
    assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    assert (started.principal.type, started.principal.name) == ("jwt", "registry-officer")
    completed = [
        e.principal.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]
    assert completed and set(completed) == {"tracefreeze-worker"}, completed


async def test_a_client_without_a_valid_token_is_refused_by_the_frontend(
    cluster: Cluster,
) -> None:
    """No token, a token of another issuer, an expired token: each is refused by the server
    itself (PermissionDenied), before any workflow code; a token that does not verify already
    at the connection's first call, and the client says so (not "is the stack up?")."""
    officer = await RequestClient.connect(as_user(cluster, "registry-officer"))
    workflow_id = await officer.submit(court_request(tag="AUTH"))
    stranger = identity.Issuer.ensure(Path(tempfile.mkdtemp(prefix="tracefreeze-stranger-")))
    local = identity.Issuer.ensure(cluster.dir)
    granted = identity.permissions(cluster.settings.temporal_namespace, ["write"])
    forged = stranger.issue("registry-officer", "registry", granted, timedelta(hours=1))
    past = datetime.now(UTC) - timedelta(hours=3)
    expired = local.issue("registry-officer", "registry", granted, timedelta(hours=1), now=past)
    client: Client = await connect(as_user(cluster, None))  # only the health check is open
    status = await refused(client.get_workflow_handle(workflow_id).describe())
    assert status == RPCStatusCode.PERMISSION_DENIED, status
    status = await refused(client.get_workflow_handle(workflow_id).signal("refresh"))
    assert status == RPCStatusCode.PERMISSION_DENIED, status
    for token in (forged, expired):  # a token that does not verify: refused at the first call
        with pytest.raises(TracefreezeError, match="refused this client's token"):
            await connect(with_token(cluster, token))


async def test_a_read_only_observer_can_read_but_not_act(cluster: Cluster) -> None:
    """The observer (``<namespace>:read``) describes and queries a request; starting one,
    signalling or updating it is refused by the frontend."""
    officer = await RequestClient.connect(as_user(cluster, "registry-officer"))
    request = court_request(tag="AUTH")
    workflow_id = await officer.submit(request)
    observer = await RequestClient.connect(as_user(cluster, "observer"))
    handle = observer.client.get_workflow_handle(workflow_id)
    assert (await handle.describe()).id == workflow_id
    assert (await observer.view_id(workflow_id)).reference == request.reference
    start = observer.client.start_workflow(
        "RequestWorkflow", id=f"{workflow_id}-observer", task_queue=observer.settings.task_queue
    )
    assert await refused(start) == RPCStatusCode.PERMISSION_DENIED
    assert await refused(handle.signal("refresh")) == RPCStatusCode.PERMISSION_DENIED
    assert await refused(handle.execute_update("act")) == RPCStatusCode.PERMISSION_DENIED
    assert await refused(handle.terminate("not mine")) == RPCStatusCode.PERMISSION_DENIED


async def test_only_the_workers_principal_takes_or_answers_a_task(cluster: Cluster) -> None:
    """Taking a request's tasks decides what its workflow does next, so it is the workers'
    alone (deploy/temporal-server's authorizer): a Trial Chamber clerk, the Registry officer and
    the bridge, each with ``write``, are refused (PermissionDenied) when they poll a task queue
    or answer a workflow, activity or query task. With the default authorizer alone their
    ``write`` allowed it, and a clerk could have completed a request's workflow task in the
    worker's place (put organ keys of its own in force, take an answer the rules refuse). The
    workers' principal may poll: on a queue no worker serves, its poll ends empty, not refused.
    The forged task tokens would be refused as invalid arguments were the call let through."""
    namespace = cluster.settings.temporal_namespace
    nobodys = TaskQueue(name=f"{cluster.client_settings().task_queue}-nobody")
    short = timedelta(seconds=5)
    for subject in ("trial-chamber-clerk", "registry-officer", "tracefreeze-bridge"):
        service = (await connect(as_user(cluster, subject))).workflow_service
        calls = {
            "poll workflow tasks": service.poll_workflow_task_queue(
                PollWorkflowTaskQueueRequest(namespace=namespace, task_queue=nobodys), timeout=short
            ),
            "poll activity tasks": service.poll_activity_task_queue(
                PollActivityTaskQueueRequest(namespace=namespace, task_queue=nobodys), timeout=short
            ),
            "complete a workflow task": service.respond_workflow_task_completed(
                RespondWorkflowTaskCompletedRequest(namespace=namespace, task_token=b"forged")
            ),
            "complete an activity": service.respond_activity_task_completed(
                RespondActivityTaskCompletedRequest(namespace=namespace, task_token=b"forged")
            ),
            "answer a query": service.respond_query_task_completed(
                RespondQueryTaskCompletedRequest(namespace=namespace, task_token=b"forged")
            ),
        }
        for what, call in calls.items():
            assert await refused(call) == RPCStatusCode.PERMISSION_DENIED, (subject, what)
    # Nor may a person rewrite or stop a request: terminate it, or start one over it.
    officer = await RequestClient.connect(as_user(cluster, "registry-officer"))
    request = court_request(tag="AUTH")
    workflow_id = await officer.submit(request)
    handle = officer.client.get_workflow_handle(workflow_id)
    assert await refused(handle.terminate("not a person's")) == RPCStatusCode.PERMISSION_DENIED
    assert await refused(handle.signal("refresh")) == RPCStatusCode.PERMISSION_DENIED
    over = officer.client.start_workflow(
        "RequestWorkflow",
        id=workflow_id,
        task_queue=officer.settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING,
    )
    assert await refused(over) == RPCStatusCode.PERMISSION_DENIED
    assert (await officer.view_id(workflow_id)).reference == request.reference  # still running
    worker = (await connect(as_user(cluster, "tracefreeze-worker"))).workflow_service
    idle = worker.poll_workflow_task_queue(
        PollWorkflowTaskQueueRequest(namespace=namespace, task_queue=nobodys), timeout=short
    )
    assert await refused(idle) in (None, RPCStatusCode.DEADLINE_EXCEEDED)


async def test_a_request_takes_a_court_action_only_as_its_organ_signed_it(
    cluster: Cluster,
) -> None:
    """On the production-shaped cluster as on the dev stack: the request's validator checks
    the organ's signature, for this request, then the organ's power (RS 57(3)(e), 93(1)(k):
    the request is withdrawn by the organ that made it, never by the Registry), before
    anything is written."""
    client = await RequestClient.connect(as_user(cluster, "registry-officer"))
    request = court_request(tag="SIGN")
    workflow_id = await client.submit(request)
    handle = client.client.get_workflow_handle(workflow_id)
    unsigned = court_action(c.Withdrawal, reasons="Withdrawn.")
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update("withdraw", unsigned, id=unsigned.event_id)
    assert "is not signed" in str(err.value.cause)
    as_registry = court_action(c.Withdrawal, decided_by="Registrar", reasons="Withdrawn.")
    with pytest.raises(TracefreezeError, match="may not take withdrawal"):
        await client.act(workflow_id, as_registry)  # signed by the Registry's key: no power
    by_chamber = court_action(c.Withdrawal, reasons="Withdrawn.")
    with pytest.raises(TracefreezeError, match="registry-officer acts for the Registry"):
        await client.act(workflow_id, by_chamber)  # the officer signs no Chamber's decision
    clerk = await RequestClient.connect(as_user(cluster, "pre-trial-chamber-clerk"))
    taken = await clerk.act(workflow_id, by_chamber)
    assert taken.status is RequestStatus.WITHDRAWN  # the Pre-Trial Chamber made the request
    # The cluster's recorder keeps the signed original: it re-verifies from the record, and
    # names the clerk who sent it for the Chamber (Regulation 20: the Registry's record).
    record, entry = await recorded_action(cluster, request.reference, request.requested_state)
    assert entry.verdict == VERIFIED and entry.key_id is not None
    action = entry.body()["action"]
    assert (action["action_type"], action["principal"]) == ("withdrawal", "pre-trial-chamber-clerk")
    conn = await asyncpg.connect(apps.record_dsn(cluster))
    try:
        again = await reverify(conn, RequestRecord(record.request_key, {}, [entry]))
    finally:
        await conn.close()
    assert [(r.now.verdict, r.agrees) for r in again] == [(VERIFIED, True)]


async def recorded_action(
    cluster: Cluster, reference: str, state: str
) -> tuple[RequestRecord, StoredEntry]:
    """The request's one recorded Court action, once the cluster's recorder has written it."""
    conn = await asyncpg.connect(apps.record_dsn(cluster))
    try:
        async with asyncio.timeout(120):
            while True:
                try:
                    records = await find_records(conn, cluster.client_settings(), reference, state)
                except TracefreezeError:  # nothing of the request recorded yet
                    records = []
                found = [(r, e) for r in records for e in r.entries if e.kind == "court_action"]
                if found:
                    assert len(found) == 1, found
                    return found[0]
                await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def test_a_long_running_client_takes_its_renewed_token_without_a_restart(
    cluster: Cluster, tmp_path: Path
) -> None:
    """A worker or bridge connects once and runs for weeks; its token lives hours. Renewed in
    its file (a rotated Secret), the new token is in force within the re-read interval, so the
    client keeps working after the first token expired (the frontend checks each call)."""
    local = identity.Issuer.ensure(cluster.dir)
    granted = identity.permissions(cluster.settings.temporal_namespace, ["write"])
    path = tmp_path / "token.jwt"
    lifetime = timedelta(seconds=20)
    path.write_text(local.issue("registry-officer", "registry", granted, lifetime))
    expires = datetime.now(UTC) + lifetime
    settings = cluster.client_settings().model_copy(update={"temporal_token_file": path})
    client = await connect(settings)
    workflow_id = await RequestClient(client, settings).submit(court_request(tag="RENEW"))
    handle = client.get_workflow_handle(workflow_id)
    async with renewing_token(client, settings, every_s=0.2):
        renewed = local.issue("registry-officer", "registry", granted, timedelta(hours=1))
        path.write_text(renewed)
        async with asyncio.timeout(30):
            while True:  # the renewal's own interval: no sleep that hopes for it
                if client.api_key == renewed:
                    break
                await asyncio.sleep(0.1)
        await asyncio.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 2)
        assert (await handle.describe()).id == workflow_id  # with the first token: refused
    client.api_key = None  # and without one, the same call is refused: the check is real
    assert await refused(handle.describe()) == RPCStatusCode.PERMISSION_DENIED
