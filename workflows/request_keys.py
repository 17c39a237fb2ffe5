"""The organ key registry a request verifies Court actions against, from its own history.

Trust (``docs/signed-decisions.md``): the registry is read by an activity on the worker from
the worker's mounted file, never taken from a caller, and its result is recorded in the
history: a replay verifies each action against exactly the registry the first run used. It
is read at the first run's start and carried across continue-as-new; when the organs' keys
rotate, the ``refresh_organ_keys`` update reads the file again (the Court's client sends it
when a request does not know an action's key, then sends the action once more). A refresh
can only put the file's contents in force, whoever asks for it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schemas.organ_keys import REFRESH_ORGAN_KEYS, RESOLVE_ORGAN_KEYS, OrganKeys
    from workflows.carry import RequestCarry


async def _read() -> OrganKeys:
    return await workflow.execute_activity(
        RESOLVE_ORGAN_KEYS,
        result_type=OrganKeys,
        start_to_close_timeout=timedelta(minutes=1),
        retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
        summary="the organ key registry",
    )


async def organ_keys_at_start(rec: RequestCarry) -> str | None:
    """The registry, read once for the request's life (then carried); a note for the timeline
    only if none could be read (said loudly, as a missing policy is)."""
    if rec.organ_keys is not None:
        return None
    rec.organ_keys = await _read()
    return _note(rec.organ_keys) if rec.organ_keys.reason else None


def register_refresh(rec: RequestCarry, note: object) -> None:
    """The ``refresh_organ_keys`` update: reads the registry again, notes it on the timeline
    (``note(event_id, what)``), returns its digest."""

    async def refresh() -> str:
        rec.organ_keys = await _read()
        note(None, _note(rec.organ_keys))  # type: ignore[operator]
        return rec.organ_keys.digest

    workflow.set_update_handler(REFRESH_ORGAN_KEYS, refresh)


def _note(keys: OrganKeys) -> str:
    if keys.reason:
        return f"NO ORGAN KEYS: {keys.reason[:300]}: every Court action is refused"
    return f"organ key registry {keys.digest[:12]} in force ({len(keys.keys)} keys)"
