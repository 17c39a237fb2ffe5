"""The completeness check before transmission (seed para 11; RS 96(2), 87(2), 57(3), 75(4)):
each rule finds what it names, with its article, and the example request is complete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.completeness import (
    MAX_FINDINGS,
    CompletenessOverride,
    FindingKind,
    NationalRequirement,
    PartyProfile,
    SupplementedRequest,
)
from schemas.request import CourtRequest
from tests.builders import example
from tracefreeze.completeness import (
    GROUNDS_MIN_WORDS,
    check,
    profile_from_directory,
    render,
)
from tracefreeze.policy import load_directory

NLD = PartyProfile(party="NLD", languages=("en",))
WARRANT = {"kind": "summons_to_appear", "reference": "ICC-01/22-30", "issued_on": "2026-01-05"}
APPEARED = {**WARRANT, "arrested_or_appeared_at": "2026-01-12T10:00:00+01:00"}
"""The summons, and the person's appearance under it (RS 58(7))."""
ARRESTED_AT = "2026-01-28T06:15:00+02:00"
"""When the person named in the example's warrant of arrest (2026-01-20) was arrested."""
CONVICTION = {"judgment_reference": "ICC-01/22-900", "delivered_on": "2026-01-30"}


def request(**changes: Any) -> CourtRequest:
    data = example("court-request")
    data.update(changes)
    return CourtRequest.model_validate(data)


def found(req: CourtRequest, profile: PartyProfile | None = NLD, **kw: Any) -> set[tuple]:
    """(kind, field, article) of each finding."""
    return {(f.kind, f.field, f.article) for f in check(req, profile, **kw).findings}


MISSING, WRONG = FindingKind.MISSING, FindingKind.INCONSISTENT


def test_the_example_request_is_complete_for_its_party() -> None:
    directory_profile = profile_from_directory(load_directory(), "NLD")
    report = check(request(), directory_profile)
    assert report.complete and report.findings == () and report.profile_known
    assert render(report).endswith(": complete")


def test_the_issue_example_is_incomplete_on_every_count() -> None:
    """grounds "x", no assets and a pre-trial chamber acting under RS 75(4)."""
    req = request(grounds="x", known_assets=[], legal_basis="RS 75(4)", warrant=None)
    assert found(req) == {
        (WRONG, "issuing_organ, legal_basis", "RS 75(4)"),
        (MISSING, "conviction", "RS 75(4), 74"),
        (MISSING, "grounds", "RS 96(2)(a), 96(2)(c)"),
        (MISSING, "known_assets", "RS 96(2)(b), 93(1)(k)"),
    }
    text = render(check(req, NLD))
    assert "incomplete (4 findings)" in text
    assert "RS 75(4) is a power of the trial chamber, not of the pre trial chamber" in text


@pytest.mark.parametrize(
    ("grounds", "why"),
    [
        ("x", "'x' is a placeholder"),
        ("TBD.", "is a placeholder"),
        ("see attached", "is a placeholder"),
        ("The suspect holds assets in the Netherlands.", "it has 7 words"),
        ("asset " * 40, "it repeats itself"),
        ("[insert facts here] " + "word " * 30, "template text"),
        ("Lorem ipsum dolor sit amet " * 8, "template text"),
    ],
)
def test_grounds_without_substance_are_missing(grounds: str, why: str) -> None:
    """RS 96(2)(a), (c): grounds and essential facts of substance (at least
    ``GROUNDS_MIN_WORDS`` words, not a placeholder, template or repetition)."""
    report = check(request(grounds=grounds), NLD)
    (finding,) = report.findings
    assert (finding.kind, finding.field, finding.article) == (
        MISSING,
        "grounds",
        "RS 96(2)(a), 96(2)(c)",
    )
    assert why in finding.what


