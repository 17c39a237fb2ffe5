"""Signed State answers: each State's system signs its answers (Ed25519); the bridge verifies.

The signed message on ``tracefreeze.state-answers``
------------------------------------------------------
The Kafka message value stays the answer's JSON. The signature travels beside it, in headers:

- ``tf_signature``: base64url (RFC 4648 section 5; padding optional, ``sign`` omits it) of the
  64-byte Ed25519 signature over ``signed_message``: the context ``SIGNING_CONTEXT``
  (``b"tracefreeze/answer/v1\0"``) followed by ``canonical_bytes`` of the parsed body. The
  context separates these signatures from anything else a State's key might sign: a
  signature made for another purpose (or another version of this contract) never verifies
  as an answer;
- ``tf_key_id``: the id of the State's key in the registry (ASCII).

Because the signature covers the *parsed* body in canonical form, whitespace and key order in
the value do not matter; any change of content does. The Kafka key, the CloudEvents headers
and ``tf_key_id`` are not signed: routing reads only the body (request reference and State),
and a ``tf_key_id`` naming another key simply fails verification.

Canonical encoding (``canonical_bytes``)
-----------------------------------------
Modelled on the JSON Canonicalization Scheme (RFC 8785) for the value types our contracts use:

- UTF-8, no whitespace, no byte-order mark; ``ensure_ascii=False``: a non-ASCII character is
  written as itself; only ``"``, ``\\`` and control characters below U+0020 are escaped
  (``\\b \\f \\n \\r \\t``, else ``\\u00xx`` in lower-case hex), exactly as RFC 8785;
- object members sorted by key, comparing keys as UTF-16 code units (RFC 8785 section 3.2.3;
  the same as code-point order for every key our contracts have);
- ``true``, ``false``, ``null``; integers written exactly; a non-integral number in the
  shortest round-trip form with ECMAScript's notation rules (RFC 8785 section 3.2.2.3). Our
  contracts carry no floating-point values: amounts are decimal *strings* (``Money.amount``
  serialises as ``"250000.00"``), so float canonicalisation never decides a signature;
- NaN, Infinity, non-string keys and lone surrogates are not JSON: ``CanonicalError``;
- the signature envelope fields ``SIGNATURE_FIELDS`` are left out at the top level. On Kafka
  they travel in headers, so a body normally has none; should a producer embed them, they are
  not part of what is signed (and the body then fails validation: unknown fields are errors).

Verification (``verify``), in this order, each failure one ``Rejection`` naming the event id
and key id: oversize; missing headers; unknown key id; undecodable signature; body not JSON
(or with duplicate keys, which could make two parsers disagree on what was signed); bad
signature; body not a valid answer; key of another State (``misaddressed``); key outside its
validity window now; ``sent_at`` too old or from the future; key outside its window at
``sent_at`` (a key signs only within its window, and is accepted only while it is valid: when
rotating, let the old key's window overlap the new one's by at least ``Tolerance.max_age``
so that a backlog signed with the old key still verifies); (State, event id) replayed. The
replay guard is keyed by the answering State *and* the event id: another State reusing a
State's event id (ids may be predictable) never makes that State's own answer a "replay".

Key registry
------------
A TOML file of the States' public keys, several per State for rotation, each with a validity
window (see ``load_registry``). Path: ``$TRACEFREEZE_STATE_KEYS_FILE``, default
``<state_dir>/keys/state-keys.toml``, i.e. ``.state/keys/state-keys.toml`` in the repository.
Only canonical keys of the prime-order subgroup are taken
(``tracefreeze/security/ed25519_keys.py``):
a small-order key such as the identity point would verify a forged signature on any answer.
The bridge re-reads the file when it changes (``RegistryFile``): a new State key takes effect
without a restart, and a file that no longer loads keeps the last good registry (logged).
``python -m tracefreeze.security.signing keygen`` makes a demo key pair (never committed).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import math
import os
import sys
import threading
import time
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from schemas.answers import AnswerBase
from schemas.common import StateCode
from schemas.deadletter import DeadLetterReason
from tracefreeze.errors import TracefreezeError
from tracefreeze.intake.routing import MAX_ANSWER_BYTES, Answer, Verdict, decode_answer, summarize
from tracefreeze.security.ed25519_keys import public_key_problem

HEADER_SIGNATURE = "tf_signature"
HEADER_KEY_ID = "tf_key_id"
SIGNATURE_FIELDS = frozenset({HEADER_SIGNATURE, HEADER_KEY_ID})
"""Top-level body fields never covered by the signature (the envelope travels in headers)."""

KEYS_FILE_ENV = "TRACEFREEZE_STATE_KEYS_FILE"
DEFAULT_KEYS_FILE = Path("keys") / "state-keys.toml"
"""Relative to the settings' ``state_dir``: ``.state/keys/state-keys.toml`` by default."""

