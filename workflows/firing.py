"""One thing a clock or a rule did, which the workflow turns into an escalation event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.court import Stage
from schemas.escalations import DirectoryChange
from schemas.escalations import EscalationKind as K


@dataclass
class Firing:
    """One thing a clock did; the workflow turns it into an escalation event."""

    kind: K
    level: int
    step: str | None = None
    stage: Stage | None = None
    deadline: datetime | None = None
    addressee: str | None = None
    asset_id: str | None = None
    directory_change: DirectoryChange | None = None
    decision_event_id: str | None = None
    """A Chamber's decision the firing carries out (a freeze lifted on the date it set)."""
