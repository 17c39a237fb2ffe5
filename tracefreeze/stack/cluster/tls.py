"""The cluster's local certificate authority, made at the first start under
``<cluster>/tls/`` (never committed, never shared with another cluster): one server
certificate per broker for 127.0.0.1 and localhost, PEM files the brokers read
(``ssl.keystore.type=PEM``) and the clients verify against (``TRACEFREEZE_KAFKA_SSL_CAFILE``);
the Temporal server's and its clients' certificates likewise (``temporal_certs``), each also
as ``<name>.crt`` and ``<name>.key`` for the programs that read the two apart. Keys are
unencrypted PKCS#8, mode 0600; valid for a year.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tracefreeze.stack.cluster.layout import Cluster

VALID = timedelta(days=365)


def tls_dir(cluster: Cluster) -> Path:
    return cluster.dir / "tls"


def ca_file(cluster: Cluster) -> Path:
    return tls_dir(cluster) / "ca.crt"


def keystore(cluster: Cluster, name: str) -> Path:
    """``<name>.pem``: the private key, then the certificate (what Kafka's PEM keystore reads)."""
    return tls_dir(cluster) / f"{name}.pem"


def cert_file(cluster: Cluster, name: str) -> Path:
    return tls_dir(cluster) / f"{name}.crt"


def key_file(cluster: Cluster, name: str) -> Path:
    return tls_dir(cluster) / f"{name}.key"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ensure(
    cluster: Cluster, servers: list[str], names: Mapping[str, Sequence[str]] | None = None
) -> None:
    """The CA (once) and a certificate for each of ``servers`` that has none, for 127.0.0.1,
    localhost and the DNS ``names`` of that server (the names production gives it)."""
    directory = tls_dir(cluster)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key_path = directory / "ca.key"
    if not ca_key_path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name("tracefreeze local cluster CA"))
            .issuer_name(_name("tracefreeze local cluster CA"))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + VALID)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256())
        )
        _private(ca_key_path, _key_pem(key))
        ca_file(cluster).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca_cert = x509.load_pem_x509_certificate(ca_file(cluster).read_bytes())
    for server in servers:
        if keystore(cluster, server).exists():
            _split(cluster, server)
            continue
        key = ec.generate_private_key(ec.SECP256R1())
        dns = ["localhost", *(names or {}).get(server, ())]
        alt = [*map(x509.DNSName, dns), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        usage = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(server))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + VALID)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _private(
            keystore(cluster, server), _key_pem(key) + cert.public_bytes(serialization.Encoding.PEM)
        )
        _split(cluster, server)


def _split(cluster: Cluster, name: str) -> None:
    """``<name>.crt`` and ``<name>.key`` from ``<name>.pem`` (once)."""
    if cert_file(cluster, name).exists() and key_file(cluster, name).exists():
        return
    pem = keystore(cluster, name).read_bytes()
    start = pem.index(b"-----BEGIN CERTIFICATE-----")
    _private(key_file(cluster, name), pem[:start])
    cert_file(cluster, name).write_bytes(pem[start:])
