"""On a real broker with SASL/SCRAM and ACLs on, each State reads its own channel only.

``TRACEFREEZE_KAFKA_SECURED=1 make up``: KRaft's StandardAuthorizer, deny unless allowed,
the users and ACLs of ``tracefreeze/security/kafka_acls.py`` (the plan deploy/k8s is checked
against). The worker and the bridge run as their own principals (not the super user),
so the plan is proven sufficient for them as well as refusing for the States.

The issue's finding (one State's focal point could read the shared topics, and so learn of
another State's ex parte request): ``state-bel`` reading NLD's channel, the shared request
events or escalations, the answers or another group is refused by the *broker*
(TopicAuthorizationFailed / GroupAuthorizationFailed), while it reads its own channel and
writes answers. Then the State kit end to end, as BEL: keygen, the Registry registers the
public key, ``state requests`` shows BEL's request and not NLD's, ``state answer`` sends a
signed answer that the request applies; a file that does not validate is refused field by
field and nothing reaches the answers topic. The recorder, as its own principal, keeps what
the Court keeps (the record store, ``tracefreeze/record/``).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    NoError,
    TopicAuthorizationFailedError,
    for_code,
)
from aiokafka.protocol.metadata import MetadataRequest
from click.testing import CliRunner, Result

from schemas.ledger import RequestStatus
from schemas.party import PartyMessage, PartyMessageType
from schemas.views import RequestView
from tests.builders import court_request
from tests.record.support import recording
from tracefreeze.cli.main import main as cli
from tracefreeze.client import RequestClient
from tracefreeze.config import Settings, get_settings
from tracefreeze.intake.bridge import run_bridge
from tracefreeze.kafka import make_consumer, make_producer, make_reader
from tracefreeze.record.seal import Sealer
from tracefreeze.security.kafka_acls import BRIDGE, RECORDER, WORKER, state_principal, users_file
from tracefreeze.security.kafka_security import security_kwargs
from tracefreeze.security.key_registry import state_keys_file
from tracefreeze.stack.errors import StackError
from tracefreeze.stack.isolated import running_stack
from tracefreeze.state_kit import read_channel
from tracefreeze.worker import run_worker

pytestmark = pytest.mark.stack

SECURED = {"TRACEFREEZE_KAFKA_SECURED": "1", "TRACEFREEZE_TEMPORAL_HEADLESS": "1"}
REFUSED = (TopicAuthorizationFailedError, GroupAuthorizationFailedError)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A stack of this module alone whose broker authenticates and authorises."""
    try:
        with running_stack(tmp_path_factory.mktemp("secured"), SECURED) as settings:
            yield settings
    except StackError as exc:
        pytest.fail(f"could not start the secured stack:\n{exc}", pytrace=False)


def as_principal(s: Settings, principal: str) -> Settings:
    """The stack's settings, connecting to Kafka as ``principal`` (SASL/SCRAM-SHA-512)."""
    password = json.loads(users_file(s.state_dir).read_text())[principal]
    return Settings.model_validate(
        s.model_dump()
        | {
            "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_sasl_mechanism": "SCRAM-SHA-512",
            "kafka_sasl_username": principal,
            "kafka_sasl_password": password,
        }
    )


def env_of(s: Settings) -> dict[str, str]:
    """The CLI's environment for ``s`` (its Kafka principal and password)."""
    assert s.kafka_sasl_username and s.kafka_sasl_password
    return {
        "TRACEFREEZE_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "TRACEFREEZE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "TRACEFREEZE_KAFKA_SASL_USERNAME": s.kafka_sasl_username,
        "TRACEFREEZE_KAFKA_SASL_PASSWORD": s.kafka_sasl_password.get_secret_value(),
    }


async def read_in_group(s: Settings, topic: str, group: str) -> int:
    """Records read from ``topic`` in consumer group ``group`` (raises what the broker says)."""
    consumer = make_consumer(s, topic, group_id=group)
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=5000)
        batches = batches or await consumer.getmany(timeout_ms=5000)
        return sum(len(records) for records in batches.values())
    finally:
        await consumer.stop()


async def read_assigned(s: Settings, topic: str) -> int:
    """Records fetched from partition 0 of ``topic`` in no group (raises what the broker says)."""
    consumer = make_reader(s, client_id="acl-probe")
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        batch = await consumer.getone(tp)
        return 1 if batch else 0
    finally:
        await consumer.stop()