def test_grounds_at_the_threshold_pass() -> None:
    words = [f"fact{chr(97 + i % 26)}{'x' * (i // 26)}" for i in range(GROUNDS_MIN_WORDS)]
    words = [w.replace("fact", "facts") for w in words]
    assert check(request(grounds=" ".join(words)), NLD).complete
    assert not check(request(grounds=" ".join(words[:-1])), NLD).complete


def test_procedure_to_follow_is_required() -> None:
    """RS 96(2)(d)."""
    assert found(request(procedure=None)) == {(MISSING, "procedure", "RS 96(2)(d)")}
    assert found(request(procedure="freeze")) == {(MISSING, "procedure", "RS 96(2)(d)")}


def test_the_person_concerned_is_identified() -> None:
    """RS 96(2)(b), 93(1)(k): at least one person among the parties; a company is not the
    person concerned."""
    company_only = [p for p in example("court-request")["parties"] if p["kind"] == "company"]
    assets = example("court-request")["known_assets"]
    for asset in assets:
        asset["owner_party_ids"] = []
    req = request(parties=company_only, known_assets=assets)
    assert found(req) == {(MISSING, "parties", "RS 96(2)(b), 93(1)(k)")}


def test_a_restraint_needs_assets_with_location_and_identifier() -> None:
    """RS 96(2)(b): for a freeze or seizure, each known asset with where it is and an
    identifier; identification and tracing alone need no known asset."""
    assets = example("court-request")["known_assets"]
    assets[0].pop("registry_reference")
    assets[1].pop("location_country")
    assets[1].pop("location")
    assert found(request(known_assets=assets)) == {
        (MISSING, "known_assets[a-account-1].registry_reference", "RS 96(2)(b)"),
        (MISSING, "known_assets[a-apartment-1].location", "RS 96(2)(b)"),
    }
    assert found(request(known_assets=[], measures=["seize"])) == {
        (MISSING, "known_assets", "RS 96(2)(b), 93(1)(k)")
    }
    assert check(request(known_assets=[], measures=["identify", "trace"]), NLD).complete


def test_rs_57_3_e_needs_the_pre_trial_chamber_and_a_warrant_or_summons() -> None:
    """RS 57(3)(e): the Pre-Trial Chamber's power once a warrant or summons issued (RS 58)."""
    assert found(request(warrant=None)) == {(MISSING, "warrant", "RS 57(3)(e), RS 58")}
    assert found(request(issuing_organ="trial_chamber")) == {
        (WRONG, "issuing_organ, legal_basis", "RS 57(3)(e)")
    }
    assert check(request(warrant=WARRANT), NLD).complete
    late = {**WARRANT, "issued_on": "2026-03-01"}  # the request is of 2026-02-10
    assert found(request(warrant=late)) == {(WRONG, "warrant.issued_on", "RS 57(3)(e), RS 58")}


def test_rs_75_4_needs_the_trial_chamber_and_a_conviction() -> None:
    """RS 75(4): after a conviction (RS 74), the Trial Chamber; a pre-trial chamber acting
    under RS 75(4) is inconsistent."""
    trial = request(issuing_organ="trial_chamber", legal_basis="RS 75(4)", warrant=None)
    assert found(trial) == {(MISSING, "conviction", "RS 75(4), 74")}
    convicted = request(
        issuing_organ="trial_chamber", legal_basis="RS 75(4)", conviction=CONVICTION
    )
    assert check(convicted, NLD).complete
    pre_trial = request(legal_basis="RS 75(4)", conviction=CONVICTION)
    assert found(pre_trial) == {(WRONG, "issuing_organ, legal_basis", "RS 75(4)")}


