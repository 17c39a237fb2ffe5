"""The workers run an activity only for a workflow of theirs.

Temporal can start an activity on its own (a "standalone" activity: ``StartActivityExecution``),
with an input of the caller's choosing, on any task queue. Ours act with the workers' keys and
principals: relaying a Rule 180 notice to a party's directory, signed with the relay key;
publishing a round of events to a State's channel; delivering a Court action. Started on its
own, one would do so for whoever could start it. So every activity of a worker that was not
scheduled by a workflow fails at once, for good, and is logged (the cluster's server also
refuses the call to every person: deploy/temporal-server)."""

from __future__ import annotations

from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

log = structlog.get_logger("tracefreeze.worker")
REFUSED = "StandaloneActivityRefused"


class WorkflowActivitiesOnly(Interceptor):
    """The worker interceptor that refuses an activity no workflow scheduled."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Refusing(next)


class _Refusing(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        if not info.workflow_id:
            log.error(
                "an activity started outside any workflow was refused",
                activity_type=info.activity_type,
                activity_id=info.activity_id,
            )
            raise ApplicationError(
                f"{info.activity_type} runs only for a workflow of the worker: an activity "
                "started on its own is refused",
                type=REFUSED,
                non_retryable=True,
            )
        return await self.next.execute_activity(input)
