"""A party's directory takes a Court action only signed by the organ whose act it is, for this
party's directory, and only from an organ that may take it — as a request and a case do
(``request_keys.py``, ``case_keys.py``, ``decision_signatures.py``, ``powers.py``).

The directory holds what every later request to the party is transmitted by (its channel and
language, Rule 180) and the national-law requirements the Court consulted on (RS 96(3)): a
forged "agreed change" could send the Court's next requests to a channel of the forger's
choosing. The organ key registry is read by an activity at the directory's first start (in its
history) and carried (``PartyCarry.organ_keys``).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.court import CourtAction, party_address
    from schemas.organ_keys import OrganKeys
    from schemas.organs import CHAMBERS, Organ
    from workflows.court_admission import check_decided_at
    from workflows.decision_signatures import check_signature
    from workflows.outcome import Refusal, Rejection
    from workflows.powers import Power, check_power, table
    from workflows.request_keys import HeldOrganKeys

PARTY_POWERS = table(
    (
        Power(
            "agreed_contact_change",
            frozenset({Organ.REGISTRY}),
            "Rule 180(1)-(2); RS 87(1)(a), 87(2); Rule 176(2): the Registrar receives the "
            "party's notice of a new channel or language and records what was agreed",
        ),
        Power(
            "national_law_consultation",
            CHAMBERS | {Organ.PRESIDENCY, Organ.REGISTRY},
            "RS 96(3): the Court asks the party to consult on its national-law requirements "
            "(transmitted by the Registry, Rule 176(2))",
        ),
        Power(
            "national_law_consultation_closed",
            CHAMBERS | {Organ.PRESIDENCY, Organ.REGISTRY},
            "RS 96(3): the consultation ends when the requirements are advised or supplied",
        ),
    )
)
"""Who may take each Court action on a party's directory (``party_catalog.PARTY_ACTIONS``)."""


class PartyKeys(HeldOrganKeys):
    """The directory's organ key registry and the check of each Court action it takes."""

    def __init__(self, carried: OrganKeys | None, code: str) -> None:
        super().__init__(carried)
        self.address = party_address(code)

    def check(self, action: str, act: CourtAction) -> None:
        """Refused, in clear (it quotes only the act and the law), unless ``act`` is signed by
        its organ for this party's directory and that organ may take it."""
        try:
            check_signature(self.keys, act, workflow.now(), self.address)
            check_decided_at(act, workflow.now(), None)  # never dated ahead of its time
            check_power(PARTY_POWERS, action, act)
        except Refusal as err:
            raise Rejection(str(err), "PartyActionRejected", str(err)) from None
