"""TLS and mutual TLS from tracefreeze to Temporal: a self-hosted frontend that requires
client certificates (``deploy/k8s/temporal-values.yaml``) or a Temporal Cloud namespace
(``deploy/k8s/temporal-cloud``). Off by default: the local dev server speaks plain text.

``TRACEFREEZE_TEMPORAL_TLS=true`` turns TLS on with the system's roots; a CA file replaces
them (a private CA); a certificate and key (both, or neither) are the client's identity;
the server name overrides the host name the server certificate is checked against.
"""

from __future__ import annotations

from pathlib import Path

from temporalio.service import TLSConfig

from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError


def temporal_tls(settings: Settings) -> TLSConfig | bool:
    """What ``Client.connect(tls=...)`` gets: False (plain text), True (system roots), or the
    configuration built from the files; a missing or half-given identity is a clear error."""
    s = settings
    files = (s.temporal_tls_ca_file, s.temporal_tls_cert_file, s.temporal_tls_key_file)
    if not s.temporal_tls and not any(files) and s.temporal_tls_server_name is None:
        return False
    if (s.temporal_tls_cert_file is None) != (s.temporal_tls_key_file is None):
        raise TracefreezeError(
            "TRACEFREEZE_TEMPORAL_TLS_CERT_FILE and TRACEFREEZE_TEMPORAL_TLS_KEY_FILE go "
            "together: a client certificate needs its private key"
        )
    if not any(files) and s.temporal_tls_server_name is None:
        return True
    return TLSConfig(
        server_root_ca_cert=_read(s.temporal_tls_ca_file, "TRACEFREEZE_TEMPORAL_TLS_CA_FILE"),
        client_cert=_read(s.temporal_tls_cert_file, "TRACEFREEZE_TEMPORAL_TLS_CERT_FILE"),
        client_private_key=_read(s.temporal_tls_key_file, "TRACEFREEZE_TEMPORAL_TLS_KEY_FILE"),
        domain=s.temporal_tls_server_name,
    )


def _read(path: Path | None, variable: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as err:
        raise TracefreezeError(f"{variable}: cannot read {path}: {err.strerror}") from err
