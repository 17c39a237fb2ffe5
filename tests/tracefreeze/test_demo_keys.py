"""The local demo keys: made once, verified by the bridge's gate; no registry, no bridge."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord

from schemas.answers import STATE_ANSWER, Acknowledgement
from tracefreeze.config import Settings
from tracefreeze.demo.keys import DEMO_STATES, ensure_demo_keys, sign_answer
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.envelope import answer_headers
from tracefreeze.intake.gate import AnswerGate
from tracefreeze.security.codec import codec_from_env, ensure_codec_keys
from tracefreeze.security.key_registry import load_registry
from tracefreeze.security.verify import Rejection, SignatureReason


def record(value: bytes, headers: list[tuple[str, bytes]], offset: int = 0) -> ConsumerRecord:
    """As a State's system sends it: key = request reference, CloudEvents + signature headers."""
    answer = STATE_ANSWER.validate_json(value)
    return ConsumerRecord(
        topic="answers", partition=0, offset=offset, timestamp=0, timestamp_type=0,
        key=answer.request_reference.encode(), value=value, checksum=None,
        serialized_key_size=1, serialized_value_size=len(value),
        headers=answer_headers(answer) + headers,
    )  # fmt: skip


def test_demo_keys_are_made_once_and_verify(tmp_path: Path) -> None:
    registry = ensure_demo_keys(tmp_path)
    first = registry.read_text()
    assert ensure_demo_keys(tmp_path) == registry and registry.read_text() == first
    assert {k.state for k in load_registry(registry).keys} == set(DEMO_STATES)
    assert all((tmp_path / "keys" / f"{s}.pem").stat().st_mode & 0o077 == 0 for s in DEMO_STATES)

    answer = Acknowledgement(
        event_id=str(uuid.uuid4()),
        request_reference="ICC-01/22-REQ-0007",
        state="BEL",
        sent_at=datetime.now(UTC),
        authority="Belgian Central Authority",
    )
    gate = AnswerGate.load(Settings(state_dir=tmp_path), registry)
    assert gate.check(record(*sign_answer(answer, tmp_path))) == answer
    again = gate.check(record(*sign_answer(answer, tmp_path), offset=1))
    assert isinstance(again, Rejection) and again.reason is SignatureReason.REPLAYED
    other = gate.check(record(*sign_answer(answer, tmp_path, as_state="NLD"), offset=2))
    assert isinstance(other, Rejection) and other.reason is SignatureReason.MISADDRESSED


def test_no_registry_no_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACEFREEZE_STATE_KEYS_FILE", raising=False)
    with pytest.raises(TracefreezeError, match="no State key registry"):
        AnswerGate.load(Settings(state_dir=tmp_path))


def test_codec_keys_file_is_the_fallback(tmp_path: Path) -> None:
    assert codec_from_env({}, state_dir=tmp_path) is None
    path = ensure_codec_keys(tmp_path)
    assert path.stat().st_mode & 0o077 == 0
    codec = codec_from_env({}, state_dir=tmp_path)
    assert codec is not None and codec.key_ids == ("k1",)
    assert ensure_codec_keys(tmp_path).read_text() == path.read_text()  # kept
    assert codec_from_env({}) is None  # an explicit environment alone never reads a file
