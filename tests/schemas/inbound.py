"""A valid instance of every inbound contract (each State answer, each Court action, the
request, the case order), with every optional date-time set: what the bounds tests mutate."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from pathlib import Path

from hypothesis import settings
from pydantic import BaseModel

from schemas import answers as a
from schemas import court as c
from schemas.case import AddState, CaseOrder, CloseCase
from schemas.request import CourtRequest
from tests import builders as s
from tests.decisions import close_action

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
PROPERTIES = settings(database=None, deadline=None, max_examples=300)
ZONES = [UTC, *(timezone(timedelta(hours=h)) for h in (-12, -1, 2, 14))]


def _req() -> CourtRequest:
    return s.court_request(reference="ICC-01/22-REQ-0007")


def _inbound() -> list[tuple[str, BaseModel]]:
    """A valid instance of every inbound contract, with every optional date-time set."""
    req = _req()
    ids = {"asset_ids": [s.ACCOUNT]}
    return [
        ("acknowledgement", s.acknowledgement(req)),
        ("consultation", s.consultation(req)),
        ("postponement", s.postponement(req)),
        ("denial", s.denial(req)),
        (
            "execution_report",
            s.execution_report(
                req,
                [
                    s.result(
                        s.ACCOUNT,
                        "identify",
                        "freeze",
                        value=("398214.37", "EUR"),
                        location="Amsterdam",
                        registry_reference="NL00TEST0123456789",
                        executing_authority="Public Prosecution Service",
                        national_order_expires_at="2027-01-01T00:00:00Z",
                    )
                ],
            ),
        ),
        ("no_assets", s.no_assets(req, registers_searched=["Kadaster", "KvK"])),
        ("third_party_claim", s.third_party_claim(req, s.ACCOUNT)),
        ("domestic_challenge", s.domestic_challenge(req, s.ACCOUNT)),
        ("asset_management", s.asset_management(req, s.ACCOUNT, "1.00")),
        ("freeze_limit_proposal", s.freeze_limit(req, s.ACCOUNT)),
        (
            "channel_change",
            s.state_answer(a.ChannelChangeNotice, req, channel="diplomatic", language="fr"),
        ),
        (
            "consultation_response",
            s.court_action(
                c.ConsultationResponse,
                resolution="request_modified",
                modified_request=req.model_dump(mode="json"),
            ),
        ),
        (
            "postponement_decision",
            s.court_action(
                c.PostponementDecision, agreed=True, until="2027-01-01T00:00:00Z", **s.reasons()
            ),
        ),
        ("resume_execution", s.court_action(c.ResumeExecution, **s.reasons())),
        ("urgent_confirmation", s.court_action(c.UrgentConfirmation, channel="note verbale")),
        ("rule99_notification", s.court_action(c.Rule99Notification, notified_party_ids=["p-x"])),
        (
            "rule99_decision",
            s.court_action(c.Rule99Decision, outcome="revoked", **ids, **s.reasons()),
        ),
        ("withdrawal", s.court_action(c.Withdrawal, **s.reasons())),
        ("forfeiture_order", s.court_action(c.ForfeitureOrder, order_reference="F-1", **ids)),
        (
            "third_party_claim_decision",
            s.court_action(
                c.ThirdPartyClaimDecision, claim_id="claim-1", upheld=False, **s.reasons()
            ),
        ),
        (
            "transfer_to_court",
            s.court_action(c.TransferToCourt, asset_id=s.ACCOUNT, amount=s.money("5.00")),
        ),
        (
            "allocation",
            s.court_action(
                c.Allocation,
                asset_id=s.ACCOUNT,
                shares=[{"destination": "reparations", "amount": s.money("5.00")}],
            ),
        ),
        ("release", s.court_action(c.Release, ground="acquittal", **ids, **s.reasons())),
        ("close", close_action()),
        (
            "deadline_extension",
            s.court_action(c.DeadlineExtension, stage="first_report", by="P7D", **s.reasons()),
        ),
        (
            "escalation_decision",
            s.court_action(
                c.EscalationDecision, step="chamber_report", proceed=True, **s.reasons()
            ),
        ),
        ("add_state", s.court_action(AddState, request=req.model_dump(mode="json"))),
        ("close_case", s.court_action(CloseCase, reason="Every request is closed.")),
        ("court_request", req),
        (
            "case_order",
            CaseOrder.model_validate_json((EXAMPLES / "case-order.json").read_bytes()),
        ),
    ]


INBOUND = _inbound()
