"""Encrypted Temporal history: a payload codec (AES-GCM) so that confidential content of
requests (RS 87(3)) is not stored in plaintext in the Temporal server.

Every payload the SDK sends (workflow and activity inputs and results, update arguments,
memo, query results...) is replaced by one whose

- metadata is ``encoding: binary/encrypted`` and ``encryption-key-id: <key id>``;
- data is a fresh 12-byte nonce followed by the AES-GCM ciphertext (with its 16-byte tag) of
  the serialized original ``Payload`` protobuf, metadata included; from 16 KiB compressed
  first (``compression.py``: ``encryption-compression: zlib``, bound into the associated data).

Decoding takes the key id from the metadata, so old payloads stay readable after rotation as
long as their key stays in the key set; a payload whose key is not held is a clear
``CodecError``.

Namespace binding: the AES-GCM associated data is ``AAD_CONTEXT``, the Temporal namespace and
the key id (``associated_data``). A payload copied into another namespace's history (or shown
by a codec server under another ``X-Namespace``) does not decrypt there: a confidential
request (RS 87(3), Rule 81) cannot be made readable by moving its history. Each process binds
the namespace it talks to (``TRACEFREEZE_TEMPORAL_NAMESPACE``); the codec server binds the
namespace each call names.

Plaintext after migration: payloads that are not encrypted pass through unchanged while
history written before the codec was turned on may still be read. Once every such history is
gone (its retention elapsed, or it was re-encrypted), set
``TRACEFREEZE_CODEC_REFUSE_PLAINTEXT=true``: decoding a payload without our encryption is then
a ``CodecError`` (``PLAINTEXT_REFUSED``), so that nobody can slip an unencrypted, unbound
payload (e.g. an update argument written by another client) into a request's history.

What the codec does not cover: search attributes (plaintext by design: put no name or asset
detail in them) and, unless ``data_converter(codec, encode_failures=True)``, failure messages
and stack traces; even then, a validator's rejection of an update shows a content-free public
reason in clear (``EncodedButRejections``), its whole reason encrypted like the rest.

Keys (read by ``codec_from_env``)
---------------------------------
- ``TRACEFREEZE_CODEC_KEYS``: comma-separated ``<key id>:<base64 key>`` pairs, e.g.
  ``k1:<base64>,k2:<base64>``; each key 16, 24 or 32 bytes (32 recommended: AES-256).
  Standard or URL-safe base64. Generate one with
  ``python -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())"``.
- ``TRACEFREEZE_CODEC_ACTIVE_KEY``: the key id new payloads are encrypted with; optional when
  only one key is listed.
- Without ``TRACEFREEZE_CODEC_KEYS``, the file ``<state_dir>/keys/codec-keys`` (same syntax;
  pairs may also go one per line) if it exists: the local stack makes it with one random
  32-byte key (``ensure_codec_keys``, run by ``make up``), so the worker, bridge, CLI,
  codec server and tests on that stack share it. Neither set: history is not encrypted.

Rotation: add the new key to ``TRACEFREEZE_CODEC_KEYS``, restart every process with it
(worker, bridge, CLI, codec server), then make it active; keep the old key listed for as long
as any history encrypted with it is retained.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
    PayloadConverter,
)

from tracefreeze.errors import TracefreezeError
from tracefreeze.security.compression import ZLIB, UnpackError, pack, unpack

ENCODING = b"binary/encrypted"
AAD_CONTEXT = b"tracefreeze/payload/v1\0"
"""Domain separation of the associated data: these ciphertexts are tracefreeze payloads."""
METADATA_ENCODING = "encoding"
METADATA_KEY_ID = "encryption-key-id"
METADATA_COMPRESSION = "encryption-compression"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_SIZES = (16, 24, 32)
KEYS_ENV = "TRACEFREEZE_CODEC_KEYS"
ACTIVE_KEY_ENV = "TRACEFREEZE_CODEC_ACTIVE_KEY"
REFUSE_PLAINTEXT_ENV = "TRACEFREEZE_CODEC_REFUSE_PLAINTEXT"
NAMESPACE_ENV = "TRACEFREEZE_TEMPORAL_NAMESPACE"
DEFAULT_NAMESPACE = "default"
KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
KEYS_FILE = Path("keys") / "codec-keys"
"""Relative to the settings' ``state_dir``: read when ``TRACEFREEZE_CODEC_KEYS`` is unset."""


class CodecError(TracefreezeError, ValueError):
    """A payload that cannot be decrypted, or a codec key set that is not usable.

    ``code`` says which, without key ids or other internals: the codec server answers with
    the code only (``tracefreeze/security/codec_server.py``)."""

    def __init__(self, message: str, code: str = "codec_error") -> None:
        super().__init__(message)
        self.code = code


UNKNOWN_KEY = "unknown_key"
NOT_DECRYPTABLE = "not_decryptable"
PLAINTEXT_REFUSED = "plaintext_refused"
MALFORMED = "malformed"


