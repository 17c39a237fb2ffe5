"""`tracefreeze dlq list` and `tracefreeze dlq replay` on the real stack.

Worker and bridge run as asyncio tasks (the ``running`` fixture of test_bridge_e2e.py); the
CLI runs in a thread through click's runner, pointed at this test's topics by the environment.
The scenario is the one the operations guide describes: an answer arrives before its request
exists (dead-lettered as ``unknown_request``); the "fix" is submitting the request; the replay
then brings the answer to it, once, however often the replay runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from click.testing import CliRunner, Result
from temporalio import workflow

from schemas.deadletter import HEADER_OFFSET, HEADER_PARTITION, HEADER_REASON_CODE
from schemas.ledger import RequestStatus
from tests.builders import acknowledgement, court_request, now, to
from tests.replay_check import histories_that_do_not_replay
from tests.signed import signed_bytes
from tests.tracefreeze.e2e import WAIT_S, Running, headers, read_until, send, send_signed, wait_view
from tracefreeze.cli.main import main
from tracefreeze.config import Settings, get_settings
from tracefreeze.intake.dlq import HEADER_REPLAYED_FROM
from workflows import catalog
from workflows.outcome import Rule

pytestmark = pytest.mark.stack

GARBAGE = b"\x00not JSON at all{ secret-body-marker"


@pytest.fixture
def cli_env(running: Running, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``get_settings()`` (what the CLI reads) names this test's topics."""
    topics = running.settings.topics
    for name in ("state_answers", "request_events", "escalations", "dead_letter"):
        monkeypatch.setenv(f"TRACEFREEZE_TOPICS__{name.upper()}", getattr(topics, name))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def cli(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, main, list(args))


def replayed(records: list[ConsumerRecord]) -> list[ConsumerRecord]:
    return [r for r in records if HEADER_REPLAYED_FROM in headers(r)]


async def bridge_passed(s: Settings, records: list[ConsumerRecord]) -> None:
    """Wait until the bridge committed past each record (accepted or dead-lettered)."""
    probe = AIOKafkaConsumer(bootstrap_servers=s.kafka_bootstrap, group_id=s.bridge_group_id)
    await probe.start()
    try:
        async with asyncio.timeout(WAIT_S):
            for record in records:
                tp = TopicPartition(record.topic, record.partition)
                while (await probe.committed(tp) or 0) <= record.offset:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)  # polling the broker: no event to wait on
    finally:
        await probe.stop()


