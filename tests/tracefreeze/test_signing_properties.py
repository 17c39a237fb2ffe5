"""Hostile input to signature verification (hypothesis): it never raises, always decides."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.answers import Acknowledgement, AnswerBase, ExecutionReport
from tracefreeze.security.canonical import HEADER_KEY_ID, HEADER_SIGNATURE, canonical_bytes
from tracefreeze.security.key_registry import KeyRegistry, StateKey
from tracefreeze.security.replay_guard import ReplayGuard
from tracefreeze.security.signing import public_key_b64, sign
from tracefreeze.security.verify import Rejection, verify

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PROPERTIES = settings(database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""No example database written into the work tree; no deadline (shared CI machines)."""
PRIVATE = Ed25519PrivateKey.generate()
KEY = StateKey(
    key_id="nld-2026-1",
    state="NLD",
    public_key=public_key_b64(PRIVATE),
    not_before=datetime(2026, 1, 1, tzinfo=UTC),
)
REGISTRY = KeyRegistry(keys=[KEY])
SIGNED_ANSWERS: list[AnswerBase] = [
    Acknowledgement(
        event_id="0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c31",
        request_reference="ICC-01/14-REQ-0042",
        state="NLD",
        sent_at=NOW - timedelta(minutes=3),
        authority="Centrale Autoriteit — Zoë's bureau",
    ),
    ExecutionReport.model_validate(
        {
            "event_id": "0e5b7c2a-1d3f-4a6b-8c9d-0e1f2a3b4c32",
            "request_reference": "ICC-01/14-REQ-0042",
            "state": "NLD",
            "sent_at": (NOW - timedelta(hours=1)).isoformat(),
            "final": True,
            "results": [
                {
                    "asset_id": "villa-1",
                    "measures_executed": ["identify", "freeze"],
                    "value": {"amount": "250000.00", "currency": "EUR"},
                    "location": "Wassenaar",
                }
            ],
        }
    ),
]
SIGNED = [sign(a, PRIVATE, KEY.key_id) for a in SIGNED_ANSWERS]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=6)
header_values = st.none() | st.binary(max_size=120) | st.sampled_from([s[1][0][1] for s in SIGNED])
header_names = st.sampled_from([HEADER_SIGNATURE, HEADER_KEY_ID, "ce_id"]) | st.text(max_size=10)
headers = st.lists(st.tuples(header_names, header_values), max_size=5)
near_answers = st.builds(
    lambda base, patch: {**base, **patch},
    st.sampled_from([json.loads(v) for v, _ in SIGNED]),
    st.dictionaries(
        st.sampled_from(["event_id", "state", "sent_at", "answer_type", "authority", "x"]),
        json_values,
        max_size=3,
    ),
)
values = (
    st.binary(max_size=2000)
    | json_objects.map(lambda d: json.dumps(d).encode())
    | near_answers.map(lambda d: json.dumps(d).encode())
    | st.sampled_from([v for v, _ in SIGNED])
)


@settings(PROPERTIES, max_examples=400)
@given(value=st.none() | values, hdrs=st.none() | headers | st.sampled_from([h for _, h in SIGNED]))
def test_verify_never_raises(value: bytes | None, hdrs) -> None:
    result = verify(value, hdrs, REGISTRY, NOW, ReplayGuard())
    assert isinstance(result, AnswerBase | Rejection)
    if isinstance(result, Rejection):
        assert result.detail and result.reason_code


@PROPERTIES
@given(doc=json_objects, indent=st.none() | st.integers(0, 4), seed=st.randoms())
def test_canonical_is_stable_under_key_order_and_whitespace(doc, indent, seed) -> None:
    def shuffled(value):
        if isinstance(value, dict):
            items = list(value.items())
            seed.shuffle(items)
            return {k: shuffled(v) for k, v in items}
        if isinstance(value, list):
            return [shuffled(v) for v in value]
        return value

    try:
        expected = canonical_bytes(doc)
    except ValueError:  # lone surrogates have no UTF-8 form; nothing to compare
        return
    text = json.dumps(shuffled(doc), indent=indent, ensure_ascii=seed.random() < 0.5)
    assert canonical_bytes(json.loads(text)) == expected
    assert canonical_bytes(json.loads(expected)) == expected


@st.composite
def flips(draw):
    which = draw(st.integers(0, len(SIGNED) - 1))
    value, hdrs = SIGNED[which]
    index = draw(st.integers(0, len(value) - 1))
    mask = draw(st.integers(1, 255))
    flipped = bytearray(value)
    flipped[index] ^= mask
    return bytes(flipped), hdrs


@settings(PROPERTIES, max_examples=500)
@given(case=flips())
def test_any_single_byte_flip_is_rejected(case) -> None:
    value, hdrs = case
    assert isinstance(verify(value, hdrs, REGISTRY, NOW, ReplayGuard()), Rejection)


def test_the_unflipped_messages_verify() -> None:
    for (value, hdrs), sent in zip(SIGNED, SIGNED_ANSWERS, strict=True):
        assert verify(value, hdrs, REGISTRY, NOW, ReplayGuard()) == sent
