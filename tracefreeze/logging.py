"""Structured logging for the worker, bridge and CLI (structlog, one pipeline for all).

JSON lines when stderr is not a terminal (services, CI); coloured console lines on a
terminal. The standard library's loggers (temporalio, aiokafka) go through the same
processors, so every line has the same shape.
"""

from __future__ import annotations

import logging
import sys

import structlog

_QUIET = {"aiokafka": logging.WARNING, "kafka": logging.WARNING}
_configured = False


def configure_logging(level: str = "INFO") -> None:
    """Configure structlog and stdlib logging once; later calls only change the level."""
    global _configured
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    root = logging.getLogger()
    root.setLevel(numeric)
    if _configured:
        return
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: structlog.types.Processor
    if sys.stderr.isatty():
        renderer = structlog.dev.ConsoleRenderer()
    else:
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root.handlers = [handler]
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    _configured = True
