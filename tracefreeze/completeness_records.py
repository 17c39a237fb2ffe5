"""The completeness check as ``tracefreeze submit --check`` runs it: with the Court's records
when Temporal can be reached, and saying loudly what it could not read when it cannot.

With the records, the check is the one ``submit`` runs (``RequestClient.check``): the party's
register of national-law requirements made known in RS 96(3) consultations (RS 96(2)(e)) and,
for a supplementary request, the request it names (RS 96(2)(f)). Without them (``--offline``,
or Temporal refusing the connection or silent for ``Settings.check_timeout_s``), every rule
that needs them is an ``unverified`` finding (``tracefreeze/completeness.py``): the report is
never complete, and the command exits ``NOT_FULLY_CHECKED``, never 0.
"""

from __future__ import annotations

import asyncio

from temporalio.service import RPCError, RPCStatusCode

from schemas.completeness import CompletenessReport
from schemas.request import CourtRequest
from tracefreeze import completeness
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.policy import load_directory

OFFLINE = "--offline: the Court's records were not consulted"
"""Why the records were not read when the check is run offline on purpose."""
UNREACHABLE = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED})
"""RPC statuses of a server that cannot be reached (as opposed to one that answers "no")."""


def without_records(request: CourtRequest, settings: Settings, why: str) -> CompletenessReport:
    """The check from the static directory alone, each rule that needs the Court's records
    reported ``unverified`` with ``why``."""
    directory = load_directory(settings.state_directory_file)
    profile = completeness.profile_from_directory(directory, request.requested_state)
    return completeness.check(request, profile, unread=why)


def _unavailable(err: TracefreezeError | RPCError) -> bool:
    """A read found the server unavailable (as opposed to one that answered: a party directory
    that cannot be read is an error of its own, never hidden here)."""
    cause = err.__cause__ if isinstance(err, TracefreezeError) else err
    return isinstance(cause, RPCError) and cause.status in UNREACHABLE


async def check_with_records(
    request: CourtRequest, settings: Settings, *, offline: bool = False
) -> CompletenessReport:
    """The completeness report of ``request``: ``RequestClient.check`` (the path of ``submit``)
    within ``settings.check_timeout_s``; the report without the records, saying why, when
    ``offline`` or when Temporal cannot be reached in that time (the connection fails, or a
    read finds the server unavailable)."""
    from tracefreeze.client import RequestClient

    if offline:
        return without_records(request, settings, OFFLINE)
    where = f"Temporal at {settings.temporal_address}"
    try:
        async with asyncio.timeout(settings.check_timeout_s):
            try:
                client = await RequestClient.connect(settings)
            except TracefreezeError as err:  # ``connect``: the server cannot be reached
                return without_records(request, settings, str(err))
            return await client.check(request)
    except TimeoutError:
        why = f"{where} did not answer within {settings.check_timeout_s:g} s"
    except (TracefreezeError, RPCError) as err:
        if not _unavailable(err):
            raise
        why = f"{where} cannot be reached: {err}"
    return without_records(request, settings, why)
