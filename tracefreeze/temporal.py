"""The connection to Temporal: the pydantic data converter every contract needs, with the
payload codec (``tracefreeze/security/codec.py``) when codec keys are configured, so that
requests and
answers are stored encrypted, failure messages included."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import structlog
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime

from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.not_ready import BUDGET_S, NotReadyRetry
from tracefreeze.ops.tracing import configure_tracing, flush, interceptor
from tracefreeze.security.codec import codec_from_env, data_converter
from tracefreeze.security.identity import configured_token
from tracefreeze.security.temporal_tls import temporal_tls

log = structlog.get_logger(__name__)


async def connect(
    settings: Settings, runtime: Runtime | None = None, not_ready_s: float = BUDGET_S
) -> Client:
    """Connect to the namespace of the settings; an unreachable server is one clear error.

    Every client traces (``tracefreeze/ops/tracing.py``; its workers inherit the interceptor);
    the worker and bridge pass the runtime that exports the SDK's metrics. An update or query the
    server turned away before the workflow saw it is sent again for ``not_ready_s``
    (``not_ready.py``; the bridge and the worker pass their own). The client acts
    as the principal of its configured token, if any (``tracefreeze/security/identity.py``):
    ``tls`` is always given, so a token never turns TLS on by itself."""
    configure_tracing(settings.otel_exporter)
    tls = temporal_tls(settings)
    token = configured_token(settings)  # re-read: a renewed token file is taken here
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=converter(settings),
            interceptors=[interceptor(), NotReadyRetry(not_ready_s)],
            runtime=runtime,
            tls=tls,
            api_key=token,
        )
    except RuntimeError as err:
        where = f"Temporal at {settings.temporal_address} (namespace {settings.temporal_namespace})"
        if "PermissionDenied" in str(err):  # the token is checked at the first call
            raise TracefreezeError(
                f"{where} refused this client's token (another issuer, expired, or another "
                "audience): check TRACEFREEZE_TEMPORAL_TOKEN_FILE with `tracefreeze whoami`"
            ) from err
        if tls:
            raise TracefreezeError(
                f"cannot reach {where} over TLS: check TRACEFREEZE_TEMPORAL_TLS_* (the CA, the "
                f"client certificate and key, the server name): {err}"
            ) from err
        raise TracefreezeError(f"cannot reach {where}; is the stack up? try `make up`") from err


TOKEN_REREAD_S = 30.0
"""How often a long-running process reads its token file again (a rotated Secret)."""


@contextlib.asynccontextmanager
async def renewing_token(
    client: Client, settings: Settings, every_s: float = TOKEN_REREAD_S
) -> AsyncIterator[None]:
    """While in it, ``client`` (and the workers polling through it) acts with the token its
    file holds now: read again every ``every_s`` and put in force when it changed, so a
    short-lived token renewed in its file (a rotated Secret) is taken without a restart. A
    read that fails keeps the token in force and says so; it is read again next time."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                token = configured_token(settings)
            except TracefreezeError as err:
                log.warning("token not read again; the one in force is kept", error=str(err))
                continue
            if token and token != client.api_key:
                client.api_key = token
                log.info("token renewed", file=str(settings.temporal_token_file))

    task = asyncio.create_task(renew()) if settings.temporal_token_file is not None else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            await asyncio.wait([task])  # a cancellation of the caller meanwhile is kept
            if not task.cancelled() and (err := task.exception()) is not None:
                log.error("token renewal had stopped", error=repr(err))


def access(settings: Settings) -> dict[str, Any]:
    """What a bare ``Client.connect`` (the benchmarks' baselines) needs besides the address
    to be let in: the TLS of the settings and the principal's token."""
    return {"tls": temporal_tls(settings), "api_key": configured_token(settings)}


def converter(settings: Settings) -> DataConverter:
    """The data converter of every client, worker and replayer of these settings."""
    codec = codec_from_env(state_dir=settings.state_dir, namespace=settings.temporal_namespace)
    return data_converter(codec, encode_failures=True)


def exit_process(code: int | str | None) -> NoReturn:
    """End a short-lived process that used a Temporal client, skipping interpreter teardown.

    The SDK's native threads can outlive the event loop and crash CPython's finalization
    (temporalio/sdk-python issue #300: "PyGILState_Release ... must be current"), turning a
    clean exit into SIGABRT. Flush what was written, then leave without finalizing.
    """
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    with contextlib.suppress(Exception):
        flush()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code or 0)
