"""The organ key registry a request verifies the Court's actions against, read on the worker
from its mounted file (``tracefreeze/security/organ_keys.py``) and recorded in the request's
history (``workflows/request_keys.py``). A file that cannot be read is said, not retried for
ever: the request refuses every Court action with the reason until it reads a good one."""

from __future__ import annotations

import structlog
from temporalio import activity

from schemas.organ_keys import RESOLVE_ORGAN_KEYS, OrganKeys
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.security.organ_keys import load_organ_keys, organ_keys_file

log = structlog.get_logger(__name__)


class OrganKeysReader:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def read(self) -> OrganKeys:
        """The registry the worker's file holds now, or the reason none could be read (also
        called by the publishing activity for a request's first round)."""
        path = organ_keys_file(self.settings.state_dir)
        try:
            return load_organ_keys(path)
        except TracefreezeError as err:
            log.error("no organ key registry", error=str(err))
            return OrganKeys(reason=str(err)[:2000])

    @activity.defn(name=RESOLVE_ORGAN_KEYS)
    async def resolve_organ_keys(self) -> OrganKeys:
        return self.read()