class EncryptionCodec(PayloadCodec):
    """AES-GCM payload codec with a key id in each payload's metadata (see module docstring)."""

    def __init__(
        self,
        keys: Mapping[str, bytes],
        active_key_id: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        refuse_plaintext: bool = False,
    ) -> None:
        if not namespace:
            raise CodecError("the codec needs the Temporal namespace it binds payloads to")
        if not keys:
            raise CodecError("the codec needs at least one key")
        for key_id, key in keys.items():
            if not KEY_ID.fullmatch(key_id):
                raise CodecError(f"codec key id {key_id!r} must match {KEY_ID.pattern}")
            if len(key) not in KEY_SIZES:
                raise CodecError(
                    f"codec key {key_id} is {len(key)} bytes; AES-GCM takes 16, 24 or 32"
                )
        if active_key_id not in keys:
            raise CodecError(
                f"active codec key {active_key_id!r} is not among the keys "
                f"({', '.join(sorted(keys))})"
            )
        self.active_key_id = active_key_id
        self.namespace, self.refuse_plaintext = namespace, refuse_plaintext
        self._keys = dict(keys)
        self._ciphers = {key_id: AESGCM(bytes(key)) for key_id, key in keys.items()}

    def for_namespace(self, namespace: str) -> EncryptionCodec:
        """The same keys and settings, bound to ``namespace``."""
        if namespace == self.namespace:
            return self
        return EncryptionCodec(
            self._keys,
            self.active_key_id,
            namespace=namespace,
            refuse_plaintext=self.refuse_plaintext,
        )

    def associated_data(self, key_id: str, packed: bool = False) -> bytes:
        """What each ciphertext is bound to: context, namespace, key id (and compression)."""
        bound = AAD_CONTEXT + self.namespace.encode("utf-8") + b"\0" + key_id.encode("ascii")
        return bound + b"\0" + ZLIB if packed else bound

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._ciphers))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return self.encode_sync(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return self.decode_sync(payloads)

    def encode_sync(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(p) for p in payloads]

    def decode_sync(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(p) for p in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        if is_encrypted(payload):  # already ours: never wrap twice
            return payload
        nonce = os.urandom(NONCE_BYTES)
        cipher = self._ciphers[self.active_key_id]
        plain, packed = pack(payload.SerializeToString())
        sealed = cipher.encrypt(nonce, plain, self.associated_data(self.active_key_id, packed))
        metadata = {METADATA_ENCODING: ENCODING, METADATA_KEY_ID: self.active_key_id.encode()}
        return Payload(
            metadata=metadata | ({METADATA_COMPRESSION: ZLIB} if packed else {}),
            data=nonce + sealed,
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if not is_encrypted(payload):
            if self.refuse_plaintext:
                raise CodecError(
                    f"payload is not encrypted (encoding "
                    f"{payload.metadata.get(METADATA_ENCODING, b'none')!r}) and this codec "
                    f"refuses plaintext ({REFUSE_PLAINTEXT_ENV} is set: every history was "
                    "migrated to encrypted payloads); it was written by a client without the "
                    "codec",
                    PLAINTEXT_REFUSED,
                )
            return payload
        raw_id = payload.metadata.get(METADATA_KEY_ID)
        if not raw_id:
            raise CodecError(f"encrypted payload has no {METADATA_KEY_ID} metadata", MALFORMED)
        key_id = raw_id.decode("utf-8", errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecError(
                f"payload encrypted with codec key {key_id!r}, which this process does not "
                f"hold (it holds: {', '.join(self.key_ids)}); add that key to {KEYS_ENV}",
                UNKNOWN_KEY,
            )
        packing = payload.metadata.get(METADATA_COMPRESSION)
        if packing not in (None, ZLIB):
            raise CodecError(
                f"encrypted payload names an unknown compression {packing!r}", MALFORMED
            )
        packed = packing == ZLIB
        data = payload.data
        if len(data) < NONCE_BYTES + TAG_BYTES:
            raise CodecError(
                f"encrypted payload (key {key_id}) is too short to be AES-GCM", MALFORMED
            )
        try:
            plain = cipher.decrypt(
                data[:NONCE_BYTES], data[NONCE_BYTES:], self.associated_data(key_id, packed)
            )
        except InvalidTag as err:
            raise CodecError(
                f"encrypted payload does not decrypt under codec key {key_id} in namespace "
                f"{self.namespace!r} (tampered, written in another namespace, or the key "
                "under that id changed)",
                NOT_DECRYPTABLE,
            ) from err
        try:
            return Payload.FromString(unpack(plain) if packed else plain)
        except UnpackError as err:
            raise CodecError(f"decrypted payload (key {key_id}): {err}", MALFORMED) from err
        except DecodeError as err:
            raise CodecError(
                f"decrypted payload (key {key_id}) is not a Payload", MALFORMED
            ) from err


def is_encrypted(payload: Payload) -> bool:
    return payload.metadata.get(METADATA_ENCODING) == ENCODING


def parse_keys(spec: str) -> dict[str, bytes]:
    """``k1:<base64>,k2:<base64>`` → ``{"k1": key, "k2": key}``; errors never show key bytes."""
    keys: dict[str, bytes] = {}
    for n, item in enumerate((i.strip() for i in spec.split(",")), start=1):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id:
            raise CodecError(f"{KEYS_ENV}: entry {n} is not <key id>:<base64 key>")
        if key_id in keys:
            raise CodecError(f"{KEYS_ENV}: key id {key_id} appears twice")
        text = encoded.strip().replace("-", "+").replace("_", "/")
        try:
            keys[key_id] = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError) as err:
            raise CodecError(f"{KEYS_ENV}: key {key_id} is not base64") from err
    return keys


def codec_from_env(
    environ: Mapping[str, str] | None = None,
    state_dir: Path | None = None,
    namespace: str | None = None,
) -> EncryptionCodec | None:
    """The codec from ``TRACEFREEZE_CODEC_KEYS`` / ``TRACEFREEZE_CODEC_ACTIVE_KEY``, else from
    ``<state_dir>/keys/codec-keys`` (with ``environ`` given, only if ``state_dir`` is too; the
    state dir defaults to the settings'), or None when there are no keys (history
    unencrypted). A set but unusable key set is an error.

    Bound to ``namespace``, else ``TRACEFREEZE_TEMPORAL_NAMESPACE`` (default ``default``);
    refuses plaintext when ``TRACEFREEZE_CODEC_REFUSE_PLAINTEXT`` is true."""
    env = os.environ if environ is None else environ
    spec = env.get(KEYS_ENV, "").strip()
    if not spec and (environ is None or state_dir is not None):
        spec = read_keys_file(codec_keys_file(state_dir))
    if not spec:
        return None
    keys = parse_keys(spec)
    if not keys:
        return None
    active = env.get(ACTIVE_KEY_ENV, "").strip()
    if not active:
        if len(keys) > 1:
            raise CodecError(
                f"{ACTIVE_KEY_ENV} must name the key to encrypt with "
                f"({KEYS_ENV} lists {', '.join(sorted(keys))})"
            )
        active = next(iter(keys))
    return EncryptionCodec(
        keys,
        active,
        namespace=namespace or env.get(NAMESPACE_ENV, "").strip() or DEFAULT_NAMESPACE,
        refuse_plaintext=env_flag(env, REFUSE_PLAINTEXT_ENV),
    )


def env_flag(env: Mapping[str, str], name: str) -> bool:
    """A boolean variable as pydantic reads one (1/true/yes/on, 0/false/no/off/unset)."""
    value = env.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise CodecError(f"{name} must be true or false, not {value!r}")


def codec_keys_file(state_dir: Path | None = None) -> Path:
    if state_dir is None:
        from tracefreeze.config import get_settings

        state_dir = get_settings().state_dir
    return state_dir / KEYS_FILE


def read_keys_file(path: Path) -> str:
    """The key set a codec keys file holds (``<key id>:<base64 key>`` per line, comments
    dropped), comma-joined as ``TRACEFREEZE_CODEC_KEYS`` takes it; empty if there is none."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as err:
        raise CodecError(f"cannot read the codec keys file {path}: {err}") from err
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return ",".join(line for line in lines if line)


def ensure_codec_keys(state_dir: Path) -> Path:
    """Make ``<state_dir>/keys/codec-keys`` with one random AES-256 key if it is missing."""
    path = codec_keys_file(state_dir)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    line = f"k1:{base64.b64encode(os.urandom(32)).decode('ascii')}\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(line)
    return path


def data_converter(codec: PayloadCodec | None, *, encode_failures: bool = False) -> DataConverter:
    """The pydantic data converter, with ``codec`` (None: unencrypted, as before).

    ``encode_failures`` also moves failure messages and stack traces into an encoded payload
    (``DefaultFailureConverterWithEncodedAttributes``), so they are encrypted too.
    """
    if codec is None:
        return pydantic_data_converter
    converter = dataclasses.replace(pydantic_data_converter, payload_codec=codec)
    if encode_failures:
        converter = dataclasses.replace(converter, failure_converter_class=EncodedButRejections)
    return converter


class EncodedButRejections(DefaultFailureConverterWithEncodedAttributes):
    """Failures' messages and stack traces encrypted; a rejection's public reason in clear.

    The Temporal UI's "Send an Update" dialog shows only a failure's clear message ("Encoded
    failure" otherwise). An exception with a ``public_reason`` (``workflows.outcome.Rejection``:
    content-free by construction) is encoded whole like any other, causes included, and then
    shows that reason as its message."""

    def to_failure(
        self, exception: BaseException, payload_converter: PayloadConverter, failure: Failure
    ) -> None:
        super().to_failure(exception, payload_converter, failure)
        public = getattr(exception, "public_reason", None)
        if isinstance(public, str) and public:
            failure.message = public