def test_rs_57_3_b_is_for_the_defence() -> None:
    """RS 57(3)(b): at the request of the person arrested or summoned; a Defence request
    resting on another basis is inconsistent (seed para 14)."""
    defence = request(legal_basis="RS 57(3)(b)", origin="defence", warrant=APPEARED)
    assert check(defence, NLD).complete
    assert found(request(legal_basis="RS 57(3)(b)", warrant=APPEARED)) == {
        (WRONG, "origin, legal_basis", "RS 57(3)(b)")
    }
    assert found(request(origin="defence")) == {(WRONG, "origin, legal_basis", "RS 57(3)(b)")}
    assert found(request(legal_basis="RS 57(3)(b)", origin="defence", warrant=None)) == {
        (MISSING, "warrant", "RS 57(3)(b), RS 58"),
        (MISSING, "warrant.arrested_or_appeared_at", "RS 57(3)(b), RS 58"),
    }


def test_rs_57_3_b_needs_when_the_person_was_arrested_or_appeared() -> None:
    """RS 57(3)(b), 58: the Pre-Trial Chamber acts "upon the request of a person who has been
    arrested or has appeared pursuant to a summons under article 58": a Defence request
    without that date is incomplete, whichever the warrant or summons."""
    for warrant in (WARRANT, example("court-request")["warrant"]):  # summons, arrest warrant
        defence = request(legal_basis="RS 57(3)(b)", origin="defence", warrant=warrant)
        assert found(defence) == {
            (MISSING, "warrant.arrested_or_appeared_at", "RS 57(3)(b), RS 58")
        }
        (finding,) = check(defence, NLD).findings
        assert "arrested or has appeared pursuant to a summons" in finding.what
    arrested = {**example("court-request")["warrant"], "arrested_or_appeared_at": ARRESTED_AT}
    defence = request(legal_basis="RS 57(3)(b)", origin="defence", warrant=arrested)
    assert check(defence, NLD).complete


def test_rs_57_3_e_needs_no_arrest_or_appearance() -> None:
    """RS 57(3)(e): the warrant or summons is enough (RS 58); the person need not have been
    arrested or have appeared."""
    assert request().warrant is not None and request().warrant.arrested_or_appeared_at is None
    assert check(request(), NLD).complete
    assert check(request(warrant=APPEARED), NLD).complete


@pytest.mark.parametrize("basis", ["RS 57(3)(b)", "RS 57(3)(e)"])
def test_an_arrest_or_appearance_before_the_summons_or_after_the_request_is_inconsistent(
    basis: str,
) -> None:
    """RS 57(3)(b), 58: a person arrested or appearing under article 58 does so once the
    warrant or summons issued, and before the request made upon it (on any basis that names
    the date). The day is the person's own (the date-time's offset): just after midnight in
    The Hague on the day of the summons is not before it."""
    origin = "defence" if basis == "RS 57(3)(b)" else "chamber"

    def at(when: str) -> set[tuple]:
        warrant = {**WARRANT, "arrested_or_appeared_at": when}  # summons of 2026-01-05
        return found(request(legal_basis=basis, origin=origin, warrant=warrant))

    article = f"{basis}, RS 58"
    assert at("2026-01-04T23:59:00+01:00") == {
        (WRONG, "warrant.arrested_or_appeared_at, warrant.issued_on", article)
    }
    assert at("2026-01-05T00:30:00+01:00") == set()  # 2026-01-04 in UTC, the summons' day here
    assert at("2026-02-10T09:30:00+01:00") == set()  # the request's own instant
    assert at("2026-02-10T08:31:00Z") == {  # a minute after the request (09:30+01:00)
        (WRONG, "warrant.arrested_or_appeared_at, issued_at", article)
    }
    (finding,) = check(
        request(
            legal_basis=basis,
            origin=origin,
            warrant={**WARRANT, "arrested_or_appeared_at": "2026-01-01T10:00:00+01:00"},
        ),
        NLD,
    ).findings
    assert finding.what == (
        "the person is said to have appeared on 2026-01-01, before the summons to appear "
        "issued on 2026-01-05"
    )


