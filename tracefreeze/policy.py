"""Reading the deadline policy and the State directory, and resolving the policy in force
for one request. Read once, validated, with errors that name the file and the field.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from schemas.policy import (
    DeadlinePolicy,
    PartyKind,
    RequestKind,
    ResolvedPolicy,
    StageDeadlines,
    StateContact,
    StateDirectory,
)
from schemas.request import CourtRequest
from schemas.situation import SituationRecord, SituationRegister
from tracefreeze.errors import TracefreezeError

POLICIES = Path(__file__).resolve().parent / "policies"
DEFAULT_POLICY = POLICIES / "deadlines.toml"
DEMO_POLICY = POLICIES / "demo-deadlines.toml"
DEFAULT_DIRECTORY = POLICIES / "states.toml"
DEFAULT_SITUATIONS = POLICIES / "situations.toml"


M = TypeVar("M", bound=BaseModel)


def _load(path: Path, model: type[M]) -> M:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TracefreezeError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise TracefreezeError(f"{path}: not valid TOML: {err}") from None
    try:
        return model.model_validate(data)
    except ValidationError as err:
        lines = [
            f"  {'.'.join(str(p) for p in e['loc']) or '(file)'}: {e['msg']}"
            for e in err.errors(include_url=False)
        ]
        raise TracefreezeError(f"{path}: invalid {model.__name__}:\n" + "\n".join(lines)) from None


@lru_cache(maxsize=8)
def load_policy(path: Path = DEFAULT_POLICY) -> DeadlinePolicy:
    return _load(path, DeadlinePolicy)


@lru_cache(maxsize=8)
def load_directory(path: Path = DEFAULT_DIRECTORY) -> StateDirectory:
    return _load(path, StateDirectory)


@lru_cache(maxsize=8)
def load_situations(path: Path = DEFAULT_SITUATIONS) -> SituationRegister:
    return _load(path, SituationRegister)


def resolve(
    policy: DeadlinePolicy,
    directory: StateDirectory,
    request: CourtRequest,
    situations: SituationRegister | None = None,
    at: datetime | None = None,
) -> ResolvedPolicy:
    """The numbers for this request: its kind and urgency, with the State's overrides; the
    party's kind in force on the transmission date ``at`` (now unless given) and the
    request's situation (the shipped register unless given)."""
    kind = RequestKind.of(request.measures)
    deadlines = policy.deadlines[kind].for_urgency(request.urgency)
    entry = directory.states.get(request.requested_state)
    situation = (situations or load_situations()).of_case(request.case_number)
    transmitted = (at or datetime.now(UTC)).astimezone(UTC).date()
    party_kind = party_kind_of(entry.kind_on(transmitted) if entry else None, situation, request)
    contact = None
    if entry is not None:
        patch = entry.overrides.get(kind, {}).get(request.urgency)
        if patch is not None and policy.state_overrides:
            merged = deadlines.model_dump() | patch.model_dump(exclude_none=True)
            try:
                deadlines = StageDeadlines.model_validate(merged)
            except ValidationError as err:
                raise TracefreezeError(
                    f"override for {request.requested_state} ({kind.value}, "
                    f"{request.urgency.value}) breaks policy {policy.version}: "
                    f"{err.errors(include_url=False)[0]['msg']}"
                ) from None
        contact = StateContact(
            state=request.requested_state,
            **entry.model_dump(exclude={"overrides", "kinds"}),
        )
    return ResolvedPolicy(
        version=policy.version,
        kind=kind,
        deadlines=deadlines,
        ladder=policy.ladder[request.urgency],
        clocks=policy.clocks,
        deescalation=policy.deescalation,
        allocation=policy.allocation,
        contact=contact,
        party_kind=party_kind,
        situation=situation,
    )


def party_kind_of(
    in_force: PartyKind | None, situation: SituationRecord | None, request: CourtRequest
) -> PartyKind:
    """The kind that governs the request. A party the directory does not know, or whose kind
    on the transmission date it does not say, is taken as a non-State Party without an
    arrangement (RS 87(5)(a)): the conservative reading, no finding can be proposed. A
    non-State Party without an arrangement that the situation's Security Council resolution
    obliges to cooperate (RS 13(b)) is asked as bound by that resolution. A party with an
    arrangement keeps its kind: RS 87(5)(b) lets the Court inform the Assembly or, where the
    Council referred the matter, the Council; binding it by a resolution must not take the
    Assembly away."""
    kind = in_force or PartyKind.NON_STATE_PARTY
    bound = situation.bound_states if situation is not None else ()
    if kind is PartyKind.NON_STATE_PARTY and request.requested_state in bound:
        return PartyKind.SECURITY_COUNCIL_BOUND
    return kind
