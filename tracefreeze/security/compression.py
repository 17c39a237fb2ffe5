"""Compression of a large payload before it is encrypted (``codec.EncryptionCodec``).

Temporal refuses a payload over its blob size limit (2 MiB by default): a request that hands
over to a new run with more in its carry than that cannot continue, and stalls. A carry is
JSON of the same shapes over and over (a ledger of a thousand assets, each with its history),
which zlib makes many times smaller, so the codec compresses every payload of
``COMPRESS_FROM`` bytes or more before it encrypts it (and says so in the payload's metadata,
bound into the ciphertext's associated data, so the flag cannot be changed without the payload
failing to decrypt). Small payloads, the answers and events of every day, are left as they
are: their latency is not spent on zlib. A process without codec keys compresses nothing
either (production runs with them: deploy/k8s requires the keys' Secret).

Compressing before encrypting shows a payload's compressed length to whoever can read the
history: any principal with Temporal ``read`` (an observer) as well as the server's store. A
case's hand-over mixes several States' summaries with text a State chooses (reasons), so a
party able to send text and to watch lengths could in principle probe another's (a
"compression oracle"): it needs both Temporal read access, which no State has, and many
attempts, each an answer the Court records. Unpacking is bounded (``MAX_UNPACKED``): a payload
that would grow beyond it is malformed, whatever wrote it.

Upgrading: a process from before compression cannot read a compressed payload (its
associated data differs); upgrade whatever decodes (the codec server, the recorder, the
workers) before anything writes compressed payloads, i.e. all at once or readers first.
"""

from __future__ import annotations

import zlib

COMPRESS_FROM = 16 * 1024
"""Payloads from 16 KiB are compressed (a request's view, a carry, a case's hand-over)."""
MAX_UNPACKED = 64 * 1024 * 1024
"""No payload unpacks beyond 64 MiB (Temporal's own limits are far below)."""
LEVEL = 6
ZLIB = b"zlib"


class UnpackError(ValueError):
    """A compressed payload that does not unpack, or would unpack beyond ``MAX_UNPACKED``."""


def pack(raw: bytes) -> tuple[bytes, bool]:
    """``raw`` compressed if it is large enough to be worth it (and got smaller); whether it
    was."""
    if len(raw) < COMPRESS_FROM:
        return raw, False
    packed = zlib.compress(raw, LEVEL)
    return (packed, True) if len(packed) < len(raw) else (raw, False)


def unpack(data: bytes) -> bytes:
    """What ``pack`` compressed, bounded by ``MAX_UNPACKED``."""
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(data, MAX_UNPACKED)
    except zlib.error as err:
        raise UnpackError(f"compressed payload does not unpack: {err}") from err
    if inflater.unconsumed_tail or not inflater.eof:
        raise UnpackError(f"compressed payload is truncated or unpacks beyond {MAX_UNPACKED} bytes")
    return raw
