"""A State's signed answer as evidence: verified when recorded, re-verifiable for years.

The recorder checks each record of the answers topic with the bridge's own verification
(``tracefreeze/security/verify.py``: the State's key by the key id it names, the signature
over the canonical body, the key's State and window, freshness), at the moment it records it,
against the State key registry in force then. It keeps the original value and headers byte
for byte, the key id, the verdict, that moment and the registry itself as it was
(``key_registry_versions``, by fingerprint: public keys only). ``reverify`` runs the same check
again on the stored original against the stored registry and moment: a key rotated out or
revoked since does not change what the answer was when it arrived. Replays are the bridge's to
refuse (its replay guard is its own); the store keeps every copy received.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.organ_keys import OrganKeys
from tracefreeze.intake.routing import Answer
from tracefreeze.security.canonical import HEADER_KEY_ID
from tracefreeze.security.key_registry import KeyRegistry
from tracefreeze.security.replay_guard import ReplayGuard
from tracefreeze.security.verify import Rejection, verify

VERIFIED = "verified"
SIGNED_BY_ITS_STATE = frozenset({VERIFIED, "too_old", "from_future", "key_not_valid", "replayed"})
"""Verdicts reached only past the signature check with a key of the State the body names:
the State itself sent it (late, early or twice, perhaps). Only these are filed with the
request the body names; any other copy is kept unattributed (a State cannot write into
another State's record, nor an unsigned sender into any)."""


def registry_json(registry: KeyRegistry | OrganKeys) -> str:
    """The registry as stored: canonical JSON of its public keys."""
    return json.dumps(registry.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def fingerprint(registry: KeyRegistry | OrganKeys) -> str:
    """SHA-256 of the registry as stored: the version an answer was checked against."""
    return hashlib.sha256(registry_json(registry).encode()).hexdigest()


def registry_from_json(raw: str | dict[str, Any]) -> KeyRegistry:
    data = json.loads(raw) if isinstance(raw, str) else raw
    return KeyRegistry.model_validate(data)


@dataclass(frozen=True)
class Check:
    """What one verification found: ``verdict`` is ``verified`` or a rejection's reason."""

    verdict: str
    detail: str
    key_id: str | None
    answer: Answer | None

    @property
    def verified(self) -> bool:
        return self.verdict == VERIFIED

    @property
    def attributable(self) -> bool:
        return self.verdict in SIGNED_BY_ITS_STATE


def check(
    value: bytes | None,
    headers: list[tuple[str, bytes | None]],
    registry: KeyRegistry,
    at: datetime,
) -> Check:
    """Verify one record of the answers topic as the bridge does, at ``at``."""
    outcome = verify(value, headers, registry, at, ReplayGuard())
    if isinstance(outcome, Rejection):
        return Check(outcome.reason_code, outcome.detail, outcome.key_id, None)
    key = registry.get(_key_id(headers) or "")
    detail = f"signed by {outcome.state} with key {key.key_id if key else '?'}"
    return Check(VERIFIED, detail, key.key_id if key else None, outcome)


def _key_id(headers: list[tuple[str, bytes | None]]) -> str | None:
    for name, raw in headers:
        if name == HEADER_KEY_ID and raw:
            return raw.decode("ascii", errors="replace")
    return None


def headers_json(headers: list[tuple[str, bytes | None]]) -> bytes:
    """The headers byte for byte, as JSON (hex of each value; null kept)."""
    return json.dumps([[n, None if v is None else v.hex()] for n, v in headers]).encode()


def headers_from_json(raw: bytes) -> list[tuple[str, bytes | None]]:
    return [(n, None if v is None else bytes.fromhex(v)) for n, v in json.loads(raw)]