async def metadata_refusals(s: Settings, topics: list[str]) -> dict[str, type]:
    """What the broker answers a Metadata request for ``topics``: each topic's error (a
    consumer in no group only logs a refusal and retries, so ask the broker directly)."""
    client = AIOKafkaClient(bootstrap_servers=s.kafka_bootstrap, **security_kwargs(s))
    await client.bootstrap()
    try:
        response = await client.send(client.get_random_node(), MetadataRequest(topics, False))
        return {name: for_code(code) for code, name, *_ in response.topics}
    finally:
        await client.close()


async def write(s: Settings, topic: str) -> int:
    producer = make_producer(s, client_id="acl-probe")
    await producer.start()
    try:
        meta = await producer.send_and_wait(topic, b"{}", key=b"ICC-ACL-PROBE")
        return meta.offset
    finally:
        await producer.stop()


async def test_the_broker_refuses_a_state_everything_but_its_channel_and_answers(
    secured: Settings,
) -> None:
    t = secured.topics
    bel, nld = t.party_channel("BEL"), t.party_channel("NLD")
    state_bel = as_principal(secured, "state-bel")
    worker = as_principal(secured, WORKER)
    # The worker writes every party's channel and the shared topics (the records are probes).
    for topic in (bel, nld, t.request_events, t.escalations):
        assert await write(worker, topic) >= 0

    # BEL reads its own channel, in its own group and in none, and writes answers.
    assert await read_in_group(state_bel, bel, "state-bel") >= 1
    assert await read_assigned(state_bel, bel) == 1
    assert await write(state_bel, t.state_answers) >= 0

    # Everything else is refused by the broker, whatever the client tries.
    refused = [nld, t.request_events, t.escalations, t.dead_letter]
    for topic in (*refused, t.state_answers):
        with pytest.raises(TopicAuthorizationFailedError):
            await read_in_group(state_bel, topic, "state-bel")
    seen = await metadata_refusals(state_bel, [bel, *refused])
    assert seen == {bel: NoError} | dict.fromkeys(refused, TopicAuthorizationFailedError)
    for group in ("state-nld", secured.bridge_group_id):
        with pytest.raises(GroupAuthorizationFailedError):
            await read_in_group(state_bel, bel, group)
    for topic in (nld, bel, t.request_events, t.escalations, t.dead_letter):
        with pytest.raises(TopicAuthorizationFailedError):
            await write(state_bel, topic)
    # The worker writes but reads nothing, not even the channels it writes.
    with pytest.raises(REFUSED):
        await read_in_group(worker, nld, "tracefreeze-worker")


@pytest.fixture
async def court(secured: Settings) -> AsyncIterator[tuple[Settings, RequestClient]]:
    """The worker in process, as its own principal of the ACL plan."""
    worker = asyncio.create_task(run_worker(as_principal(secured, WORKER)))
    try:
        yield secured, await RequestClient.connect(secured)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def kit(args: list[str], env: dict[str, str]) -> Result:
    """``tracefreeze state ...`` with ``env`` (the State's principal), in a thread of its own
    (the command runs its own event loop); settings read afresh."""

    def run() -> Result:
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(cli, ["state", *args], env=env)
        finally:
            get_settings.cache_clear()

    return await asyncio.to_thread(run)


async def wait_applied(client: RequestClient, ref: str, state: str) -> RequestView:
    async with asyncio.timeout(60):
        while True:
            view = await client.view(ref, state)
            if view.answers_seen:
                return view
            await asyncio.sleep(0.1)


async def on_channel(s: Settings, state: str, ref: str) -> list[PartyMessage]:
    """``state``'s channel, read as ``state-<iso3>``, once ``ref``'s request is on it."""
    async with asyncio.timeout(60):
        while True:
            messages = await read_channel(as_principal(s, f"state-{state.lower()}"), state)
            if any(m.subject == ref for m in messages):
                return messages
            await asyncio.sleep(0.3)


async def answers_end(s: Settings) -> int:
    reader = make_reader(as_principal(s, BRIDGE), client_id="answers-end")
    await reader.start()
    try:
        tps = [TopicPartition(s.topics.state_answers, p) for p in range(6)]
        return sum((await reader.end_offsets(tps)).values())
    finally:
        await reader.stop()


