"""The signed original of a Court action a request took, as it goes to the record store.

A Chamber's order, the Presidency's or the Registry's act on a request (RS 57(3)(e), 75(4),
77(2)(b), 93(1)(k), 109; Rules 217-221) is verified by the request before anything is written
(``workflows/decision_signatures.py``). Its event on the Court's request-events topic carries
only its audit (who, for which organ, key, signature, digest: ``CourtActionAudit``), never its
text, which may name persons and assets of a confidential or ex parte request (RS 87(3);
Rule 99(2)). The text itself, exactly as the organ signed it, goes once on the Court-internal
topic ``tracefreeze.court-actions``, which only the worker writes and only the record store's
recorder reads (deploy/kafka-security.md): the record keeps it, and re-verifies it years after
Temporal's retention deleted the request's history (``tracefreeze/record/decisions.py``).

A CloudEvent in binary mode like every message of the Court (key = the request reference).
Its ``id`` is the id of the action's event on the request-events topic, so a retried publish
repeats it and the record links the two.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import AwareDatetime, Field

from schemas.common import EventId, Frozen, RequestReference, StateCode
from schemas.court import CourtActionMessage

SIGNED_COURT_ACTION: Final = "int.icc.tracefreeze.court.action.signed.v1"
SIGNED_COURT_ACTION_SOURCE: Final = "tracefreeze/request-workflow"


class SignedCourtAction(Frozen):
    """One Court action as the request took it: its signed original and where it belongs."""

    specversion: Literal["1.0"] = "1.0"
    id: EventId = Field(description="The id of the action's event on the request-events topic")
    source: Literal["tracefreeze/request-workflow"] = SIGNED_COURT_ACTION_SOURCE
    type: Literal["int.icc.tracefreeze.court.action.signed.v1"] = SIGNED_COURT_ACTION
    time: AwareDatetime = Field(description="When the request took it (its signature checked)")
    subject: RequestReference = Field(description="The request reference (also the Kafka key)")
    requested_state: StateCode
    action: CourtActionMessage = Field(
        description="The action exactly as its organ signed it, its signature included "
        "(docs/signed-decisions.md)"
    )
