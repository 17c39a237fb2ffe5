"""The completeness rules on what a request says of itself: its legal basis against the issuing
organ and its precondition (RS 57(3)(b), 57(3)(e), 58, 74, 75(4), 76, 93(1)(k); for RS
57(3)(b), when the person was arrested or appeared), grounds and procedure of real substance
(RS 96(2)(a), (d)), the person and assets identified (RS 96(2)(b), 93(1)(k)); and the
findings' shape (clipped to their limits). The rules about the requested party, and ``check``
itself, are in ``tracefreeze/completeness.py``."""

from __future__ import annotations

import re

from schemas.assets import PartyKind
from schemas.common import IssuingOrgan, LegalBasis, Measure, Origin
from schemas.completeness import (
    FINDING_ARTICLE_MAX,
    FINDING_FIELD_MAX,
    FINDING_WHAT_MAX,
    Finding,
    FindingKind,
)
from schemas.request import CourtRequest, WarrantKind

GROUNDS_MIN_WORDS = 25
"""A concise statement of the grounds and essential facts (RS 96(2)(a), (c)) says who the
person is, what links the person to the assets, and in which proceedings the Court acts; no
sentence carrying all three is shorter than about 25 words (the shortest real statements the
Court's example requests hold run to 40 words and more)."""
GROUNDS_MIN_DISTINCT = 15
"""Distinct words among them: "asset asset asset ..." is no statement of facts."""
PROCEDURE_MIN_WORDS = 8
"""The procedure to follow (RS 96(2)(d)): at least one sentence saying what to do and how
(e.g. "freeze the accounts listed and report per asset with registry references")."""
PLACEHOLDERS = frozenset(
    {
        "x",
        "xx",
        "xxx",
        "tbd",
        "tbc",
        "todo",
        "n/a",
        "na",
        "none",
        "lorem ipsum",
        "see attached",
        "see annex",
        "to be completed",
        "to follow",
        "grounds",
        "procedure",
    }
)
"""Texts that stand in for a statement instead of making one."""
BOILERPLATE = re.compile(r"lorem ipsum|\[(?:insert|todo|tbd)[^\]]*\]|<(?:insert|todo)[^>]*>", re.I)
"""Template text left in a request."""
RESTRAINT = frozenset({Measure.FREEZE, Measure.SEIZE})
CHAMBER_OF = {
    LegalBasis.RS_57_3_E: IssuingOrgan.PRE_TRIAL_CHAMBER,
    LegalBasis.RS_57_3_B: IssuingOrgan.PRE_TRIAL_CHAMBER,
    LegalBasis.RS_75_4: IssuingOrgan.TRIAL_CHAMBER,
}
"""The organ whose power each basis is: RS 57(3) the Pre-Trial Chamber's, RS 75(4) the Trial
Chamber's (it acts after the conviction it pronounced, RS 74)."""
RS_57_3 = frozenset({LegalBasis.RS_57_3_E, LegalBasis.RS_57_3_B})
"""The Pre-Trial Chamber's powers that rest on a warrant of arrest or a summons (RS 58)."""
CHAMBERS = frozenset({IssuingOrgan.PRE_TRIAL_CHAMBER, IssuingOrgan.TRIAL_CHAMBER})
"""A Chamber asks under its own power (RS 57(3)(e), 57(3)(b), 75(4)), never under RS 93(1)(k)
alone: that would skip the warrant, summons or conviction its power rests on."""
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def _clip(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, marked "..." where cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _finding(
    kind: FindingKind, field: str, article: str, what: str, blocking: bool = False
) -> Finding:
    """A finding whose texts fit its bounds, whatever the request held (a long national-law
    requirement's text, an asset's id): the check never fails on its own findings."""
    return Finding(
        kind=kind,
        field=_clip(field, FINDING_FIELD_MAX),
        article=_clip(article, FINDING_ARTICLE_MAX),
        what=_clip(what, FINDING_WHAT_MAX),
        blocking=blocking,
    )


def _missing(field: str, article: str, what: str) -> Finding:
    return _finding(FindingKind.MISSING, field, article, what)


def _inconsistent(field: str, article: str, what: str, blocking: bool = False) -> Finding:
    return _finding(FindingKind.INCONSISTENT, field, article, what, blocking)


def _substance(text: str | None, min_words: int, min_distinct: int) -> str | None:
    """Why ``text`` is no statement (None: it is one)."""
    if text is None or not text.strip():
        return "it is empty"
    plain = " ".join(text.lower().split()).strip(" .:;-")
    if plain in PLACEHOLDERS:
        return f"{text.strip()!r} is a placeholder"
    if BOILERPLATE.search(text):
        return "it holds template text"
    words = _WORD.findall(text.lower())
    if len(words) < min_words:
        return f"it has {len(words)} words; a statement needs at least {min_words}"
    if len(set(words)) < min_distinct:
        return f"it repeats itself ({len(set(words))} distinct words; at least {min_distinct})"
    return None


def _legal_basis(request: CourtRequest) -> list[Finding]:
    """RS 96(2)(a): the legal basis, matched with its organ and its precondition."""
    basis, organ = request.legal_basis, request.issuing_organ
    findings: list[Finding] = []
    chamber = CHAMBER_OF.get(basis)
    if chamber is not None and organ is not chamber:
        findings.append(
            _inconsistent(
                "issuing_organ, legal_basis",
                basis.value,
                f"{basis.value} is a power of the {chamber.value.replace('_', ' ')}, "
                f"not of the {organ.value.replace('_', ' ')}",
            )
        )
    if basis is LegalBasis.RS_93_1_K and organ in CHAMBERS:
        findings.append(
            _inconsistent(
                "issuing_organ, legal_basis",
                "RS 57(3)(e), 57(3)(b), 75(4)",
                f"the {organ.value.replace('_', ' ')} acts under RS 57(3)(e), 57(3)(b) or "
                "75(4) (RS 93(1)(k) is the form of cooperation, not the Chamber's power): "
                "name that basis, with its warrant, summons or conviction",
            )
        )
    if basis in RS_57_3:
        if request.warrant is None:
            findings.append(
                _missing(
                    "warrant",
                    f"{basis.value}, RS 58",
                    f"{basis.value} applies once a warrant of arrest or a summons to appear "
                    "has been issued (RS 58): give its reference and date",
                )
            )
        elif request.warrant.issued_on > request.issued_at.date():
            findings.append(
                _inconsistent(
                    "warrant.issued_on",
                    f"{basis.value}, RS 58",
                    "the warrant or summons is dated after the request",
                )
            )
    findings += _person_before_court(request)
    if basis is LegalBasis.RS_57_3_B and request.origin is not Origin.DEFENCE:
        findings.append(
            _inconsistent(
                "origin, legal_basis",
                "RS 57(3)(b)",
                "RS 57(3)(b) is used at the request of the person arrested or summoned: the "
                "request's origin must be the Defence",
            )
        )
    if request.origin is Origin.DEFENCE and basis is not LegalBasis.RS_57_3_B:
        findings.append(
            _inconsistent(
                "origin, legal_basis",
                "RS 57(3)(b)",
                "a request made for the Defence rests on RS 57(3)(b), not " + basis.value,
            )
        )
    if basis is LegalBasis.RS_75_4:
        if request.conviction is None:
            findings.append(
                _missing(
                    "conviction",
                    "RS 75(4), 74",
                    "RS 75(4) applies after a person is convicted (the decision under RS 74, "
                    "the sentence under RS 76): give the judgment's reference and date",
                )
            )
        elif request.conviction.delivered_on > request.issued_at.date():
            findings.append(
                _inconsistent(
                    "conviction.delivered_on",
                    "RS 75(4)",
                    "the conviction is dated after the request",
                )
            )
    return findings


def _person_before_court(request: CourtRequest) -> list[Finding]:
    """RS 57(3)(b), 58: the Pre-Trial Chamber acts "upon the request of a person who has been
    arrested or has appeared pursuant to a summons under article 58", so a request under RS
    57(3)(b) says when (missing without it); a date given, on any basis, falls on or after the
    warrant or summons (by the date where the person was, its own offset) and not after the
    request (inconsistent otherwise). RS 57(3)(e) needs no arrest or appearance."""
    basis, warrant = request.legal_basis, request.warrant
    at = warrant.arrested_or_appeared_at if warrant is not None else None
    article = f"{basis.value}, RS 58" if basis in RS_57_3 else "RS 58"
    if at is None or warrant is None:
        if basis is not LegalBasis.RS_57_3_B:
            return []
        return [
            _missing(
                "warrant.arrested_or_appeared_at",
                article,
                "RS 57(3)(b) applies upon the request of a person who has been arrested or has "
                "appeared pursuant to a summons (RS 58): give when the person was arrested or "
                "appeared",
            )
        ]
    what = "been arrested" if warrant.kind is WarrantKind.ARREST else "appeared"
    findings: list[Finding] = []
    if at.date() < warrant.issued_on:
        findings.append(
            _inconsistent(
                "warrant.arrested_or_appeared_at, warrant.issued_on",
                article,
                f"the person is said to have {what} on {at.date().isoformat()}, before the "
                f"{warrant.kind.value.replace('_', ' ')} issued on {warrant.issued_on.isoformat()}",
            )
        )
    if at > request.issued_at:
        findings.append(
            _inconsistent(
                "warrant.arrested_or_appeared_at, issued_at",
                article,
                f"the person is said to have {what} at {at.isoformat()}, after the request "
                f"({request.issued_at.isoformat()})",
            )
        )
    return findings


def _grounds_and_procedure(request: CourtRequest) -> list[Finding]:
    findings: list[Finding] = []
    why = _substance(request.grounds, GROUNDS_MIN_WORDS, GROUNDS_MIN_DISTINCT)
    if why is not None:
        findings.append(
            _missing(
                "grounds",
                "RS 96(2)(a), 96(2)(c)",
                f"the grounds and essential facts are no statement of substance: {why}",
            )
        )
    why = _substance(request.procedure, PROCEDURE_MIN_WORDS, 1)
    if why is not None:
        findings.append(
            _missing("procedure", "RS 96(2)(d)", f"the procedure to follow is not stated: {why}")
        )
    return findings


def _identification(request: CourtRequest) -> list[Finding]:
    """RS 96(2)(b), 93(1)(k): whom the measures concern and, for a restraint, which assets."""
    findings: list[Finding] = []
    if not any(p.kind is PartyKind.PERSON for p in request.parties):
        findings.append(
            _missing(
                "parties",
                "RS 96(2)(b), 93(1)(k)",
                "no person concerned is identified (the suspect, accused or convicted person)",
            )
        )
    if not RESTRAINT & set(request.measures):
        return findings
    if not request.known_assets:
        findings.append(
            _missing(
                "known_assets",
                "RS 96(2)(b), 93(1)(k)",
                "a freeze or seizure is requested but no asset is described",
            )
        )
    for asset in request.known_assets:
        if asset.location_country is None and not asset.location:
            findings.append(
                _missing(
                    f"known_assets[{asset.asset_id}].location",
                    "RS 96(2)(b)",
                    f"asset {asset.asset_id} has no location",
                )
            )
        if not asset.registry_reference:
            findings.append(
                _missing(
                    f"known_assets[{asset.asset_id}].registry_reference",
                    "RS 96(2)(b)",
                    f"asset {asset.asset_id} has no identifier (register entry, IBAN, ...)",
                )
            )
    return findings