async def test_answer_before_its_request_is_replayed_once_after_the_fix(
    running: Running,
    cli_env: None,
) -> None:
    r, s = running, running.settings
    request = court_request()
    ref = request.reference
    answer = acknowledgement(to(ref), sent_at=now())
    await send_signed(r, answer)  # no such request yet
    await send(r, ref, GARBAGE, signed_bytes(GARBAGE, "NLD", s.state_dir))
    dead = await read_until(s, s.topics.dead_letter, lambda rs: len(rs) >= 2)
    codes = {headers(d)[HEADER_REASON_CODE]: d for d in dead}
    assert set(codes) == {"unknown_request", "malformed"}
    orphan = codes["unknown_request"]

    listed = await cli("dlq", "list")
    assert listed.exit_code == 0, listed.output
    assert "unknown_request" in listed.output and "malformed" in listed.output
    origin = f"{orphan.partition}:{orphan.offset}  unknown_request  {s.topics.state_answers}/"
    assert origin in listed.output
    assert f"key={ref}" in listed.output and "2 record(s)" in listed.output
    assert "secret-body-marker" not in listed.output and answer.authority not in listed.output
    only = await cli("dlq", "list", "--reason", "malformed")
    assert "1 record(s)" in only.output and "unknown_request" not in only.output

    refused = await cli("dlq", "replay", "--reason", "malformed", "--yes")
    assert refused.exit_code == 1 and "--force" in refused.output

    await r.client.submit(request)  # the fix: the request exists now
    first = await cli("dlq", "replay", "--yes")
    assert first.exit_code == 0, first.output
    assert "selected 1, replayed 1, skipped: malformed 1" in first.output
    try:
        view = await wait_view(r.client, ref, lambda v: v.answers_seen == 1)
    except TimeoutError:
        again = await read_until(s, s.topics.dead_letter, lambda rs: len(rs) >= 3)
        pytest.fail(
            "the replayed answer did not reach its request; dead-lettered again as "
            f"{[headers(d)[HEADER_REASON_CODE] for d in again[2:]]} (a `replayed` here means "
            "the bridge's replay guard still holds the event id of an answer it dead-lettered)"
        )
    assert view.status is RequestStatus.ACKNOWLEDGED
    assert view.timeline[-1].event_id == answer.event_id

    # The group remembers its progress: a second run finds nothing new.
    again = await cli("dlq", "replay", "--yes")
    assert "selected 0, replayed 0, skipped: none" in again.output, again.output
    # An explicit range replays the same record again: harmless, the request takes it once.
    forced = await cli(
        "dlq", "replay", "--yes", "--partition", str(orphan.partition), "--since-offset", "0"
    )
    assert "selected 1, replayed 1" in forced.output, forced.output
    copies = replayed(
        await read_until(s, s.topics.state_answers, lambda rs: len(replayed(rs)) >= 2)
    )
    assert len(copies) == 2
    where = f"{orphan.partition}:{orphan.offset}"
    for copy in copies:
        assert headers(copy)[HEADER_REPLAYED_FROM] == where  # never the malformed record
        assert copy.key == ref.encode() and copy.value == orphan.value
        assert HEADER_REASON_CODE not in headers(copy) and HEADER_OFFSET not in headers(copy)
        assert "tf_signature" in headers(copy)
    await bridge_passed(s, copies)
    after = await r.client.view(ref, "NLD")
    assert after.answers_seen == 1
    assert after.timeline == view.timeline

    # The second copy went back to the dead letters as a replay of a verified answer.
    dead = await read_until(s, s.topics.dead_letter, lambda rs: len(rs) >= 3)
    [back] = [d for d in dead if headers(d).get(HEADER_REPLAYED_FROM)]
    assert headers(back)[HEADER_REASON_CODE] == "replayed"
    assert int(headers(back)[HEADER_PARTITION]) == copies[1].partition


