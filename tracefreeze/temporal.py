"""The connection to Temporal, with the pydantic data converter every contract needs."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError


async def connect(settings: Settings) -> Client:
    """Connect to the namespace of the settings; an unreachable server is one clear error."""
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
        )
    except RuntimeError as err:
        raise TracefreezeError(
            f"cannot reach Temporal at {settings.temporal_address} "
            f"(namespace {settings.temporal_namespace}); is the stack up? try `make up`"
        ) from err
