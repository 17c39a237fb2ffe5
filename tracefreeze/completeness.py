"""The completeness check: what a request lacks or gets wrong before it leaves the Court.

Seed para 11 asks for "specific, complete and timely" requests; RS 96(2) says what a request
under RS 93 contains; RS 87(2) in which language. ``check`` is a pure function of the request,
the requested party's profile (``schemas/completeness.py``: the languages it accepts, the
national-law requirements it has made known) and, for a supplementary request, what the
Court's records show of the request it supplements. No I/O: the client and the CLI gather
those inputs (``profile_from_directory``, ``tracefreeze/client.py``) and run the same check.

It lives here, beside the Court's client, not in ``workflows/``: completeness is decided before
transmission, by the Registry (Rule 176(2)), and a request workflow only records the outcome
it is started with (a named person's override, ``CompletenessOverride``). So a rule tightened
later never changes how a recorded request replays.

The rules (each finding names its provision):

- RS 96(2)(a): the legal basis matches the issuing organ and its precondition: RS 57(3)(e) is
  the Pre-Trial Chamber's, once a warrant of arrest or summons has issued (RS 58); RS 57(3)(b)
  the Pre-Trial Chamber's at the request of the person arrested or summoned (the Defence),
  with when that person was arrested or appeared (RS 58), a date not before the warrant or
  summons nor after the request;
  RS 75(4) the Trial Chamber's after a conviction (RS 74, 76); a Chamber never asks
  under RS 93(1)(k) alone (it would skip its warrant or conviction). The grounds have real
  substance (``GROUNDS_MIN_WORDS`` and the placeholders below);
- RS 96(2)(b), 93(1)(k): the person concerned is identified; for a freeze or seizure, the
  assets known are given with their location and an identifier;
- RS 96(2)(d): the procedure to follow is stated;
- RS 87(6): a freeze or seizure is not asked of an international organisation;
- RS 87(2): the request is in (or translated into) a language the party accepts;
- RS 96(2)(e), 96(3): each national-law requirement the party has made known is answered;
- a supplementary request names an earlier request of the same case to the same party.

A check made without the Court's records (``tracefreeze submit --check --offline``, or Temporal
out of reach: ``tracefreeze/completeness_records.py``) says so in findings of their own kind,
``unverified``, first in the report: the party's RS 96(3) register (RS 96(2)(e)) and, for a
supplementary request, the request it names (RS 96(2)(f)) were not read. Such a report is never
complete, and no override passes it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from schemas.completeness import (
    MAX_FINDINGS,
    CompletenessReport,
    Finding,
    FindingKind,
    PartyProfile,
    SupplementedRequest,
)
from schemas.policy import PartyKind as DirectoryKind
from schemas.policy import StateDirectory
from schemas.request import CourtRequest
from tracefreeze.completeness_content import (
    GROUNDS_MIN_WORDS,
    RESTRAINT,
    _finding,
    _grounds_and_procedure,
    _identification,
    _inconsistent,
    _legal_basis,
    _missing,
)

__all__ = ["GROUNDS_MIN_WORDS", "check", "profile_from_directory", "render"]


def _capped(findings: list[Finding]) -> tuple[Finding, ...]:
    """At most ``MAX_FINDINGS``: past it, the last one sums up the rest (how many, of which
    kinds and articles; blocking if any of them is), so a request with many assets lacking a
    location and an identifier still gets its report."""
    if len(findings) <= MAX_FINDINGS:
        return tuple(findings)
    kept, rest = findings[: MAX_FINDINGS - 1], findings[MAX_FINDINGS - 1 :]
    kinds = {f.kind for f in rest}
    articles = ", ".join(sorted({f.article for f in rest}))
    summary = _finding(
        FindingKind.MISSING if FindingKind.MISSING in kinds else FindingKind.INCONSISTENT,
        ", ".join(sorted({f.field.split("[")[0] for f in rest})),
        articles,
        f"and {len(rest)} more findings of the same kinds (" + articles + ")",
        blocking=any(f.blocking for f in rest),
    )
    return (*kept, summary)


def _party_kind(request: CourtRequest, profile: PartyProfile | None) -> list[Finding]:
    """RS 87(6): an international organisation is asked for information, documents and the
    forms of cooperation agreed with it; a freeze or seizure is no Part 9 obligation of it."""
    if profile is None or profile.kind is not DirectoryKind.INTERNATIONAL_ORGANISATION:
        return []
    restraint = sorted(m.value for m in RESTRAINT & set(request.measures))
    if not restraint:
        return []
    return [
        _inconsistent(
            "measures, requested_state",
            "RS 87(6)",
            f"{profile.party} is an international organisation: the Court may ask it for "
            "information, documents and other forms of cooperation agreed with it (RS 87(6)), "
            f"not to {' or '.join(restraint)} assets; ask a State for the measure, or record "
            "by override the form of cooperation agreed",
        )
    ]


def _language(request: CourtRequest, profile: PartyProfile | None) -> list[Finding]:
    """RS 87(2): in, or translated into, a language of the party's choice."""
    if profile is None:
        return [
            _missing(
                "requested_state",
                "RS 87(1)(a), 87(2)",
                f"{request.requested_state} is not in the party directory: its channel and "
                "the languages it accepts are unknown",
            )
        ]
    accepted = ", ".join(profile.languages)
    if not request.languages:
        return [
            _missing(
                "languages",
                "RS 87(2)",
                f"the request does not say its language; {profile.party} accepts {accepted}",
            )
        ]
    if not set(request.languages) & set(profile.languages):
        given = ", ".join(request.languages)
        return [
            _inconsistent(
                "languages",
                "RS 87(2)",
                f"the request is in {given}; {profile.party} accepts {accepted}",
            )
        ]
    return []


