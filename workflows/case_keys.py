"""A case takes a Court action only signed by the organ whose act it is, for this case, and
only from an organ that may take it: as a request does (``workflows/request_keys.py``,
``decision_signatures.py``, ``powers.py``), since the case relays its judgments, its release
and the closes that follow to its requests, and what it relays carries the organ's signed act
inside for each request to verify again (``decision_signatures.check_relayed``).

The organ key registry is read by an activity at the first run's start, so it is in the
case's history (a replay verifies against exactly it), and carried across continue-as-new
(``CaseCarry.organ_keys``); ``refresh_organ_keys`` reads it again when keys rotate, keeping
the registry in force should the file not be read. Who may take each act on a case is the
catalog's table (a judgment by its outcome, RS 61, 74, 83(2); the release of the case, RS 74,
81(3)(c), 83(2)) and ``CASE_POWERS`` below.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.court import CourtAction, case_address
    from schemas.organ_keys import OrganKeys
    from schemas.organs import CHAMBERS, REQUESTING, Organ
    from workflows.catalog import POWERS
    from workflows.court_admission import check_decided_at
    from workflows.decision_signatures import check_signature
    from workflows.outcome import Refusal, Rejection
    from workflows.powers import Power, check_power, table
    from workflows.request_keys import CASE_OUTGOING, HeldOrganKeys, own_carry

__all__ = ["CASE_OUTGOING", "CASE_POWERS", "CaseKeys", "own_carry"]  # the case's carry too

CASE_POWERS = table(
    (
        Power(
            "add_state",
            REQUESTING | {Organ.PROSECUTOR},
            "RS 57(3)(e), 61(11), 64(6); RS 109, Rule 217; RS 54(3)(c): the organ that makes "
            "the request it adds asks that party (RS 93(1)(k), 96)",
            requester=True,
        ),
        Power(
            "secure_amount",
            CHAMBERS | {Organ.PRESIDENCY},
            "RS 57(3)(e), 75, 77(2)(a): the Chamber sets what the measures secure; after "
            "judgment the Presidency (RS 109; Rule 217)",
        ),
        Power(
            "close_case",
            CHAMBERS | {Organ.REGISTRY},
            "RS 43(1): the Registry closes a case whose requests are all closed; a Chamber's "
            "release of the case ends it (RS 74, 81(3)(c), 83(2))",
        ),
    )
)
"""The acts on a case that are no request's (the rest are the catalog's ``POWERS``)."""
ROWS = {"record_judgment": "judgment", "release_case": "case_release"}
"""The case's updates whose power to act is the catalog's row of the request's action."""


class CaseKeys(HeldOrganKeys):
    """The case's organ key registry and the check of each Court action it takes."""

    def __init__(self, carried: OrganKeys | None, order_reference: str) -> None:
        super().__init__(carried)
        self.address = case_address(order_reference)

    def check(self, update: str, act: CourtAction) -> None:
        """Refused, in clear (it quotes only the act and the law), unless ``act`` is signed by
        its organ for this case and that organ may take it."""
        try:
            check_signature(self.keys, act, workflow.now(), self.address)
            check_decided_at(act, workflow.now(), None)  # never dated ahead of its time
            action = ROWS.get(update)
            if action is None:  # a State added: by the organ that makes its request
                check_power(CASE_POWERS, update, act, getattr(act, "request", None))
            else:
                check_power(POWERS, action, act)
        except Refusal as err:
            raise Rejection(str(err), "CaseActionRejected", str(err)) from None