@pytest.mark.parametrize(
    "when",
    ["2026-01-12T10:00:00", "2002-06-30T23:59:59Z", "2200-01-01T00:00:00Z", "yesterday", 0],
)
def test_the_arrest_or_appearance_is_an_aware_date_time_in_the_plausible_window(
    when: object,
) -> None:
    """RS 58, 126: when the person was arrested or appeared is an aware date-time, not before
    the Statute entered into force (2002-07-01) and not after 2199-12-31."""
    with pytest.raises(ValidationError, match="arrested_or_appeared_at"):
        request(warrant={**WARRANT, "arrested_or_appeared_at": when})


def test_the_request_is_in_a_language_the_party_accepts() -> None:
    """RS 87(2): in, or translated into, the language of the party's choice; a party not in
    the directory has no known language (RS 87(1)(a), 87(2))."""
    assert found(request(languages=[])) == {(MISSING, "languages", "RS 87(2)")}
    assert found(request(languages=["fr"])) == {(WRONG, "languages", "RS 87(2)")}
    assert check(request(languages=["fr", "en"]), NLD).complete
    bel = profile_from_directory(load_directory(), "BEL")
    assert bel is not None and bel.languages == ("fr",)
    assert found(request(requested_state="BEL"), bel) == {(WRONG, "languages", "RS 87(2)")}
    assert profile_from_directory(load_directory(), "ZZZ") is None
    report = check(request(requested_state="ZZZ"), None)
    assert not report.profile_known
    assert {(f.field, f.article) for f in report.findings} == {
        ("requested_state", "RS 87(1)(a), 87(2)")
    }


def test_national_law_requirements_the_party_made_known_are_answered() -> None:
    """RS 96(2)(e), 96(3): each requirement in the party's profile is answered; an answer to
    a requirement the party never made known is inconsistent."""
    profile = NLD.model_copy(
        update={
            "national_law_requirements": (
                NationalRequirement(requirement_id="dual-signature", text="Two signatures"),
                NationalRequirement(requirement_id="court-seal", text="The Court's seal"),
            )
        }
    )
    answered = [{"requirement_id": "court-seal", "how": "Sealed by the Registry"}]
    assert found(request(national_law=answered), profile) == {
        (MISSING, "national_law[dual-signature]", "RS 96(2)(e), 96(3)")
    }
    unknown = [*answered, {"requirement_id": "apostille", "how": "Attached"}]
    assert (WRONG, "national_law[apostille]", "RS 96(2)(e)") in found(
        request(national_law=unknown), profile
    )


def test_a_supplementary_request_names_a_request_of_the_same_case_to_the_same_party() -> None:
    """A further request (RS 96(2)(f)): the first exists, in the same case, to the same
    party; not looked up (an offline check), nothing is found either way."""
    req = request(reference="ICC-01/22-REQ-0008", supplements="ICC-01/22-REQ-0007")
    same = SupplementedRequest(
        reference="ICC-01/22-REQ-0007", found=True, case_number="ICC-01/22", party="NLD"
    )
    assert check(req, NLD, same).complete
    assert check(req, NLD).complete
    gone = SupplementedRequest(reference="ICC-01/22-REQ-0007", found=False)
    assert found(req, supplemented=gone) == {(WRONG, "supplements", "RS 96(2)(f)")}
    other = same.model_copy(update={"case_number": "ICC-02/05", "party": "BEL"})
    assert found(req, supplemented=other) == {
        (WRONG, "supplements, case_number", "RS 96(2)(f)"),
        (WRONG, "supplements, requested_state", "RS 96(2)(f)"),
    }
    # Nothing of another party's request is named in the findings (Rule 99(2)).
    assert not any("BEL" in f.what for f in check(req, NLD, other).findings)
    assert check(req, NLD, gone).findings[0].what == (
        "request ICC-01/22-REQ-0007 is not found for this party (NLD)"
    )
    with pytest.raises(ValueError, match="cannot supplement itself"):
        request(supplements="ICC-01/22-REQ-0007")


