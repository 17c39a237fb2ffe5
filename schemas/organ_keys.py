"""The organ key registry as a request holds it: the public keys with which the organs of the
Court sign their decisions (``docs/signed-decisions.md``).

Read by the worker from its mounted file (``tracefreeze/security/organ_keys.py``, where each
key is checked to be an acceptable Ed25519 point before it gets here) and recorded in the
request's history by an activity (``workflows/request_keys.py``): the request verifies each
Court action against the registry its own history holds, so a replay verifies exactly as the
first run did.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import AwareDatetime, Field

from schemas.common import Frozen
from schemas.organs import Organ

RESOLVE_ORGAN_KEYS = "resolve_organ_keys"
"""The activity that reads the worker's organ key registry (a case's and a directory's start, a
refresh; a request's first run reads it in its transmission's round: ``schemas/outbox.py``)."""
REFRESH_ORGAN_KEYS = "refresh_organ_keys"
"""The request's update that reads the registry again (after a rotation)."""
RELAY: Final = "relay"
"""The signer of the Court's workers, which relay to a request the acts a case or an
enforcement request sends it (``workflows/decision_signatures.py``, ``RELAYED``)."""
MAX_ORGAN_KEYS = 200


class OrganKey(Frozen):
    """One public key of one organ, valid from ``not_before`` until ``not_after`` (if any);
    several per organ for rotation (key history)."""

    key_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    organ: Organ | Literal["relay"]
    public_key: str = Field(
        pattern=r"^[A-Za-z0-9+/]{43}=$", description="Base64 of the raw 32-byte Ed25519 key"
    )
    not_before: AwareDatetime
    not_after: AwareDatetime | None = None

    def valid_at(self, when: datetime) -> bool:
        return self.not_before <= when and (self.not_after is None or when < self.not_after)


class OrganKeys(Frozen):
    """The organ key registry (several keys per organ, each with its window); ``digest``
    says which file it was read from (SHA-256, hex), ``reason`` why none could be read."""

    keys: tuple[OrganKey, ...] = Field(default=(), max_length=MAX_ORGAN_KEYS)
    digest: str = Field(default="", max_length=64)
    reason: str | None = Field(default=None, max_length=2000)

    def get(self, key_id: str) -> OrganKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)
