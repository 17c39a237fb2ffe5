"""The party directory's kinds and codes and the situation register (RS 13), as shipped and
as refused (docs/legal-process.md, 'Who is asked')."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.policy import PartyKind, StateDirectory
from schemas.situation import SituationRegister, Trigger, situation_of
from tests.builders import court_request
from tracefreeze.policy import load_directory, load_policy, load_situations, resolve

OFFICE = {
    "central_authority": "Office of Legal Affairs",
    "focal_point": "Liaison office",
    "channel": "organisation",
    "language": "en",
    "time_zone": "UTC",
}


def directory(code: str, *kinds: dict[str, Any]) -> StateDirectory:
    return StateDirectory.model_validate({"states": {code: {**OFFICE, "kinds": list(kinds)}}})


def test_the_shipped_register_says_how_each_situation_reached_the_court() -> None:
    """RS 13(a)/14 State referral, RS 13(c)/15 proprio motu, RS 13(b) Council referral with
    its resolution and the States it obliges."""
    register = load_situations()
    assert register.situations["ICC-01/22"].trigger is Trigger.STATE_REFERRAL
    assert register.situations["ICC-01/17"].trigger is Trigger.PROPRIO_MOTU
    darfur = register.situations["ICC-02/05"]
    assert (darfur.trigger, darfur.resolution, darfur.bound_states) == (
        Trigger.SECURITY_COUNCIL,
        "S/RES/1593 (2005)",
        ("SDN",),
    )


def test_a_case_number_maps_to_its_situation() -> None:
    assert situation_of("ICC-01/22-01/24") == "ICC-01/22"
    assert situation_of("ICC-01/22") == "ICC-01/22"
    assert situation_of("ICC-01/22-REQ-0007") == "ICC-01/22"
    assert situation_of("not a case") is None
    assert load_situations().of_case("ICC-99/99-01/01") is None


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"trigger": "security_council"}, "names its resolution"),
        ({"trigger": "state_referral", "resolution": "S/RES/1593 (2005)"}, "names its resolution"),
        ({"trigger": "proprio_motu", "bound_states": ["SDN"]}, "only a Council resolution"),
        ({"trigger": "security_council", "resolution": "1593"}, "String should match"),
    ],
)
def test_the_register_refuses_a_referral_it_cannot_show(
    entry: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValidationError, match=fragment):
        SituationRegister.model_validate({"situations": {"ICC-01/30": entry}})


def test_an_organisation_and_only_it_takes_a_user_assigned_x_code() -> None:
    """ISO 3166-1 leaves XAA-XZZ to its users: no State ever takes one, so an international
    organisation's code (RS 87(6)) never clashes with a State's."""
    io = {"kind": "international_organisation", "since": "2005-01-01"}
    assert directory("XIP", io).states["XIP"].kind_on(date(2026, 1, 1)) is (
        PartyKind.INTERNATIONAL_ORGANISATION
    )
    with pytest.raises(ValidationError, match="user-assigned code XAA-XZZ"):
        directory("IPO", io)
    with pytest.raises(ValidationError, match="user-assigned code XAA-XZZ"):
        directory("XAA", {"kind": "state_party", "since": "2002-07-01"})


def test_a_resolution_binds_in_its_situation_not_in_the_directory() -> None:
    """RS 13(b): the Council's resolution obliges a State in the situation it referred; the
    directory cannot make a State bound everywhere."""
    with pytest.raises(ValidationError, match="bound_states"):
        directory("SDN", {"kind": "security_council_bound", "since": "2005-03-31"})


def test_a_kind_history_is_in_order_of_date() -> None:
    with pytest.raises(ValidationError, match="in order of date"):
        directory(
            "QMA",
            {"kind": "non_state_party_arrangement", "since": "2024-03-01"},
            {"kind": "non_state_party", "since": "2002-07-01"},
        )


def test_the_request_records_its_kind_and_situation_at_transmission() -> None:
    """The kind in force on the transmission date and the situation are recorded in the
    request's policy: SDN is a non-State Party, but in ICC-02/05 the Council's resolution
    binds it (RS 13(b)); in another situation it is not bound."""
    darfur = court_request(requested_state="SDN", case_number="ICC-02/05-01/09")
    resolved = resolve(load_policy(), load_directory(), darfur, at=datetime(2026, 1, 1, tzinfo=UTC))
    assert resolved.party_kind is PartyKind.SECURITY_COUNCIL_BOUND
    assert resolved.situation is not None and resolved.situation.number == "ICC-02/05"
    elsewhere = court_request(requested_state="SDN")  # ICC-01/22
    assert resolve(load_policy(), load_directory(), elsewhere).party_kind is (
        PartyKind.NON_STATE_PARTY
    )


def test_a_resolution_never_takes_the_assembly_from_an_arrangement_party() -> None:
    """RS 87(5)(b): for a party with an ad hoc arrangement the Court may inform the Assembly
    or, where the Council referred the matter, the Council. A resolution that also binds it
    (RS 13(b)) leaves its kind, and so the Assembly, in place; a State bound by nothing but
    the resolution is asked as bound by it."""
    register = SituationRegister.model_validate(
        {
            "situations": {
                "ICC-02/05": {
                    "trigger": "security_council",
                    "resolution": "S/RES/1593 (2005)",
                    "bound_states": ["SDN", "QMA"],
                }
            }
        }
    )
    at = datetime(2026, 1, 1, tzinfo=UTC)
    kinds = [
        resolve(
            load_policy(),
            load_directory(),
            court_request(requested_state=code, case_number="ICC-02/05-01/09"),
            register,
            at,
        ).party_kind
        for code in ("QMA", "SDN")
    ]
    assert kinds == [PartyKind.NON_STATE_PARTY_ARRANGEMENT, PartyKind.SECURITY_COUNCIL_BOUND]