async def test_the_state_kit_end_to_end_as_belgium(
    court: tuple[Settings, RequestClient], tmp_path: Path
) -> None:
    s, client = court
    state_bel = as_principal(s, "state-bel")
    bel_env = env_of(state_bel) | {"TRACEFREEZE_STATE_CODE": "BEL"}

    # 1. BEL makes its key; the Registry adds the public key to the key registry.
    made = await kit(["keygen", "--key-id", "bel-kit-1", "--out-dir", str(tmp_path)], bel_env)
    assert made.exit_code == 0, made.output
    pem, public = tmp_path / "bel-kit-1.pem", tmp_path / "bel-kit-1.public.toml"
    assert pem.stat().st_mode & 0o777 == 0o600
    assert public.read_text() in made.output and "PRIVATE" not in made.output
    registry = state_keys_file(s.state_dir)
    registry.write_text(registry.read_text() + "\n" + public.read_text())

    # 2. A request to BEL and one to NLD; BEL's channel has BEL's only.
    to_bel = court_request(requested_state="BEL")
    to_nld = court_request()
    await client.submit(to_nld)
    await client.submit(to_bel)
    bel_messages = await on_channel(s, "BEL", to_bel.reference)
    await on_channel(s, "NLD", to_nld.reference)
    assert {m.subject for m in bel_messages} == {to_bel.reference}
    assert [m.type for m in bel_messages] == [PartyMessageType.REQUEST]
    listed = await kit(["requests"], bel_env)
    assert listed.exit_code == 0, listed.output
    assert to_bel.reference in listed.output and "REQUEST to BEL" in listed.output
    assert to_nld.reference not in listed.output
    # Asking for NLD's channel with BEL's principal: the broker shows BEL no such topic.
    across = await kit(["requests", "--state", "NLD"], bel_env)
    assert across.exit_code == 1 and "no channel" in across.output
    assert to_nld.reference not in across.output

    # 3. A file that does not validate: each field and why; nothing reaches the answers topic.
    before = await answers_end(s)
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "answer_type": "acknowledgement",
                "request_reference": to_bel.reference,
                "state": "BEL",
                "sent_at": "yesterday",
            }
        )
    )
    refused = await kit(["answer", str(bad), "--key", str(pem)], bel_env)
    assert refused.exit_code == 2, refused.output
    assert "nothing was sent" in refused.output
    assert "sent_at:" in refused.output and "authority: Field required" in refused.output
    assert await answers_end(s) == before

    # 4. A valid answer, signed with the registered key: sent, then applied by the request.
    bridge_stop = asyncio.Event()
    bridge = asyncio.create_task(run_bridge(as_principal(s, BRIDGE), bridge_stop))
    try:
        good = tmp_path / "ack.json"
        good.write_text(
            json.dumps(
                {
                    "answer_type": "acknowledgement",
                    "request_reference": to_bel.reference,
                    "state": "BEL",
                    "authority": "Service public fédéral Justice, autorité centrale",
                }
            )
        )
        sent = await kit(["answer", str(good), "--key", str(pem)], bel_env)
        assert sent.exit_code == 0, sent.output
        assert "sent acknowledgement " in sent.output and to_bel.reference in sent.output
        assert "signed with key bel-kit-1" in sent.output
        view = await wait_applied(client, to_bel.reference, "BEL")
        assert view.status is RequestStatus.ACKNOWLEDGED
    finally:
        bridge_stop.set()
        await asyncio.wait_for(bridge, timeout=60)
    assert await answers_end(s) == before + 1


async def test_the_recorder_keeps_what_the_court_keeps_as_its_own_principal(
    secured: Settings, record_dsn: str
) -> None:
    """The record store's writer (tracefreeze/record/) as ``tracefreeze-recorder``: the plan
    lets it read the answers, the request events, the escalations and a party's channel in its
    group, and it writes each record to the store; it may write to no topic."""
    s = secured
    probe = f"recorder-acl-{uuid.uuid4().hex}".encode()
    sent = {
        s.topics.request_events: as_principal(s, WORKER),
        s.topics.escalations: as_principal(s, WORKER),
        s.topics.party_channel("NLD"): as_principal(s, WORKER),
        s.topics.state_answers: as_principal(s, state_principal("NLD")),
    }
    for topic, principal in sent.items():
        producer = make_producer(principal, client_id="recorder-acl-probe")
        await producer.start()
        try:
            await producer.send_and_wait(topic, probe, key=b"ICC-ACL-PROBE")
        finally:
            await producer.stop()
    recorder = as_principal(s, RECORDER).model_copy(update={"record_dsn": record_dsn})
    sealer = Sealer.from_settings(recorder)
    async with recording(recorder):
        conn = await asyncpg.connect(record_dsn)
        try:
            async with asyncio.timeout(60):
                while True:
                    rows = await conn.fetch("SELECT topic, body FROM entries")
                    kept = {r["topic"] for r in rows if sealer.open(r["body"]) == probe}
                    if kept == set(sent):
                        break
                    await asyncio.sleep(0.2)
        finally:
            await conn.close()
    with pytest.raises((TopicAuthorizationFailedError, ClusterAuthorizationFailedError)):
        await write(recorder, s.topics.state_answers)  # no Write anywhere: not even a producer