def _national_law(request: CourtRequest, profile: PartyProfile | None) -> list[Finding]:
    """RS 96(2)(e), 96(3): each requirement the party made known, answered."""
    if profile is None:
        return []
    known = {r.requirement_id for r in profile.national_law_requirements}
    answered = {s.requirement_id for s in request.national_law}
    findings = [
        _missing(
            f"national_law[{r.requirement_id}]",
            "RS 96(2)(e), 96(3)",
            f"{profile.party}'s requirement {r.requirement_id} is not answered: {r.text}",
        )
        for r in profile.national_law_requirements
        if r.requirement_id not in answered
    ]
    findings += [
        _inconsistent(
            f"national_law[{rid}]",
            "RS 96(2)(e)",
            f"{profile.party} has made no requirement {rid} known",
        )
        for rid in sorted(answered - known)
    ]
    return findings


def _supplement(request: CourtRequest, first: SupplementedRequest | None) -> list[Finding]:
    """A further request of a case to the same party, linked to the first (RS 96(2)(f)).

    Each finding here blocks transmission (no override): the link is carried to the party's
    channel, and it has a basis only when it names the same party's request in the same case.
    Anything else would put the reference of another party's request (perhaps ex parte, Rule
    99(1)) or of another case before this party; one party's request never reveals another's."""
    if request.supplements is None or first is None:
        return []
    if not first.found:
        return [
            _inconsistent(
                "supplements",
                "RS 96(2)(f)",
                f"request {request.supplements} is not found for this party "
                f"({request.requested_state})",
                blocking=True,
            )
        ]
    findings = []
    if first.case_number != request.case_number:
        findings.append(
            _inconsistent(
                "supplements, case_number",
                "RS 96(2)(f)",
                f"request {request.supplements} belongs to case {first.case_number}, "
                f"not {request.case_number}",
                blocking=True,
            )
        )
    if first.party != request.requested_state:
        findings.append(
            _inconsistent(
                "supplements, requested_state",
                "RS 96(2)(f)",
                f"request {request.supplements} is not a request to {request.requested_state}",
                blocking=True,
            )
        )
    return findings


def _unread(request: CourtRequest, why: str | None) -> list[Finding]:
    """What a check without the Court's records leaves unverified, said loudly: the party's
    register of national-law requirements (RS 96(2)(e), 96(3)) and, for a supplementary
    request, the request it names (RS 96(2)(f)). Blocking: no override passes an unread
    register."""
    if why is None:
        return []
    party = request.requested_state
    findings = [
        _finding(
            FindingKind.UNVERIFIED,
            "national_law",
            "RS 96(2)(e), 96(3)",
            f"NOT READ: {party}'s register of national-law requirements (made known in RS "
            f"96(3) consultations, kept in its party directory) was not read ({why}); a "
            "requirement it made known may be unanswered",
            blocking=True,
        )
    ]
    if request.supplements is not None:
        findings.append(
            _finding(
                FindingKind.UNVERIFIED,
                "supplements",
                "RS 96(2)(f)",
                f"NOT READ: whether request {request.supplements} is {party}'s request in the "
                f"same case was not checked against the Court's records ({why})",
                blocking=True,
            )
        )
    return findings


def check(
    request: CourtRequest,
    profile: PartyProfile | None,
    supplemented: SupplementedRequest | None = None,
    unread: str | None = None,
) -> CompletenessReport:
    """The completeness report of ``request`` to the party of ``profile`` (None: the party is
    unknown to the directory). ``supplemented``: what the records show of the request it
    supplements (None: not looked up). ``unread``: why the Court's records (the party's RS
    96(3) register, the supplemented request) were not read, if they were not: each rule they
    serve is then an ``unverified`` finding."""
    findings = [
        *_unread(request, unread),
        *_legal_basis(request),
        *_grounds_and_procedure(request),
        *_identification(request),
        *_party_kind(request, profile),
        *_language(request, profile),
        *_national_law(request, profile),
        *_supplement(request, supplemented),
    ]
    return CompletenessReport(
        reference=request.reference,
        party=request.requested_state,
        profile_known=profile is not None,
        findings=_capped(findings),
    )


def profile_from_directory(
    directory: StateDirectory, party: str, on: date | None = None
) -> PartyProfile | None:
    """The party's profile as the directory holds it: its kind in force ``on`` the day (today
    unless given: the check runs on the day of transmission) and its language (RS 87(2)). The
    national-law requirements are the party directory workflow's register
    (``RequestClient.check`` adds them, RS 96(2)(e), 96(3))."""
    entry = directory.states.get(party)
    if entry is None:
        return None
    day = on or datetime.now(UTC).date()
    return PartyProfile(party=party, kind=entry.kind_on(day), languages=(entry.language,))


def render(report: CompletenessReport) -> str:
    """The report as the CLI prints it: one line per finding, with its article; a report not
    fully checked says so first, in capitals."""
    head = f"{report.reference} to {report.party}"
    if report.complete:
        return f"{head}: complete"
    unverified = [f for f in report.findings if f.kind is FindingKind.UNVERIFIED]
    found = len(report.findings) - len(unverified)
    lines = [
        f"{head}: incomplete ({found} findings)"
        if found
        else f"{head}: nothing missing or inconsistent among the rules checked"
    ]
    if unverified:
        lines.append(
            f"  NOT FULLY CHECKED: {len(unverified)} rule(s) not checked against the Court's "
            "records; the party's RS 96(3) register of national-law requirements was NOT read"
        )
    for f in report.findings:
        mark = " [blocking: no override]" if f.blocking and f not in unverified else ""
        lines.append(f"  {f.kind.value:<12} {f.field} ({f.article}): {f.what}{mark}")
    return "\n".join(lines)
