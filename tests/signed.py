"""Signed State answers for tests that produce to Kafka as a State's system would.

The keys are the stack's demo keys (``tracefreeze/demo/keys.py``), made by the stack's ``up``
in the stack's state dir; the bridge under test verifies against the same registry.
"""

from __future__ import annotations

from pathlib import Path

from schemas.answers import AnswerBase
from tracefreeze.demo.keys import demo_signer, sign_answer
from tracefreeze.intake.envelope import answer_headers
from tracefreeze.security.signing import sign_bytes

Headers = list[tuple[str, bytes]]


def signed_record(
    answer: AnswerBase, state_dir: Path, as_state: str | None = None
) -> tuple[bytes, Headers]:
    """The value and headers (CloudEvents + signature) of ``answer``, signed with its own
    State's demo key, or with ``as_state``'s (a State signing as another)."""
    value, signature = sign_answer(answer, state_dir, as_state)
    return value, answer_headers(answer) + signature


def signed_bytes(value: bytes, state: str, state_dir: Path) -> Headers:
    """Signature headers over arbitrary bytes (e.g. a body that is not JSON at all)."""
    private_key, key_id = demo_signer(state_dir, state)
    return sign_bytes(value, private_key, key_id)