SIGNING_CONTEXT = b"tracefreeze/answer/v1\0"
"""Prefixed to the canonical body in every signed message (domain separation)."""
SIGNATURE_BYTES = 64
MAX_HEADER_CHARS = 200
"""A header value longer than this is not shown in a rejection's detail."""

KeyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class SignatureReason(StrEnum):
    """Why a State's answer failed verification (``Rejection.reason``)."""

    MISSING_SIGNATURE = "missing_signature"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    KEY_NOT_VALID = "key_not_valid"
    MISADDRESSED = "misaddressed"
    """The key's State is not the answer's ``state``: a State may answer only as itself.

    A State answering, as itself, a request addressed to another State is caught later, by
    routing: the workflow id is (reference, answering State), and no such request exists, so
    the bridge dead-letters it as ``unknown_request``."""
    REPLAYED = "replayed"
    TOO_OLD = "too_old"
    FROM_FUTURE = "from_future"


# --- canonical encoding -------------------------------------------------------------------


class CanonicalError(ValueError):
    """A value that has no canonical JSON form (NaN, a non-string key, a lone surrogate...)."""


def canonical_bytes(answer_json: Mapping[str, Any]) -> bytes:
    """The bytes a signature covers: the answer's JSON in canonical form (module docstring)."""
    if not isinstance(answer_json, Mapping):
        raise CanonicalError(f"an answer is a JSON object, not {type(answer_json).__name__}")
    body = {k: v for k, v in answer_json.items() if k not in SIGNATURE_FIELDS}
    parts: list[str] = []
    _write(body, parts, depth=0)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as err:
        raise CanonicalError(f"not encodable as UTF-8 (lone surrogate?): {err.reason}") from err


MAX_DEPTH = 64


def _write(value: Any, out: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CanonicalError(f"nested deeper than {MAX_DEPTH} levels")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise CanonicalError("object keys must be strings")
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_order)):
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _write(value[key], out, depth + 1)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out, depth + 1)
        out.append("]")
    else:
        raise CanonicalError(f"{type(value).__name__} is not a JSON value")


def _utf16_order(key: str) -> bytes:
    return key.encode("utf-16-be", errors="surrogatepass")


def _number(value: float) -> str:
    """ECMAScript Number::toString of a finite double (RFC 8785 section 3.2.2.3)."""
    if not math.isfinite(value):
        raise CanonicalError(f"{value} is not a JSON number")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digit_tuple))
    k, n = len(digits), int(exponent) + len(digits)  # value = 0.digits * 10**n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"


# --- the key registry ---------------------------------------------------------------------


class StateKey(BaseModel):
    """One public key of one State, valid from ``not_before`` until ``not_after`` (if any)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: KeyId
    state: StateCode
    public_key: str = Field(description="Base64 (standard) of the raw 32-byte Ed25519 key")
    not_before: AwareDatetime
    not_after: AwareDatetime | None = None

    @field_validator("public_key")
    @classmethod
    def _raw_ed25519(cls, value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as err:
            raise ValueError(f"not base64: {err}") from err
        problem = public_key_problem(raw)
        if problem:
            raise ValueError(f"not an acceptable Ed25519 public key: {problem}")
        Ed25519PublicKey.from_public_bytes(raw)  # raises ValueError if not a key
        return value

    @model_validator(mode="after")
    def _window(self) -> StateKey:
        if self.not_after is not None and self.not_after <= self.not_before:
            raise ValueError(f"key {self.key_id}: not_after must be later than not_before")
        return self

    def verifier(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))

    def valid_at(self, when: datetime) -> bool:
        return self.not_before <= when and (self.not_after is None or when < self.not_after)

    def window(self) -> str:
        end = self.not_after.isoformat() if self.not_after else "no end"
        return f"[{self.not_before.isoformat()}, {end})"


class KeyRegistry(BaseModel):
    """The States' public keys; rotation = several keys per State with their windows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keys: tuple[StateKey, ...] = ()

    @model_validator(mode="after")
    def _unique_ids(self) -> KeyRegistry:
        ids = [k.key_id for k in self.keys]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"key ids must be unique; repeated: {', '.join(dupes)}")
        return self

    def get(self, key_id: str) -> StateKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)

    def for_state(self, state: str) -> tuple[StateKey, ...]:
        return tuple(k for k in self.keys if k.state == state)


