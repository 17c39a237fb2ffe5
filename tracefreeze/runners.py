"""A workflow runner around another: each instance it makes wraps the inner runner's, and
passes everything on unless a subclass says otherwise. The worker composes its runner from
these (``tracefreeze/worker.py``: the sandbox, ``context_free``, ``history_bound``).

The runner and instance interfaces are the SDK's (temporalio 1.35, some of them private:
``tests/tracefreeze/test_history_bound.py`` holds the version they were read against)."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import SerializationContext, StorageDriverStoreContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.workflow import Info, _Definition


class InstanceAround(WorkflowInstance):
    """An instance that passes every call to ``inner``."""

    def __init__(self, inner: WorkflowInstance) -> None:
        self.inner = inner

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self.inner.activate(act)

    def get_serialization_context(
        self, command_info: CommandInfo | None
    ) -> SerializationContext | None:
        return self.inner.get_serialization_context(command_info)

    def get_external_store_context(
        self, command_info: CommandInfo | None
    ) -> StorageDriverStoreContext:
        return self.inner.get_external_store_context(command_info)

    def get_info(self) -> Info:
        return self.inner.get_info()

    def get_thread_id(self) -> int | None:
        return self.inner.get_thread_id()


class RunnerAround(WorkflowRunner):
    """``inner``'s instances, each wrapped in ``instance`` (an ``InstanceAround``)."""

    instance: type[InstanceAround] = InstanceAround

    def __init__(self, inner: WorkflowRunner) -> None:
        self.inner = inner

    def prepare_workflow(self, defn: _Definition) -> None:
        self.inner.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return self.instance(self.inner.create_instance(det))

    def set_worker_level_failure_exception_types(
        self, types: Sequence[type[BaseException]]
    ) -> None:
        self.inner.set_worker_level_failure_exception_types(types)
