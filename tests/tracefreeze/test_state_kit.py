"""The State kit without a broker: keys, the answer check, and nothing sent when it fails.

The answers topic is unreachable here (127.0.0.1:9): a command that tried to send would fail
with exit 1 and a connection error, not the field-by-field refusal (exit 2) asserted below.
The end-to-end run on a secured broker is tests/tracefreeze/test_party_channels_acl.py.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.environment import without_stack_environment
from tracefreeze.cli.main import main as cli
from tracefreeze.config import get_settings
from tracefreeze.security.key_registry import KeyRegistry
from tracefreeze.security.signing import load_private_key, public_key_b64
from tracefreeze.state_kit import InvalidAnswer, prepare_answer

REF = "ICC-01/22-REQ-0007"


@pytest.fixture(autouse=True)
def unreachable_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    without_stack_environment(monkeypatch)
    monkeypatch.setenv("TRACEFREEZE_KAFKA_BOOTSTRAP", "127.0.0.1:9")
    monkeypatch.setenv("TRACEFREEZE_KAFKA_TIMEOUT_S", "2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_keygen_keeps_the_private_key_and_prints_the_public_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["state", "keygen", "--state", "bel", "--key-id", "bel-2026-1", "--out-dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    pem = tmp_path / "bel-2026-1.pem"
    public = tmp_path / "bel-2026-1.public.toml"
    assert pem.stat().st_mode & 0o777 == 0o600
    registry = KeyRegistry.model_validate(tomllib.loads(public.read_text()))
    (key,) = registry.keys
    assert (key.key_id, key.state) == ("bel-2026-1", "BEL")
    assert key.public_key == public_key_b64(load_private_key(pem))
    assert key.public_key in result.output and "PRIVATE KEY" not in result.output
    again = CliRunner().invoke(
        cli,
        ["state", "keygen", "--state", "BEL", "--key-id", "bel-2026-1", "--out-dir", str(tmp_path)],
    )
    assert again.exit_code == 1 and "exists" in again.output  # never overwrites a key


def test_an_answer_is_completed_then_checked_against_the_contract() -> None:
    doc = {
        "answer_type": "acknowledgement",
        "request_reference": REF,
        "state": "BEL",
        "authority": "X",
    }
    answer = prepare_answer(doc, "BEL")
    assert answer.event_id and answer.sent_at  # filled in: a fresh UUID, now
    assert prepare_answer(
        doc | {"event_id": "6f1c2a9e-3b47-4d0a-9e51-0c2f7d8b1a01"}, "BEL"
    ).event_id == ("6f1c2a9e-3b47-4d0a-9e51-0c2f7d8b1a01")
    with pytest.raises(InvalidAnswer) as other:
        prepare_answer(doc, "NLD")
    assert other.value.problems == ["state: BEL is not this State (NLD)"]
    with pytest.raises(InvalidAnswer) as listed:
        prepare_answer(["not", "an", "object"], "BEL")
    assert listed.value.problems == ["(document): an answer is a JSON object"]


def test_an_invalid_file_is_refused_field_by_field_and_nothing_is_sent(tmp_path: Path) -> None:
    made = CliRunner().invoke(
        cli, ["state", "keygen", "--state", "NLD", "--key-id", "nld-1", "--out-dir", str(tmp_path)]
    )
    assert made.exit_code == 0
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "answer_type": "execution_report",
                "request_reference": REF,
                "state": "NLD",
                "final": "perhaps",
                "results": [],
            }
        )
    )
    result = CliRunner().invoke(
        cli, ["state", "answer", str(bad), "--state", "NLD", "--key", str(tmp_path / "nld-1.pem")]
    )
    assert result.exit_code == 2, result.output
    assert "the answer is invalid; nothing was sent" in result.output
    assert "execution_report.final:" in result.output
    assert "execution_report.results:" in result.output
    assert "sent " not in result.output.replace("nothing was sent", "")

    unknown = tmp_path / "unknown.json"
    unknown.write_text(
        json.dumps({"answer_type": "apology", "request_reference": REF, "state": "NLD"})
    )
    result = CliRunner().invoke(
        cli,
        ["state", "answer", str(unknown), "--state", "NLD", "--key", str(tmp_path / "nld-1.pem")],
    )
    assert result.exit_code == 2, result.output
    assert "'apology'" in result.output and "nothing was sent" in result.output


def test_a_valid_answer_that_cannot_be_sent_is_one_clear_error(tmp_path: Path) -> None:
    CliRunner().invoke(
        cli, ["state", "keygen", "--state", "NLD", "--key-id", "nld-1", "--out-dir", str(tmp_path)]
    )
    good = tmp_path / "ack.json"
    good.write_text(
        json.dumps(
            {
                "answer_type": "acknowledgement",
                "request_reference": REF,
                "state": "NLD",
                "authority": "X",
            }
        )
    )
    result = CliRunner().invoke(
        cli, ["state", "answer", str(good), "--state", "NLD", "--key", str(tmp_path / "nld-1.pem")]
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