async def test_replay_by_event_id_or_position_names_its_operator(
    running: Running,
    cli_env: None,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Select one answer by its event id, another by its dead-letter position: each replay
    goes to the answers topic of the settings, carries ``tf_replayed_by`` and is an audit
    line naming the operator; what was not selected stays in the dead letters."""
    r, s = running, running.settings
    first, second = court_request(), court_request()
    answers = [acknowledgement(first, sent_at=now()), acknowledgement(second, sent_at=now())]
    for answer in answers:
        await send_signed(r, answer)  # no such requests yet
    dead = await read_until(s, s.topics.dead_letter, lambda rs: len(rs) >= 2)
    by_id = {headers(d)["ce_id"]: d for d in dead}
    await r.client.submit(first)
    await r.client.submit(second)

    one = await cli(
        "dlq", "replay", "--yes", "--event-id", answers[0].event_id, "--operator", "officer-7"
    )
    assert one.exit_code == 0, one.output
    assert "selected 1, replayed 1, skipped: other_event_id 1" in one.output, one.output
    await wait_view(r.client, first.reference, lambda v: v.answers_seen == 1)
    assert (await r.client.view(second.reference, "NLD")).answers_seen == 0

    where = by_id[answers[1].event_id]
    other = await cli(
        "dlq", "replay", "--yes", "--at", f"{where.partition}:{where.offset}",
        "--operator", "officer-9",
    )  # fmt: skip
    assert other.exit_code == 0, other.output
    assert "selected 1, replayed 1" in other.output, other.output
    await wait_view(r.client, second.reference, lambda v: v.answers_seen == 1)

    copies = replayed(
        await read_until(s, s.topics.state_answers, lambda rs: len(replayed(rs)) >= 2)
    )
    assert {(headers(c)["ce_id"], headers(c)["tf_replayed_by"]) for c in copies} == {
        (answers[0].event_id, "officer-7"),
        (answers[1].event_id, "officer-9"),
    }
    assert all(c.topic == s.topics.state_answers for c in copies)
    audit = caplog.text + capfd.readouterr().err + one.output + other.output
    assert "dead letter replayed" in audit and "officer-7" in audit and "officer-9" in audit

    bad = await cli("dlq", "replay", "--yes", "--at", "two:three")
    assert bad.exit_code == 2 and "PARTITION:OFFSET" in bad.output


async def test_an_answer_not_applied_is_applied_once_when_replayed_after_the_fix(
    running: Running, cli_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An acknowledgement passes its validator, then its rule fails while being applied (a
    bug in the deployed rule): the request refuses it as ``AnswerNotApplied`` and the bridge
    dead-letters it. The rule is corrected; the operator replays the answer. Old code: the
    replay used the event id as the update id, Temporal gave back the failure it had stored
    under that id, and the answer went back to the dead letters however often it was
    replayed. Now each replay is an update of its own: the answer is applied, once, and a
    second replay of the same record changes nothing.

    The fix is deployed as a running request needs it: from a time on the workflow's clock,
    so that a replay of the history that recorded the failure (a worker restarted, a run
    evicted from the cache) fails the same way, and only what comes after the fix takes the
    fixed rule. Deployed bare, the first replay of this request fails as non-deterministic
    (the last assertion: it did, before)."""
    r, s = running, running.settings
    request = court_request()
    ref = request.reference
    await r.client.submit(request)
    rule = catalog.RULES["acknowledgement"]

    def broken(*args: Any) -> Any:
        raise ArithmeticError("a bug in the deployed rule")

    monkeypatch.setitem(catalog.RULES, "acknowledgement", replace(rule, apply=broken))
    answer = acknowledgement(to(ref), sent_at=now())
    await send_signed(r, answer)
    [dead] = await read_until(s, s.topics.dead_letter, lambda rs: len(rs) >= 1)
    assert headers(dead)[HEADER_REASON_CODE] == "rejected"
    assert "AnswerNotApplied" in headers(dead)["tf_reason"]
    assert (await r.client.view(ref, "NLD")).answers_seen == 0

    fixed_from = datetime.now(UTC)

    def fixed(*args: Any) -> Any:
        return (rule.apply if workflow.now() >= fixed_from else broken)(*args)

    monkeypatch.setitem(catalog.RULES, "acknowledgement", Rule(rule.check, fixed))
    at = f"{dead.partition}:{dead.offset}"
    for attempt in (1, 2):
        done = await cli("dlq", "replay", "--yes", "--at", at, "--operator", "officer-3")
        assert "selected 1, replayed 1" in done.output, done.output
        enough = lambda rs, n=attempt: len(replayed(rs)) >= n  # noqa: E731
        copies = replayed(await read_until(s, s.topics.state_answers, enough))
        await bridge_passed(s, copies)
        view = await r.client.view(ref, "NLD")
        assert view.answers_seen == 1, f"replay {attempt}: the answer was not applied"
        assert view.status is RequestStatus.ACKNOWLEDGED
        assert [e.event_id for e in view.timeline].count(answer.event_id) == 1
    again = await read_until(s, s.topics.dead_letter, lambda rs: len(rs) >= 2)
    assert [headers(d)[HEADER_REASON_CODE] for d in again[1:]] == ["replayed"]
    # What a new worker does with the fixed code: replay the failure as it happened.
    assert await histories_that_do_not_replay(r.client.client, s.task_queue) == {}