def test_the_supplements_findings_block_any_override() -> None:
    """RS 96(2)(f), Rule 99(2): the link has a basis only to the same party's request in the
    same case; each `supplements` finding is blocking, the others stay overridable."""
    req = request(reference="ICC-01/22-REQ-0008", supplements="ICC-01/22-REQ-0007")
    gone = SupplementedRequest(reference="ICC-01/22-REQ-0007", found=False)
    other = SupplementedRequest(
        reference="ICC-01/22-REQ-0007", found=True, case_number="ICC-02/05", party="NLD"
    )
    for first in (gone, other):
        report = check(req, NLD, first)
        assert not report.complete and not report.overridable
        assert all(f.blocking for f in report.findings)
        assert "[blocking: no override]" in render(report)
    plain = check(request(grounds="x"), NLD)
    assert not plain.complete and plain.overridable
    assert not any(f.blocking for f in plain.findings)


def test_many_incomplete_assets_still_get_a_report_with_a_summary_finding() -> None:
    """RS 96(2)(b): 300 assets (MAX_ASSETS allows 1000) without location or identifier make
    600 findings; the report lists MAX_FINDINGS, the last summing up the rest, never a
    validation error."""
    base = example("court-request")["known_assets"][0]
    assets = []
    for i in range(300):
        asset = {**base, "asset_id": f"a-bare-{i}"}
        for key in ("registry_reference", "location_country", "location"):
            asset.pop(key, None)
        assets.append(asset)
    report = check(request(known_assets=assets), NLD)
    assert len(report.findings) == MAX_FINDINGS
    last = report.findings[-1]
    assert last.what.startswith(f"and {600 - MAX_FINDINGS + 1} more findings")
    assert last.kind is MISSING and last.article == "RS 96(2)(b)" and not last.blocking
    assert report.overridable and "incomplete (200 findings)" in render(report)


def test_a_long_national_law_requirement_is_clipped_into_its_finding() -> None:
    """RS 96(2)(e), 96(3): a requirement's text up to MAX_TEXT is quoted within the finding's
    bound, not a validation error."""
    long = NationalRequirement(requirement_id="nl-long", text="w " * 2400)
    profile = NLD.model_copy(update={"national_law_requirements": (long,)})
    (finding,) = check(request(), profile).findings
    assert finding.field == "national_law[nl-long]"
    assert len(finding.what) == 1000 and finding.what.endswith("...")


@pytest.mark.parametrize(
    ("by", "reason"),
    [
        ("Registrar\nforged line", "urgent"),
        ("Registrar\x1b[2J", "urgent"),
        ("   ", "urgent"),
        ("R" * 201, "urgent"),
        ("Registrar", "x" * 2001),
        ("Registrar", "urgent\x00"),
        ("Registrar", "urgent\r\nforged"),
        ("Registrar", " \n "),
    ],
)
def test_an_override_is_bounded_printable_text(by: str, reason: str) -> None:
    """Rule 176(2): who overrides is one printable line (1-200 characters); why, at most 2000
    characters, newlines its only control characters."""
    findings = check(request(grounds="x"), NLD).findings
    with pytest.raises(ValidationError):
        CompletenessOverride(by=by, reason=reason, at=datetime.now(UTC), findings=findings)
    ok = CompletenessOverride(
        by="Registrar (R. Doe)",
        reason="urgent: the assets move\ntoday",
        at=datetime.now(UTC),
        findings=findings,
    )
    assert ok.by == "Registrar (R. Doe)"


@pytest.mark.parametrize("organ", ["pre_trial_chamber", "trial_chamber"])
def test_a_chamber_never_asks_under_rs_93_1_k_alone(organ: str) -> None:
    """RS 57(3)(e), 57(3)(b), 75(4): a Chamber asks under its own power, with its warrant,
    summons or conviction; RS 93(1)(k) alone would skip them. The Prosecutor's request under
    RS 93(1)(k) stays complete."""
    req = request(issuing_organ=organ, legal_basis="RS 93(1)(k)", warrant=None)
    assert found(req) == {
        (WRONG, "issuing_organ, legal_basis", "RS 57(3)(e), 57(3)(b), 75(4)"),
    }
    prosecutor = request(
        issuing_organ="prosecutor", legal_basis="RS 93(1)(k)", origin="prosecution"
    )
    assert check(prosecutor, NLD).complete


