"""One line for a person, whatever failed: what is missing or refused, and what to do.

The CLI and the demo end every failure here instead of in a stack trace: a Registry officer or
a focal point reads what failed (the Temporal server, Kafka, the browser, a refusal by the
request's rules) and the command that gets it back. The trace goes to the debug log only
(``--log-level DEBUG``).
"""

from __future__ import annotations

import logging

from tracefreeze.errors import TracefreezeError

log = logging.getLogger(__name__)

DEBUG_HINT = "run with --log-level DEBUG for the trace"


def _first_line(text: object) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def _temporal(err: BaseException) -> str | None:
    from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
    from temporalio.exceptions import ApplicationError
    from temporalio.service import RPCError, RPCStatusCode

    if isinstance(err, WorkflowUpdateFailedError):
        cause = err.cause
        if not isinstance(cause, ApplicationError):
            return f"the update failed: {_first_line(cause) or type(cause).__name__}"
        if cause.type == "AnswerRejected":  # the request's rules said no: nothing written
            return f"refused: {cause.message}"
        return f"not applied ({cause.type or 'error'}): {cause.message}"
    if isinstance(err, WorkflowFailureError):
        return f"the workflow failed: {_first_line(err.cause)}"
    if isinstance(err, RPCError):
        if err.status is RPCStatusCode.NOT_FOUND:
            return f"not found on the Temporal server: {_first_line(err.message)}"
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return (
                f"the Temporal server did not answer ({err.status.name}): is the stack up? "
                "try `make up` or `make status`"
            )
        return f"the Temporal server refused the call ({err.status.name}): {_first_line(err)}"
    return None


def _kafka(err: BaseException) -> str | None:
    from aiokafka.errors import KafkaConnectionError, KafkaError

    if isinstance(err, KafkaConnectionError):
        return f"Kafka is not reachable ({_first_line(err)}): is the stack up? try `make up`"
    if isinstance(err, KafkaError):
        return f"Kafka refused ({type(err).__name__}): {_first_line(err)}"
    return None


def _browser(err: BaseException) -> str | None:
    try:
        from selenium.common.exceptions import WebDriverException
    except ImportError:  # the browser extras are not installed
        return None
    if isinstance(err, WebDriverException):
        return (
            f"the headless browser failed ({_first_line(err.msg or type(err).__name__)}): "
            "run deploy/local/browser.sh as root to install Chromium and its driver"
        )
    return None


def explain(err: BaseException) -> str:
    """``err`` as one line a person can act on; the trace is logged at debug level."""
    log.debug("failure", exc_info=err)
    if isinstance(err, TracefreezeError):
        return str(err)
    for reading in (_temporal, _kafka, _browser):
        line = reading(err)
        if line is not None:
            return line
    if isinstance(err, TimeoutError):
        return f"timed out{': ' + _first_line(err) if str(err) else ''}; is the stack up?"
    if isinstance(err, OSError):
        where = f" ({err.filename})" if err.filename else ""
        return f"{err.strerror or _first_line(err)}{where}"
    if isinstance(err, BaseExceptionGroup) and err.exceptions:
        return explain(err.exceptions[0])
    reason = _first_line(err) or "no message"
    return f"unexpected {type(err).__name__}: {reason} ({DEBUG_HINT})"