def state_keys_file(state_dir: Path | None = None) -> Path:
    """``$TRACEFREEZE_STATE_KEYS_FILE``, else ``<state_dir>/keys/state-keys.toml``."""
    env = os.environ.get(KEYS_FILE_ENV)
    if env:
        return Path(env)
    if state_dir is None:
        from tracefreeze.config import get_settings

        state_dir = get_settings().state_dir
    return state_dir / DEFAULT_KEYS_FILE


def load_registry(path: Path | None = None) -> KeyRegistry:
    """Read the registry TOML: one ``[[keys]]`` table per key, e.g.

    .. code-block:: toml

        [[keys]]
        key_id = "nld-2026-1"
        state = "NLD"
        public_key = "base64 of the raw 32-byte key"
        not_before = 2026-01-01T00:00:00Z
        not_after = 2027-01-01T00:00:00Z   # optional: no end

    A missing or invalid file is a ``TracefreezeError``: a bridge that cannot verify any
    answer must not start.
    """
    path = path or state_keys_file()
    return parse_registry(_read_registry(path), path)


def _read_registry(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as err:
        raise TracefreezeError(
            f"no State key registry at {path}; set {KEYS_FILE_ENV} or make a demo key with "
            "`python -m tracefreeze.security.signing keygen --state NLD --key-id nld-demo-1 "
            "--out-dir <dir>`"
        ) from err
    except OSError as err:
        raise TracefreezeError(f"cannot read the State key registry {path}: {err}") from err


def parse_registry(raw: bytes, path: Path) -> KeyRegistry:
    """The registry in ``raw`` (the TOML of ``load_registry``), read from ``path``."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise TracefreezeError(f"cannot read the State key registry {path}: {err}") from err
    try:
        return KeyRegistry.model_validate(data)
    except ValidationError as err:
        raise TracefreezeError(f"State key registry {path}: {summarize(err)}") from err


class RegistryFile:
    """The registry file, re-read when it changes: ``current()`` is the registry to use.

    At most once per ``check_every_s`` it compares the file's (mtime, size, inode) with the
    last read; if they differ it reads the file and compares its SHA-256; if that differs it
    parses it. A registry that loads replaces the old one in one reference swap (a check in
    flight keeps the registry it started with); one that does not is logged through
    ``on_error`` and the last good registry stays in force (fail safe: a broken edit never
    stops verification, nor lets anything through). Loading at start must succeed.
    """

    def __init__(
        self,
        path: Path,
        check_every_s: float = 1.0,
        on_change: Callable[[str], None] = lambda _: None,
        on_error: Callable[[str], None] = lambda _: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path, self.check_every_s, self.clock = path, check_every_s, clock
        self._on_change, self._on_error = on_change, on_error
        self._lock = threading.Lock()
        stamp = self._stamp()
        raw = _read_registry(path)
        self._registry = parse_registry(raw, path)
        self._digest, self._seen_stamp = hashlib.sha256(raw).digest(), stamp
        self._checked = clock()

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def current(self) -> KeyRegistry:
        now = self.clock()
        if now - self._checked < self.check_every_s or not self._lock.acquire(blocking=False):
            return self._registry
        try:
            self._checked = now
            stamp = self._stamp()
            if stamp == self._seen_stamp:
                return self._registry
            self._seen_stamp = stamp
            try:
                raw = _read_registry(self.path)
            except TracefreezeError as err:
                self._on_error(f"{err}; keeping the last good registry")
                return self._registry
            digest = hashlib.sha256(raw).digest()
            if digest == self._digest:
                return self._registry
            try:
                registry = parse_registry(raw, self.path)
            except TracefreezeError as err:
                self._on_error(f"{err}; keeping the last good registry")
                return self._registry
            before = {k.key_id for k in self._registry.keys}
            after = {k.key_id for k in registry.keys}
            self._registry, self._digest = registry, digest
            self._on_change(
                f"State key registry {self.path} reloaded: {len(after)} keys"
                f" (added: {', '.join(sorted(after - before)) or 'none'};"
                f" removed: {', '.join(sorted(before - after)) or 'none'})"
            )
            return registry
        finally:
            self._lock.release()


# --- replay guard and clock tolerance -----------------------------------------------------


Position = tuple[str, int, int]
"""Where a message sits in Kafka: (topic, partition, offset)."""


ReplayKey = tuple[str, str]
"""(answering State, event id): what the replay guard remembers."""


class ReplayGuard:
    """(State, event id) of answers verified recently: an LRU per State with a time to live.

    Keyed by the answering State as well as the event id: a State can only replay its own
    answers, so another State sending a message under the same event id (e.g. BEL reusing
    NLD's predictable ``nld-answer-000042``) never blocks the genuine answer (issue 11).
    Bounded per State (``max_entries`` each): a State flooding event ids evicts only its own
    entries, never another State's (RS art. 93(1): each State's request is its own).

    Only a first line: it forgets on restart, after ``ttl`` and beyond ``max_entries``, and
    each bridge process has its own. The request workflow's seen-set is the real dedupe.

    An event id seen again at the *same* Kafka position is a redelivery (the bridge stopped
    or lost the partition before committing), not a replay: it passes. Seen at another
    position (or with no position given), it is a replay.
    """

    def __init__(self, max_entries: int = 100_000, ttl: timedelta = timedelta(days=7)) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries, self.ttl = max_entries, ttl
        self._seen: dict[str, OrderedDict[str, tuple[datetime, Position | None]]] = {}
        """State -> event id -> (when, where), oldest first."""

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._seen.values())

    def __contains__(self, key: object) -> bool:
        """``(state, event_id)``; a bare event id: recorded for any State."""
        if isinstance(key, str):
            return any(key in entries for entries in self._seen.values())
        if isinstance(key, tuple) and len(key) == 2:
            state, event_id = key
            return event_id in self._seen.get(state, ())
        return False

    def replayed(
        self, state: str, event_id: str, now: datetime, position: Position | None = None
    ) -> bool:
        """Whether ``state`` sent ``event_id`` within the TTL at another position."""
        entries = self._seen.get(state)
        if not entries:
            return False
        self._expire(entries, now)
        entry = entries.get(event_id)
        if entry is None:
            return False
        _, where = entry
        return position is None or where != position

    def record(
        self, state: str, event_id: str, now: datetime, position: Position | None = None
    ) -> None:
        entries = self._seen.setdefault(state, OrderedDict())
        entries[event_id] = (now, position)
        entries.move_to_end(event_id)
        while len(entries) > self.max_entries:
            entries.popitem(last=False)

    def forget(self, event_id: str, state: str | None = None) -> None:
        """Forget ``event_id`` of ``state``, or of every State when ``state`` is None."""
        states = [state] if state is not None else list(self._seen)
        for s in states:
            entries = self._seen.get(s)
            if entries is not None:
                entries.pop(event_id, None)

    def _expire(
        self, entries: OrderedDict[str, tuple[datetime, Position | None]], now: datetime
    ) -> None:
        while entries:
            oldest = next(iter(entries))
            if now - entries[oldest][0] < self.ttl:
                break
            entries.popitem(last=False)


@dataclass(frozen=True)
class Tolerance:
    """How far ``sent_at`` may be from the bridge's clock."""

    max_age: timedelta = timedelta(days=7)
    """An answer sent longer ago than this is ``too_old`` (Kafka backlog after an outage
    stays well within it; keep it at most the replay guard's TTL)."""
    max_skew: timedelta = timedelta(minutes=5)
    """An answer dated later than now + this is ``from_future`` (clock skew)."""


DEFAULT_TOLERANCE = Tolerance()


# --- signing and verifying ----------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    """Why a message on ``tracefreeze.state-answers`` reaches no workflow.

    ``reason`` is a ``SignatureReason`` or, when the body itself is not an answer (oversize,
    not JSON, invalid), the ``DeadLetterReason`` that ``routing.decode_answer`` gives.
    """

    reason: SignatureReason | DeadLetterReason
    detail: str
    event_id: str | None = None
    key_id: str | None = None

    @property
    def reason_code(self) -> str:
        return self.reason.value

    def as_verdict(self) -> Verdict:
        """The dead-letter verdict: every rejection reason is a dead-letter reason code."""
        return Verdict(DeadLetterReason(self.reason.value), self.detail)


def signed_message(canonical: bytes) -> bytes:
    """What an answer's signature covers: ``SIGNING_CONTEXT`` + the canonical body."""
    return SIGNING_CONTEXT + canonical


def sign_bytes(
    value: bytes, private_key: Ed25519PrivateKey, key_id: str
) -> list[tuple[str, bytes]]:
    """The signature headers of a message whose value is ``value`` (the canonical body).

    The one signing function: every signer (``sign``, the demo keys and simulator, the State
    kit, the tests' signed records) goes through it, so all sign the same bytes."""
    signature = private_key.sign(signed_message(value))
    return [
        (HEADER_SIGNATURE, base64.urlsafe_b64encode(signature).rstrip(b"=")),
        (HEADER_KEY_ID, key_id.encode("ascii")),
    ]


def sign(
    answer: AnswerBase, private_key: Ed25519PrivateKey, key_id: str
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The message value (canonical JSON of the answer) and the signature headers."""
    value = canonical_bytes(answer.model_dump(mode="json"))
    return value, sign_bytes(value, private_key, key_id)


def verify(
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]] | None,
    registry: KeyRegistry,
    now: datetime,
    seen: ReplayGuard,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    *,
    position: Position | None = None,
) -> Answer | Rejection:
    """The answer, if it is signed by a valid key of its own State, fresh and not replayed.

    Never raises on any input. ``now`` is aware (the bridge passes ``datetime.now(UTC)``);
    ``position`` is the record's (topic, partition, offset), so that a redelivery of the same
    record is not mistaken for a replay. An accepted answer's event id is recorded in
    ``seen``; a rejected one's is not.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime, e.g. datetime.now(UTC)")
    if value is None or len(value) > MAX_ANSWER_BYTES:
        return _from_verdict(decode_answer(value), None, None)
    event_id = _peek_event_id(value)
    ev = f"answer {event_id}" if event_id else "answer (no readable event id)"

    signature_b64, key_id, problem = _envelope(headers)
    if problem:
        return Rejection(SignatureReason.MISSING_SIGNATURE, f"{ev}: {problem}", event_id, key_id)
    assert signature_b64 is not None and key_id is not None
    key = registry.get(key_id)
    if key is None:
        return Rejection(
            SignatureReason.UNKNOWN_KEY,
            f"{ev}: key id {_show(key_id)} is not in the State key registry",
            event_id,
            key_id,
        )
    signature = _unbase64url(signature_b64)
    if signature is None or len(signature) != SIGNATURE_BYTES:
        return Rejection(
            SignatureReason.BAD_SIGNATURE,
            f"{ev}: header {HEADER_SIGNATURE} is not base64url of a {SIGNATURE_BYTES}-byte "
            f"Ed25519 signature (key {key_id})",
            event_id,
            key_id,
        )

    body = _parse(value)
    if isinstance(body, str):
        return Rejection(DeadLetterReason.MALFORMED, f"{ev}: {body}", event_id, key_id)
    try:
        key.verifier().verify(signature, signed_message(canonical_bytes(body)))
    except CanonicalError as err:
        return Rejection(DeadLetterReason.MALFORMED, f"{ev}: {err}", event_id, key_id)
    except (InvalidSignature, ValueError):
        return Rejection(
            SignatureReason.BAD_SIGNATURE,
            f"{ev}: signature does not match the body under key {key_id} of {key.state}",
            event_id,
            key_id,
        )

    decoded = decode_answer(value)
    if isinstance(decoded, Verdict):
        return _from_verdict(decoded, event_id, key_id)
    answer = decoded
    ev = f"answer {answer.event_id}"
    if key.state != answer.state:
        return Rejection(
            SignatureReason.MISADDRESSED,
            f"{ev}: signed with key {key_id} of {key.state} but answers as {answer.state}; "
            "a State may answer only as itself",
            answer.event_id,
            key_id,
        )
    if not key.valid_at(now):
        return _key_not_valid(answer.event_id, key, "now", now)
    if answer.sent_at < now - tolerance.max_age:
        return Rejection(
            SignatureReason.TOO_OLD,
            f"{ev}: sent_at {answer.sent_at.isoformat()} is more than {tolerance.max_age} "
            f"before now ({now.isoformat()}); key {key_id}",
            answer.event_id,
            key_id,
        )
    if answer.sent_at > now + tolerance.max_skew:
        return Rejection(
            SignatureReason.FROM_FUTURE,
            f"{ev}: sent_at {answer.sent_at.isoformat()} is more than {tolerance.max_skew} "
            f"after now ({now.isoformat()}); key {key_id}",
            answer.event_id,
            key_id,
        )
    if not key.valid_at(answer.sent_at):
        return _key_not_valid(answer.event_id, key, "at sent_at", answer.sent_at)
    if seen.replayed(answer.state, answer.event_id, now, position):
        return Rejection(
            SignatureReason.REPLAYED,
            f"{ev}: event id already seen from {answer.state} by this bridge (key {key_id}); "
            "a replay of a verified answer",
            answer.event_id,
            key_id,
        )
    seen.record(answer.state, answer.event_id, now, position)
    return answer


def _key_not_valid(event_id: str, key: StateKey, moment: str, when: datetime) -> Rejection:
    return Rejection(
        SignatureReason.KEY_NOT_VALID,
        f"answer {event_id}: key {key.key_id} of {key.state} is not valid {moment} "
        f"({when.isoformat()}); its window is {key.window()}",
        event_id,
        key.key_id,
    )


def _from_verdict(verdict: Any, event_id: str | None, key_id: str | None) -> Rejection:
    assert isinstance(verdict, Verdict)
    prefix = f"answer {event_id}: " if event_id else ""
    return Rejection(verdict.reason, prefix + verdict.detail, event_id, key_id)


def _envelope(
    headers: Sequence[tuple[str, bytes | None]] | None,
) -> tuple[str | None, str | None, str | None]:
    """(signature, key id, problem): exactly one of each header, ASCII."""
    found: dict[str, list[bytes | None]] = {HEADER_SIGNATURE: [], HEADER_KEY_ID: []}
    try:
        for name, raw in headers or ():
            if name in found:
                found[name].append(raw)
    except (TypeError, ValueError):
        return None, None, "headers are not (name, value) pairs"
    texts: dict[str, str] = {}
    for name, values in found.items():
        if not values:
            return None, None, f"no {name} header (unsigned)"
        if len(values) > 1:
            return None, None, f"header {name} appears {len(values)} times"
        raw = values[0]
        if not isinstance(raw, bytes | bytearray) or not raw:
            return None, None, f"header {name} is empty"
        try:
            texts[name] = bytes(raw).decode("ascii")
        except UnicodeDecodeError:
            return None, None, f"header {name} is not ASCII"
    return texts[HEADER_SIGNATURE], texts[HEADER_KEY_ID], None


def _unbase64url(text: str) -> bytes | None:
    text = text.strip().rstrip("=")
    if not text or len(text) > 2 * SIGNATURE_BYTES:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _parse(value: bytes) -> dict[str, Any] | str:
    """The body as a JSON object, or what is wrong with it (duplicate keys are refused)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for k, v in pairs:
            if k in obj:
                raise CanonicalError(f"duplicate key {_show(k)}")
            obj[k] = v
        return obj

    def no_constant(name: str) -> Any:
        raise CanonicalError(f"{name} is not JSON")

    try:
        body = json.loads(value, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except CanonicalError as err:
        return f"not canonical-able JSON: {err}"
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        return f"not JSON: {type(err).__name__}: {str(err)[:200]}"
    if not isinstance(body, dict):
        return f"not a JSON object but {type(body).__name__}"
    return body


def _peek_event_id(value: bytes) -> str | None:
    try:
        data = json.loads(value)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    event_id = data.get("event_id") if isinstance(data, dict) else None
    return _show(event_id) if isinstance(event_id, str) and event_id else None


def _show(text: str) -> str:
    text = text if len(text) <= MAX_HEADER_CHARS else text[:MAX_HEADER_CHARS] + "..."
    return repr(text)[1:-1] if text.isprintable() else repr(text)


# --- keys on disk -------------------------------------------------------------------------


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """A State's private key from its (unencrypted PKCS#8) PEM file."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as err:
        raise TracefreezeError(f"cannot read the signing key {path}: {err}") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise TracefreezeError(f"{path} is not an Ed25519 private key")
    return key


def public_key_b64(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode("ascii")


def keygen(
    state: str,
    key_id: str,
    out_dir: Path,
    registry_file: Path,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> tuple[Path, StateKey]:
    """Make a key pair: the private key to ``out_dir/<key_id>.pem`` (mode 0600), the public
    key appended to the registry. Refuses to overwrite a key file or reuse a key id."""
    private_key = Ed25519PrivateKey.generate()
    entry = StateKey(
        key_id=key_id,
        state=state,
        public_key=public_key_b64(private_key),
        not_before=(not_before or datetime.now(UTC)).replace(microsecond=0),
        not_after=not_after,
    )
    existing = load_registry(registry_file) if registry_file.exists() else KeyRegistry()
    if existing.get(key_id) is not None:
        raise TracefreezeError(f"key id {key_id} is already in {registry_file}")
    pem_path = out_dir / f"{key_id}.pem"
    if pem_path.exists():
        raise TracefreezeError(f"{pem_path} exists; choose another key id")

    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(pem_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.chmod(pem_path, 0o600)

    registry_file.parent.mkdir(parents=True, exist_ok=True)
    with registry_file.open("a", encoding="utf-8") as f:
        if registry_file.stat().st_size:
            f.write("\n")
        f.write(_toml_entry(entry))
    load_registry(registry_file)  # what we wrote reads back
    return pem_path, entry


def _toml_entry(key: StateKey) -> str:
    def stamp(when: datetime) -> str:
        return when.astimezone(UTC).isoformat().replace("+00:00", "Z")

    lines = [
        "[[keys]]",
        f'key_id = "{key.key_id}"',
        f'state = "{key.state}"',
        f'public_key = "{key.public_key}"',
        f"not_before = {stamp(key.not_before)}",
    ]
    if key.not_after is not None:
        lines.append(f"not_after = {stamp(key.not_after)}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tracefreeze.security.signing keygen --state NLD --key-id K --out-dir DIR``"""
    parser = argparse.ArgumentParser(prog="python -m tracefreeze.security.signing")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("keygen", help="make a State key pair (demo; never commit it)")
    gen.add_argument("--state", required=True, help="ISO 3166-1 alpha-3 code, e.g. NLD")
    gen.add_argument("--key-id", required=True, help="e.g. nld-2026-1")
    gen.add_argument("--out-dir", required=True, type=Path, help="where the private key goes")
    gen.add_argument(
        "--registry",
        type=Path,
        default=None,
        help=f"registry to append to (default: ${KEYS_FILE_ENV} or .state/{DEFAULT_KEYS_FILE})",
    )
    gen.add_argument("--not-before", type=datetime.fromisoformat, default=None)
    gen.add_argument("--not-after", type=datetime.fromisoformat, default=None)
    args = parser.parse_args(argv)
    try:
        pem_path, entry = keygen(
            args.state,
            args.key_id,
            args.out_dir,
            args.registry or state_keys_file(),
            args.not_before,
            args.not_after,
        )
    except (TracefreezeError, ValidationError) as err:
        detail = summarize(err) if isinstance(err, ValidationError) else str(err)
        print(f"error: {detail}", file=sys.stderr)
        return 1
    registry = args.registry or state_keys_file()
    print(f"private key {pem_path} (0600); public key {entry.key_id} of {entry.state} → {registry}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
