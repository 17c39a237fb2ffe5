"""How tracefreeze authenticates to Kafka and encrypts the connection (deploy/kafka-security.md).

``KafkaSecurity`` holds the ``TRACEFREEZE_KAFKA_*`` security settings (a base of
``tracefreeze.config.Settings``) and refuses a combination that cannot work or would silently
be ignored; ``security_kwargs`` turns them into the arguments every aiokafka client takes
(producer, consumer, admin: ``tracefreeze/kafka.py``). The local stack stays PLAINTEXT.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSecurity(BaseModel):
    """TLS (``SSL``, ``SASL_SSL``) and SASL/SCRAM (``SASL_PLAINTEXT``, ``SASL_SSL``)."""

    model_config = ConfigDict(hide_input_in_errors=True)  # never echo the password

    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    """PEM of the CA that signed the brokers' certificates; default: the system's CAs."""
    kafka_ssl_certfile: Path | None = None
    """PEM of this client's certificate (mutual TLS); may also hold the key."""
    kafka_ssl_keyfile: Path | None = None
    """PEM of this client's private key, unencrypted (mutual TLS)."""

    @property
    def kafka_uses_sasl(self) -> bool:
        return self.kafka_security_protocol.startswith("SASL_")

    @property
    def kafka_uses_tls(self) -> bool:
        return self.kafka_security_protocol in ("SSL", "SASL_SSL")

    @model_validator(mode="after")
    def _coherent(self) -> KafkaSecurity:
        protocol = self.kafka_security_protocol
        password = self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else ""
        if self.kafka_uses_sasl and not (self.kafka_sasl_username and password):
            raise ValueError(
                f"TRACEFREEZE_KAFKA_SECURITY_PROTOCOL={protocol} needs "
                "TRACEFREEZE_KAFKA_SASL_USERNAME and TRACEFREEZE_KAFKA_SASL_PASSWORD"
            )
        if not self.kafka_uses_sasl and (self.kafka_sasl_username or password):
            raise ValueError(
                f"SASL credentials are set but TRACEFREEZE_KAFKA_SECURITY_PROTOCOL={protocol} "
                "does not use them; choose SASL_SSL (or SASL_PLAINTEXT)"
            )
        files = {
            "CAFILE": self.kafka_ssl_cafile,
            "CERTFILE": self.kafka_ssl_certfile,
            "KEYFILE": self.kafka_ssl_keyfile,
        }
        given = {name: path for name, path in files.items() if path is not None}
        if given and not self.kafka_uses_tls:
            names = ", ".join(f"TRACEFREEZE_KAFKA_SSL_{n}" for n in given)
            raise ValueError(
                f"{names} set but TRACEFREEZE_KAFKA_SECURITY_PROTOCOL={protocol} does not use "
                "TLS; choose SSL or SASL_SSL"
            )
        if self.kafka_ssl_keyfile is not None and self.kafka_ssl_certfile is None:
            raise ValueError(
                "TRACEFREEZE_KAFKA_SSL_KEYFILE needs TRACEFREEZE_KAFKA_SSL_CERTFILE (mutual TLS)"
            )
        for name, path in given.items():
            if not path.is_file():
                raise ValueError(f"TRACEFREEZE_KAFKA_SSL_{name}: no such file: {path}")
        return self


def security_kwargs(settings: KafkaSecurity) -> dict[str, Any]:
    """The security arguments of an aiokafka producer, consumer or admin client."""
    kwargs: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_uses_sasl:
        assert settings.kafka_sasl_password is not None  # the validator made sure
        kwargs |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password.get_secret_value(),
        }
    if settings.kafka_uses_tls:
        kwargs["ssl_context"] = create_ssl_context(
            cafile=settings.kafka_ssl_cafile,
            certfile=settings.kafka_ssl_certfile,
            keyfile=settings.kafka_ssl_keyfile,
        )
    return kwargs