def test_no_freeze_or_seizure_is_asked_of_an_international_organisation() -> None:
    """RS 87(6): the Court may ask an international organisation (XIP in the directory) for
    information, documents and forms of cooperation agreed with it; a freeze or seizure
    addressed to it is inconsistent, tracing alone is not."""
    xip = profile_from_directory(load_directory(), "XIP")
    assert xip is not None and xip.kind == "international_organisation"
    assert profile_from_directory(load_directory(), "NLD").kind == "state_party"  # type: ignore[union-attr]
    freeze = request(requested_state="XIP")
    assert found(freeze, xip) == {(WRONG, "measures, requested_state", "RS 87(6)")}
    trace = request(requested_state="XIP", measures=["identify", "trace"])
    assert check(trace, xip).complete


UNREAD = FindingKind.UNVERIFIED


def test_a_check_without_the_records_says_what_it_did_not_read() -> None:
    """RS 96(2)(e), 96(3), 96(2)(f): a check that did not read the party's register (or the
    request a supplementary request names) lists each as ``unverified``, first, blocking: the
    report is never complete, fully checked or overridable, and says so in capitals."""
    report = check(request(), NLD, unread="offline")
    assert [(f.kind, f.field, f.article, f.blocking) for f in report.findings] == [
        (UNREAD, "national_law", "RS 96(2)(e), 96(3)", True)
    ]
    assert "NLD's register of national-law requirements" in report.findings[0].what
    assert "(offline)" in report.findings[0].what
    assert not report.complete and not report.fully_checked and not report.overridable
    text = render(report)
    assert "NOT FULLY CHECKED: 1 rule(s)" in text and "NOT READ" in text
    assert "[blocking" not in text  # an unverified rule is not a finding to correct
    assert check(request(), NLD).fully_checked

    supplementary = request(reference="ICC-01/22-REQ-0008", supplements="ICC-01/22-REQ-0007")
    assert found(supplementary, unread="offline") == {
        (UNREAD, "national_law", "RS 96(2)(e), 96(3)"),
        (UNREAD, "supplements", "RS 96(2)(f)"),
    }
    incomplete = check(request(grounds="x", warrant=None), NLD, unread="offline")
    assert [f.kind for f in incomplete.findings] == [UNREAD, MISSING, MISSING]
    assert render(incomplete).startswith("ICC-01/22-REQ-0007 to NLD: incomplete (2 findings)")


def test_an_unverified_rule_survives_the_cap_on_findings() -> None:
    """RS 96(2)(b), 96(3): 600 asset findings are summed up, the unread register is not."""
    base = example("court-request")["known_assets"][0]
    assets = [
        {k: v for k, v in base.items() if k not in ("registry_reference", "location_country")}
        | {"asset_id": f"a-bare-{i}", "location": None}
        for i in range(300)
    ]
    report = check(request(known_assets=assets), NLD, unread="offline")
    assert len(report.findings) == MAX_FINDINGS
    assert report.findings[0].kind is UNREAD and not report.fully_checked
    assert report.findings[-1].what.startswith("and ")


def test_an_override_never_passes_an_unverified_finding() -> None:
    """Rule 176(2): a named person overrides what the check found, never a rule it could not
    check (the party's RS 96(3) register unread, RS 96(2)(e))."""
    findings = check(request(grounds="x"), NLD, unread="offline").findings
    with pytest.raises(ValidationError, match="never passes an unverified finding"):
        CompletenessOverride(
            by="Registrar", reason="urgent", at=datetime.now(UTC), findings=findings
        )
    checked = tuple(f for f in findings if f.kind is not UNREAD)
    CompletenessOverride(by="Registrar", reason="urgent", at=datetime.now(UTC), findings=checked)
