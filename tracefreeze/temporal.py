"""The connection to Temporal, with the pydantic data converter every contract needs."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import NoReturn

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


def exit_process(code: int | str | None) -> NoReturn:
    """End a short-lived process that used a Temporal client, skipping interpreter teardown.

    The SDK's native threads can outlive the event loop and crash CPython's finalization
    (temporalio/sdk-python issue #300: "PyGILState_Release ... must be current"), turning a
    clean exit into SIGABRT. Flush what was written, then leave without finalizing.
    """
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code or 0)
