"""Mutual TLS to Temporal, against the real dev server behind a TLS terminator that demands a
client certificate from a test CA (the dev server itself speaks only plain text): with the
CA, certificate and key the client connects and calls the server; without a certificate, or
with one from another CA, the handshake is refused and the error says where to look."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.certs import SERVER_NAME, Ca
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.security.temporal_tls import temporal_tls
from tracefreeze.temporal import connect


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


@contextlib.asynccontextmanager
async def tls_terminator(temporal: str, ca: Ca, server: tuple[Path, Path]) -> AsyncIterator[str]:
    """Listen with TLS (HTTP/2 by ALPN), require a client certificate from ``ca``, and relay
    each connection to the plain-text dev server at ``temporal``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*server)
    context.load_verify_locations(ca.file)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    host, port = temporal.rsplit(":", 1)

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    listener = await asyncio.start_server(relay, "127.0.0.1", 0, ssl=context)
    try:
        yield f"127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    finally:
        listener.close()


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, object]:
    ca, stranger = Ca(tmp_path, "tracefreeze-test-ca"), Ca(tmp_path, "someone-else-ca")
    return {
        "ca": ca,
        "server": ca.issue("temporal-frontend", server=True),
        "client": ca.issue("tracefreeze-worker", server=False),
        "foreign_client": stranger.issue("not-ours", server=False),
    }


@pytest.mark.stack
async def test_mutual_tls_connects_with_our_certificate_only(stack: Settings, pki) -> None:
    ca = pki["ca"]
    async with tls_terminator(stack.temporal_address, ca, pki["server"]) as address:
        secured = stack.model_copy(
            update={
                "temporal_address": address,
                "temporal_tls_ca_file": ca.file,
                "temporal_tls_cert_file": pki["client"][0],
                "temporal_tls_key_file": pki["client"][1],
                "temporal_tls_server_name": SERVER_NAME,
            }
        )
        client = await connect(secured)
        assert await client.service_client.check_health()
        listed = [w async for w in client.list_workflows(limit=1)]  # a real call, over mTLS
        assert isinstance(listed, list)

        for identity in (
            {"temporal_tls_cert_file": None, "temporal_tls_key_file": None},
            {
                "temporal_tls_cert_file": pki["foreign_client"][0],
                "temporal_tls_key_file": pki["foreign_client"][1],
            },
        ):
            refused = secured.model_copy(update=identity)
            with pytest.raises(TracefreezeError, match="TLS"):
                await connect(refused)


def test_plain_text_unless_configured_and_clear_errors(tmp_path: Path) -> None:
    assert temporal_tls(Settings()) is False
    assert temporal_tls(Settings(temporal_tls=True)) is True  # system roots (Temporal Cloud)
    cert = tmp_path / "client.crt"
    cert.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    with pytest.raises(TracefreezeError, match="go together"):
        temporal_tls(Settings(temporal_tls_cert_file=cert))
    with pytest.raises(TracefreezeError, match="TRACEFREEZE_TEMPORAL_TLS_KEY_FILE: cannot read"):
        temporal_tls(Settings(temporal_tls_cert_file=cert, temporal_tls_key_file=tmp_path / "x"))
    config = temporal_tls(Settings(temporal_tls_ca_file=cert, temporal_tls_server_name="t.test"))
    assert config.server_root_ca_cert == cert.read_bytes() and config.domain == "t.test"
    assert config.client_cert is None
