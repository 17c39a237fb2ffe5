"""Reading the deadline policy and the State directory, and resolving the policy in force
for one request. Read once, validated, with errors that name the file and the field.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from schemas.policy import (
    DeadlinePolicy,
    RequestKind,
    ResolvedPolicy,
    StageDeadlines,
    StateContact,
    StateDirectory,
)
from schemas.request import CourtRequest
from tracefreeze.errors import TracefreezeError

POLICIES = Path(__file__).resolve().parent / "policies"
DEFAULT_POLICY = POLICIES / "deadlines.toml"
DEMO_POLICY = POLICIES / "demo-deadlines.toml"
DEFAULT_DIRECTORY = POLICIES / "states.toml"


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


def resolve(
    policy: DeadlinePolicy, directory: StateDirectory, request: CourtRequest
) -> ResolvedPolicy:
    """The numbers for this request: its kind and urgency, with the State's overrides."""
    kind = RequestKind.of(request.measures)
    deadlines = policy.deadlines[kind].for_urgency(request.urgency)
    entry = directory.states.get(request.requested_state)
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
            **entry.model_dump(exclude={"overrides"}),
        )
    return ResolvedPolicy(
        version=policy.version,
        kind=kind,
        deadlines=deadlines,
        ladder=policy.ladder[request.urgency],
        clocks=policy.clocks,
        deescalation=policy.deescalation,
        contact=contact,
    )
