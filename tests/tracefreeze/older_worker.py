"""The request workflow as a worker of an older deploy runs it: it does not know the
``acknowledge`` update yet. A rolling deploy has workers of both for a while; the bridge must
treat the older worker's refusal of an update it lacks as transient, never as the State's
fault (``tracefreeze/intake/retry.py``, ``no_handler``)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.views import RequestView
    from workflows.carry import RequestRun
    from workflows.catalog import KINDS
    from workflows.request import RequestWorkflow

LACKING = KINDS["acknowledgement"].update
"""The update the older deploy has no handler for."""


@workflow.defn(name="RequestWorkflow")
class RequestWorkflowBeforeAcknowledgements(RequestWorkflow):
    @workflow.init
    def __init__(self, inp: RequestRun) -> None:
        super().__init__(inp)
        workflow.set_update_handler(LACKING, None)

    @workflow.run
    async def run(self, inp: RequestRun) -> RequestView:
        return await super().run(inp)
