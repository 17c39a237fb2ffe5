"""An operator's replay of a parked answer, authenticated so that no State can forge one.

``tracefreeze dlq replay`` re-produces a dead letter to the answers topic with
``tf_replayed_from`` naming the dead-letter record. The bridge treats a replay differently
from a State's fresh answer: it does not count against the State's answer budget, it is not
parked behind the request's earlier parked answer, and its age is judged by the broker
timestamp of the original record (it was fresh then; the Registry or a fix may take longer
than a week). Any producer on the answers topic can write a header, so a bare
``tf_replayed_from`` is worth nothing: a State holding its own signing key could mark each of
its answers a "replay" and escape its budget and the parking of a stuck request (RS art.
93(1): no State's conduct may burden the execution of another State's request).

So a replay carries a MAC: ``tf_replay_mac`` = HMAC-SHA256, under the Court's replay key,
over a context label, the replay marker (``tf_replayed_from``), the original broker timestamp
(``tf_replay_received_ms``), the operator (``tf_replayed_by``), and the record's key and value.
The bridge takes a record as a replay only if the MAC verifies; otherwise the replay headers
are ignored (the answer is fresh: budgeted, parked behind, judged by its own timestamp) and
the attempt is logged as an audit event and counted (``tracefreeze_forged_replays_total``).

Key (read by ``replay_key``)
----------------------------
- ``TRACEFREEZE_REPLAY_KEY``: base64 of at least 32 random bytes; a Secret in production, held
  by the Court's bridge and the operators' ``dlq replay`` only (never by a State).
- Otherwise the file ``<state_dir>/keys/replay-key`` (base64, one line, mode 0600), made with
  32 random bytes by the first process that needs it: the local stack's way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from schemas.deadletter import HEADER_REPLAYED_FROM
from tracefreeze.errors import TracefreezeError
from tracefreeze.security.court_keys import court_key

KEY_ENV = "TRACEFREEZE_REPLAY_KEY"
KEY_FILE = Path("keys") / "replay-key"
HEADER_REPLAYED_BY = "tf_replayed_by"
"""On a replayed answer: the operator who replayed it."""
HEADER_REPLAY_RECEIVED = "tf_replay_received_ms"
"""On a replayed answer: the original record's broker timestamp (ms since the epoch)."""
HEADER_REPLAY_MAC = "tf_replay_mac"
"""On a replayed answer: base64url HMAC-SHA256 under the Court's replay key."""
CONTEXT = b"tracefreeze replay v1\x00"
MAX_HEADER_BYTES = 256

Headers = Sequence[tuple[str, bytes | None]]


class ReplayKeyUnavailable(TracefreezeError):
    """No key in the environment and none can be made under the state dir (read-only)."""


def replay_key(state_dir: Path | None = None, *, ensure: bool = False) -> bytes | None:
    """The key from the environment, else from the state dir's file (made if ``ensure``)."""
    return court_key(
        KEY_ENV, KEY_FILE, "replay key", state_dir, ensure=ensure, unavailable=ReplayKeyUnavailable
    )


def _field(data: bytes | None) -> bytes:
    """Length-prefixed (a missing value is distinct from an empty one)."""
    if data is None:
        return b"\xff" * 8
    return len(data).to_bytes(8, "big") + data


def mac(
    key: bytes,
    replayed_from: bytes,
    received_ms: bytes,
    operator: bytes,
    record_key: bytes | None,
    value: bytes | None,
) -> bytes:
    """The replay MAC's bytes (base64url, unpadded)."""
    message = CONTEXT + b"".join(
        map(_field, (replayed_from, received_ms, operator, record_key, value))
    )
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=")


def replay_headers(
    key: bytes,
    replayed_from: str,
    received_ms: int,
    operator: str,
    record_key: bytes | None,
    value: bytes | None,
) -> list[tuple[str, bytes]]:
    """The headers an operator's replay adds after the original record's headers."""
    fields = (replayed_from.encode(), str(received_ms).encode(), operator.encode())
    return [
        (HEADER_REPLAYED_FROM, fields[0]),
        (HEADER_REPLAY_RECEIVED, fields[1]),
        (HEADER_REPLAYED_BY, fields[2]),
        (HEADER_REPLAY_MAC, mac(key, *fields, record_key, value)),
    ]


@dataclass(frozen=True)
class ReplayMark:
    """What a record says about being a replay, once checked."""

    claimed: bool
    """It carries a replay header (``tf_replayed_from`` or the MAC)."""
    received_ms: int | None = None
    """Set only when the MAC verified: the original record's broker timestamp."""
    problem: str = ""
    """Why a claimed replay is not taken as one."""

    @property
    def authentic(self) -> bool:
        return self.received_ms is not None


NOT_CLAIMED = ReplayMark(claimed=False)


def _one(headers: Headers, name: str) -> tuple[bytes | None, int]:
    found = [bytes(v or b"") for k, v in headers if k == name]
    return (found[0] if found else None), len(found)


def check(
    key: bytes | None, record_key: bytes | None, value: bytes | None, headers: Headers | None
) -> ReplayMark:
    """The record's ``ReplayMark``: authentic only if every replay header is present once,
    bounded, and the MAC verifies under ``key`` (no key: nothing is a replay)."""
    headers = headers or ()
    names = (HEADER_REPLAYED_FROM, HEADER_REPLAY_RECEIVED, HEADER_REPLAYED_BY, HEADER_REPLAY_MAC)
    found = [_one(headers, n) for n in names]
    if all(n == 0 for _, n in found):
        return NOT_CLAIMED
    if key is None:
        return ReplayMark(True, problem="no replay key configured on this bridge")
    if any(n != 1 for _, n in found):
        return ReplayMark(True, problem="replay headers missing or repeated")
    values = [v or b"" for v, _ in found]
    if any(len(v) > MAX_HEADER_BYTES for v in values):
        return ReplayMark(True, problem="replay header too long")
    replayed_from, received, operator, given = values
    expected = mac(key, replayed_from, received, operator, record_key, value)
    if not hmac.compare_digest(expected, given):
        return ReplayMark(True, problem="replay MAC does not verify")
    try:
        received_ms = int(received.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return ReplayMark(True, problem="replay timestamp is not an integer")
    if received_ms <= 0:
        return ReplayMark(True, problem="replay timestamp is not positive")
    return ReplayMark(True, received_ms=received_ms)
