"""Structured logging for the worker, bridge and CLI (structlog, one pipeline for all).

JSON lines when stderr is not a terminal (services, CI); coloured console lines on a
terminal. The standard library's loggers (temporalio, aiokafka) go through the same
processors, so every line has the same shape. Workflow code logs through ``workflow.logger``
(silent during replay); the ids the SDK attaches to its records (``temporal_workflow``,
``temporal_activity``: workflow_id, run_id, workflow_type, activity_id, attempt...) become
fields of the line. Above debug, no line carries personal data: no party names, asset
descriptions or answer bodies, only ids, codes, statuses and counts.
"""

from __future__ import annotations

import logging
import sys

import structlog
from temporalio import activity, workflow

_QUIET = {"aiokafka": logging.WARNING, "kafka": logging.WARNING}
_configured = False
_RECORD_ATTRIBUTES = {*vars(logging.makeLogRecord({})), "message", "asctime"}
_SDK_CONTEXT = ("temporal_workflow", "temporal_activity")


def record_extras(
    _logger: object, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """A standard library record's ``extra`` as fields; the SDK's context dicts flattened."""
    record = event_dict.get("_record")
    if record is None:
        return event_dict
    for key, value in vars(record).items():
        if key in _RECORD_ATTRIBUTES or key.startswith("_"):
            continue
        if key in _SDK_CONTEXT and isinstance(value, dict):
            for name, item in value.items():
                event_dict.setdefault(name, item)
        else:
            event_dict.setdefault(key, value)
    return event_dict


def formatter(json: bool) -> logging.Formatter:
    """The formatter of every line: JSON, or coloured console lines."""
    shared = _shared(json)
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, record_extras],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


def _shared(json: bool) -> list[structlog.types.Processor]:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    return [*shared, structlog.processors.format_exc_info] if json else shared


def configure_logging(level: str = "INFO") -> None:
    """Configure structlog and stdlib logging once; later calls only change the level."""
    global _configured
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    root = logging.getLogger()
    root.setLevel(numeric)
    if _configured:
        return
    json = not sys.stderr.isatty()
    workflow.logger.workflow_info_on_message = False  # the ids are fields instead
    activity.logger.activity_info_on_message = False
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared(json),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(json))
    root.handlers = [handler]
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    _configured = True
