"""A long-running client (a worker, a bridge) takes its renewed token without a restart
(``tracefreeze.temporal.renewing_token``): on the dev server, which checks no token, what is
seen is the token the client sends; the production-shaped cluster's frontend refusing the
expired one is tests/faults/test_cluster_auth.py."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from tracefreeze.config import Settings
from tracefreeze.security import identity
from tracefreeze.temporal import connect, renewing_token

pytestmark = pytest.mark.stack


async def test_a_renewed_token_file_is_in_force_without_a_reconnect(
    stack: Settings, tmp_path: Path
) -> None:
    issuer = identity.Issuer.ensure(tmp_path)
    granted = identity.permissions(stack.temporal_namespace, ["write"])
    path = tmp_path / "token.jwt"
    first = issuer.issue("tracefreeze-worker", "registry", granted, timedelta(hours=1))
    path.write_text(first)
    settings = stack.model_copy(update={"temporal_token_file": path})
    client = await connect(settings)
    assert client.api_key == first
    async with renewing_token(client, settings, every_s=0.05):
        path.write_text("")  # a file caught half-written: the token in force is kept
        await asyncio.sleep(0.3)
        assert client.api_key == first
        renewed = issuer.issue("tracefreeze-worker", "registry", granted, timedelta(hours=2))
        path.write_text(renewed)
        async with asyncio.timeout(30):
            while True:
                if client.api_key == renewed:
                    break
                await asyncio.sleep(0.05)
    await client.service_client.check_health()  # the client still works with it
    path.write_text(first)
    await asyncio.sleep(0.3)
    assert client.api_key == renewed  # out of the context: no more re-reads
