"""The signed message on ``tracefreeze.state-answers``: what a State's signature covers.

The Kafka message value stays the answer's JSON. The signature travels beside it, in headers:

- ``tf_signature``: base64url (RFC 4648 section 5; padding optional, ``sign_bytes`` omits it)
  of the 64-byte Ed25519 signature over ``signed_message``: the context ``SIGNING_CONTEXT``
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

The signer's side is ``tracefreeze/security/signing.py``, the verifier's
``tracefreeze/security/verify.py``; both build the signed bytes here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

HEADER_SIGNATURE = "tf_signature"
HEADER_KEY_ID = "tf_key_id"
SIGNATURE_FIELDS = frozenset({HEADER_SIGNATURE, HEADER_KEY_ID})
"""Top-level body fields never covered by the signature (the envelope travels in headers)."""

SIGNING_CONTEXT = b"tracefreeze/answer/v1\0"
"""Prefixed to the canonical body in every signed message (domain separation)."""
COURT_ACTION_CONTEXT = b"tracefreeze/court-action/v1\0"
"""Prefixed to a Court action's canonical body when its organ signs it
(``tracefreeze/security/organ_keys.py``): a State's answer never verifies as a decision, nor a
decision as an answer."""
SIGNATURE_BYTES = 64


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


def signed_message(canonical: bytes, context: bytes = SIGNING_CONTEXT) -> bytes:
    """What a signature covers: the context (``SIGNING_CONTEXT`` for a State's answer,
    ``COURT_ACTION_CONTEXT`` for an organ's decision) + the canonical body."""
    return context + canonical
