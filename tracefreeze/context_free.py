"""The worker's payloads are encoded without asking the sandbox for a serialization context
when the data converter takes none.

For every payload of a workflow task's completion (an update's result, an activity's input,
the memo, a signal to the case) and of its activation, the SDK asks the workflow instance for
the command's serialization context and external-store context; a sandboxed instance answers
by running code inside the sandbox, its importer and restricted builtins applied and undone
each time (about a third of a millisecond a payload on this machine: a sixth of the worker's
event-loop time while many deadlines fell due, profiled with cProfile, before this).

Our converter (pydantic, the encryption codec bound to its namespace, no external storage)
gives the same converter whatever the context: the SDK's ``with_context`` returns it unchanged.
For such a converter (``context_free``) a context changes nothing, and ``ContextFreeRunner``'s
instances answer without entering the sandbox: no serialization context (the worker's converter
as is) and the workflow's own store context (what the sandbox would give for its own commands,
unused without external storage). A converter that does take a context (a codec keyed per
workflow, external storage) is never given this runner (``around``)."""

from __future__ import annotations

from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    SerializationContext,
    StorageDriverStoreContext,
    StorageDriverWorkflowInfo,
    WorkflowSerializationContext,
)
from temporalio.worker import WorkflowRunner
from temporalio.worker._command_aware_visitor import CommandInfo

from tracefreeze.runners import InstanceAround, RunnerAround

PROBES: tuple[SerializationContext, ...] = (
    WorkflowSerializationContext(namespace="probe", workflow_id="probe"),
    ActivitySerializationContext(
        namespace="probe",
        activity_id="probe",
        workflow_id="probe",
        workflow_type="probe",
        activity_type="probe",
        activity_task_queue="probe",
        is_local=False,
    ),
)


def context_free(converter: DataConverter) -> bool:
    """Whether ``converter`` is the same under every serialization context (the SDK hands
    back the converter itself when none of its parts takes one) and stores nothing
    externally."""
    if converter.external_storage is not None:
        return False
    return all(converter.with_context(probe) is converter for probe in PROBES)


class _ContextFree(InstanceAround):
    def get_serialization_context(self, command_info: CommandInfo | None) -> None:
        return None

    def get_external_store_context(
        self, command_info: CommandInfo | None
    ) -> StorageDriverStoreContext:
        info = self.inner.get_info()
        return StorageDriverStoreContext(
            target=StorageDriverWorkflowInfo(
                id=info.workflow_id,
                run_id=info.run_id,
                type=info.workflow_type,
                namespace=info.namespace,
            )
        )


class ContextFreeRunner(RunnerAround):
    """``inner``'s instances, answering serialization and store contexts themselves."""

    instance = _ContextFree


def around(inner: WorkflowRunner, converter: DataConverter) -> WorkflowRunner:
    """``inner`` in a ``ContextFreeRunner`` if ``converter`` is ``context_free``, else as is."""
    return ContextFreeRunner(inner) if context_free(converter) else inner
