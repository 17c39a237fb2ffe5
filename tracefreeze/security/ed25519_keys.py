"""Which 32-byte strings are acceptable Ed25519 public keys for the State key registry.

A public key is a point of the curve (RFC 8032 section 5.1.3). Verification libraries accept
some encodings that no honest key generator produces, and with them a signature that proves
nothing: the identity point as a key verifies ``R = identity, S = 0`` over *any* message, so
whoever registered it could "sign" any State's answer under that key. The registry therefore
takes a key only if it is

- canonical: ``y < p``, and not ``x = 0`` with the sign bit set;
- on the curve;
- not of small order (``[8]A`` is not the identity: the identity itself and the seven other
  points of order 2, 4 or 8);
- in the prime-order subgroup (``[L]A`` is the identity): no small-order component mixed in,
  which some verifiers would otherwise ignore and others not.

Every key made by ``Ed25519PrivateKey.generate()`` (``A = [a]B``) passes. Plain integer
arithmetic in extended coordinates (RFC 8032 section 5.1.4); used only when a registry is
loaded, never per answer. The answer for one key is remembered (``public_key_problem``): a
registry read again unchanged (the organ registry at every request's first round) costs no
second check, about 1.7 ms of the worker's CPU per key.
"""

from __future__ import annotations

import functools

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
"""The order of the prime-order subgroup (RFC 8032 section 5.1)."""
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

KEY_BYTES = 32
KEYS_REMEMBERED = 4096
"""Keys whose answer is remembered (32 bytes and a short string each): twenty times the
organ registry's bound (``MAX_ORGAN_KEYS``) and room for several keys of every party. A
registry larger than that is checked again, key by key, as before."""

Point = tuple[int, int, int, int]
"""(X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z."""
IDENTITY: Point = (0, 1, 1, 0)


def decode(raw: bytes) -> Point | str:
    """The point ``raw`` encodes, or why it is not a canonical encoding of a curve point."""
    if len(raw) != KEY_BYTES:
        return f"an Ed25519 public key is {KEY_BYTES} bytes, this one is {len(raw)}"
    number = int.from_bytes(raw, "little")
    sign, y = number >> 255, number & ((1 << 255) - 1)
    if y >= P:
        return "not canonical: its y coordinate is not reduced modulo p"
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = (u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P)) % P
    if (v * x * x - u) % P != 0:
        x = (x * SQRT_M1) % P
        if (v * x * x - u) % P != 0:
            return "not a point of the curve"
    if x == 0 and sign:
        return "not canonical: x = 0 with the sign bit set"
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, (x * y) % P)


def add(a: Point, b: Point) -> Point:
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = t1 * 2 * D * t2 % P
    dd = z1 * 2 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def multiply(scalar: int, point: Point) -> Point:
    result, addend = IDENTITY, point
    while scalar:
        if scalar & 1:
            result = add(result, addend)
        addend = add(addend, addend)
        scalar >>= 1
    return result


def is_identity(point: Point) -> bool:
    x, y, z, _ = point
    return x % P == 0 and (y - z) % P == 0


def public_key_problem(raw: bytes) -> str | None:
    """None for an acceptable public key, else why it is refused (module docstring). The
    answer for 32 bytes is remembered (``_judged``) for the last ``KEYS_REMEMBERED`` keys
    asked about: a key read again is never judged differently; any other length is refused
    at once and never remembered."""
    if len(raw) != KEY_BYTES:
        return f"an Ed25519 public key is {KEY_BYTES} bytes, this one is {len(raw)}"
    return _judged(bytes(raw))


@functools.lru_cache(maxsize=KEYS_REMEMBERED)
def _judged(raw: bytes) -> str | None:
    point = decode(raw)
    if isinstance(point, str):
        return point
    if is_identity(multiply(8, point)):
        return "a point of small order (it would verify forged signatures)"
    if not is_identity(multiply(L, point)):
        return "not in the prime-order subgroup (a small-order component is mixed in)"
    return None


BASE: Point = (
    15112221349535400772501151409588531511454012693041857206046113283949847762202,
    46316835694926478169428394003475163141307993866256225615783033603165251855960,
    1,
    46827403850823179245072216630277197565144205554125654976674165829533817101731,
)
"""The base point B of Ed25519 (RFC 8032 section 5.1)."""


def _same(a: Point, b: Point) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature of ``message`` (RFC 8032
    section 5.1.7, cofactorless, as OpenSSL checks): plain integer arithmetic, so a workflow
    verifies deterministically in its sandbox without a native library."""
    import hashlib

    if len(signature) != 64:
        return False
    a, r = decode(public_key), decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if isinstance(a, str) or isinstance(r, str) or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little")
    return _same(multiply(s, BASE), add(r, multiply(k % L, a)))


def verify_encoded(public_key: str, message: bytes, signature: str) -> bool:
    """``verify`` for a key in base64 and a signature in unpadded base64url, as a registry and
    a signed message carry them; an encoding that does not decode does not verify."""
    import base64
    import binascii

    try:
        raw = base64.urlsafe_b64decode(signature + "==")
        return verify(base64.b64decode(public_key), message, raw)
    except (binascii.Error, ValueError):
        return False
