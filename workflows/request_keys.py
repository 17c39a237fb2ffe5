"""The organ key registry a request verifies Court actions against, from its own history.

Trust (``docs/signed-decisions.md``): the registry is read by an activity on the worker from
the worker's mounted file, never taken from the workflow's input (only as trustworthy as
whoever may complete the worker's tasks: the docs say who can), and its result is recorded in
the history: a replay verifies each action against exactly the registry the first run used. A
request's first run reads it in its first publishing round, the transmission's (one activity
at start, not two: ``PublishOutbox.read_organ_keys``), and carries it across continue-as-new;
an action that arrives before is refused as signed with a key not held yet, and the Court's
client refreshes and sends it again, as after a rotation. When the organs' keys
rotate, the ``refresh_organ_keys`` update reads the file again (the Court's client sends it
when a request does not know an action's key, then sends the action once more). A refresh
can only put the file's contents in force, whoever asks for it, and a file that cannot be
read then leaves the registry in force as it was (``with_refresh``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schemas.organ_keys import REFRESH_ORGAN_KEYS, RESOLVE_ORGAN_KEYS, OrganKeys
    from workflows.carry import RequestCarry


async def read_organ_keys() -> OrganKeys:
    """The registry as the worker's file holds it now (an activity: recorded in the history)."""
    return await workflow.execute_activity(
        RESOLVE_ORGAN_KEYS,
        result_type=OrganKeys,
        start_to_close_timeout=timedelta(minutes=1),
        retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
        summary="the organ key registry",
    )


C = TypeVar("C", bound=BaseModel)
"""A workflow's carry (a request's, a case's, a directory's)."""


def inherited() -> bool:
    """Whether this run continues the workflow's own previous run: only then is what its input
    carries trusted (the cluster's server lets no person start a run that retries or repeats,
    the other runs that name a previous one: deploy/temporal-server). A first run reads the
    worker's file whatever its starter put in the input, so no client can start a request,
    case or directory with keys of its choosing."""
    return workflow.info().continued_run_id is not None


def own_carry(carried: C | None, outgoing: dict[str, Any]) -> C | None:
    """What a run carries, as its workflow's own previous run left it; on a first run, whose
    starter chose its input, without what it would send or relay (``outgoing``: events queued
    to publish to a State, notices to relay to a directory, Court actions to deliver, keys),
    said loudly. What is left of a starter's carry is its own request's record only."""
    if carried is None or inherited():
        return carried
    workflow.logger.error(
        "a first run was started with a carry: what it would send is dropped",
        extra={"carry": type(carried).__name__},
    )
    return carried.model_copy(update=outgoing)


def request_outgoing() -> dict[str, Any]:
    """What a request's carry would send or relay (``own_carry``), emptied."""
    return {
        "outbox": [],
        "escalation_outbox": [],
        "signed_outbox": [],
        "directory_outbox": [],
        "organ_keys": None,
    }


CASE_OUTGOING: dict[str, Any] = {"deliveries": (), "outbox": (), "organ_keys": None}
"""What a case's carry would send (Court actions to deliver, proposals to publish) and keys."""


async def organ_keys_at_start(rec: RequestCarry) -> str | None:
    """The registry, read once for the request's life (then carried): here only by a run that
    holds none and has no round about to go to bring it (``keys_from_round``); a note for the
    timeline only if none could be read (said loudly, as a missing policy is)."""
    if rec.organ_keys is not None or rec.outbox or rec.escalation_outbox or rec.signed_outbox:
        return None
    read = await read_organ_keys()
    rec.organ_keys = in_force_after(rec.organ_keys, read)  # a refresh may have ended first
    return _note(read) if rec.organ_keys is read and read.reason else None


def keys_wanted(rec: RequestCarry) -> bool:
    """Whether the next publishing round is to bring the registry in (none held yet)."""
    return rec.organ_keys is None


def keys_from_round(rec: RequestCarry, read: OrganKeys | None) -> str | None:
    """Puts in force the registry a round read, unless a refresh put a usable one in force
    while the round ran (read as recently); a refresh that could read nothing meanwhile never
    keeps the round's good registry out. A note for the timeline: the registry put in force
    over a failed refresh, or none that could be read."""
    held = rec.organ_keys
    if read is None or in_force_after(held, read) is not read:
        return None
    rec.organ_keys = read
    return _note(read) if read.reason or held is not None else None


def in_force_after(held: OrganKeys | None, read: OrganKeys) -> OrganKeys:
    """The registry in force once a read that began earlier ends (at a start, in a round):
    ``read``, unless what is ``held`` now came meanwhile from a refresh (read as recently)
    and is usable, or neither is; a refresh that read nothing never keeps a good read out.
    Of two usable reads the refresh's is kept: it began later, so it read the file as it
    was then or later. A key revoked in the file after the last read stays in force until
    the next refresh (within its own window), as at any time between refreshes."""
    if held is not None and (held.keys or not read.keys):
        return held
    return read


def register_refresh(rec: RequestCarry, note: object, counted: Callable[[int], None]) -> None:
    """The ``refresh_organ_keys`` update: reads the registry again, notes it on the timeline
    (``note(event_id, what)``), returns its digest. Anyone who can reach the request may ask,
    as often as they like: each refresh counts toward the request's hand-over (``counted``)
    as an answer does, so no number of them grows a run's history past its bound."""

    async def refresh() -> str:
        counted(1)
        read = await read_organ_keys()
        # What is held is read after the read ended: the first round may have put its
        # registry in force meanwhile, which a failed read must not replace.
        rec.organ_keys, what = with_refresh(rec.organ_keys, read)
        note(None, what)  # type: ignore[operator]
        return rec.organ_keys.digest

    workflow.set_update_handler(REFRESH_ORGAN_KEYS, refresh)


class HeldOrganKeys:
    """The registry of a workflow that is not a request (a case, a party's directory): read
    once at its first run's start (then carried in ``keys``), read again on
    ``refresh_organ_keys`` (a failed read keeps the registry in force)."""

    def __init__(self, carried: OrganKeys | None) -> None:
        self.keys = carried if inherited() else None

    async def at_start(self) -> None:
        if self.keys is None:
            read = await read_organ_keys()
            self.keys = in_force_after(self.keys, read)  # a refresh may have ended first

    def register_refresh(self, counted: Callable[[], object]) -> None:
        """The ``refresh_organ_keys`` update; returns the registry's digest. Each refresh is a
        step that may hand the workflow over (``counted``), so no number of them grows a run's
        history past its bound."""

        async def refresh() -> str:
            read = await read_organ_keys()  # then what is held: the start's read may end first
            self.keys, _ = with_refresh(self.keys, read)
            counted()
            return self.keys.digest

        workflow.set_update_handler(REFRESH_ORGAN_KEYS, refresh)


def with_refresh(held: OrganKeys | None, read: OrganKeys) -> tuple[OrganKeys, str]:
    """The registry in force after a refresh that read ``read``, and what the timeline says:
    a read that failed (a file missing or invalid for a moment) never replaces a good
    registry, which stays in force, the failure said; anyone may ask for a refresh, and none
    may so make every Court action refused."""
    if read.reason and held is not None and held.keys:
        kept = f"organ key registry {held.digest[:12]} kept in force"
        return held, f"ORGAN KEYS NOT READ AGAIN: {read.reason[:300]}: {kept}"
    return read, _note(read)


def _note(keys: OrganKeys) -> str:
    if keys.reason:
        return f"NO ORGAN KEYS: {keys.reason[:300]}: every Court action is refused"
    return f"organ key registry {keys.digest[:12]} in force ({len(keys.keys)} keys)"
