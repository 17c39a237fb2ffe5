"""The worker's instances answer serialization contexts without entering the sandbox only
when the converter takes none (``tracefreeze/context_free.py``): the product's converter (pydantic,
the encryption codec) does not; a codec that does is given the sandbox's own answers."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    PayloadCodec,
    SerializationContext,
    StorageDriverWorkflowInfo,
    WithSerializationContext,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from tracefreeze.context_free import ContextFreeRunner, _ContextFree, around, context_free
from tracefreeze.security.codec import EncryptionCodec, data_converter
from tracefreeze.worker import sandbox_runner, workflow_runner


class PerWorkflowCodec(PayloadCodec, WithSerializationContext):
    """A codec keyed per workflow: it takes the context, so a context changes it."""

    def __init__(self, workflow_id: str | None = None) -> None:
        self.workflow_id = workflow_id

    def with_context(self, context: SerializationContext) -> Self:
        return type(self)(getattr(context, "workflow_id", None))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)


class Sandboxed:
    """The instance behind: knows its info, and must never be asked for a context."""

    def get_info(self) -> Any:
        return dataclasses.make_dataclass(
            "Info", ["workflow_id", "run_id", "workflow_type", "namespace", "start_time"]
        )("request/R/NLD", "run-1", "RequestWorkflow", "default", datetime.now())

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the sandbox was asked: {name}")


def test_the_products_converter_takes_no_context() -> None:
    product = data_converter(EncryptionCodec({"k1": os.urandom(32)}, "k1"), encode_failures=True)
    assert context_free(product)
    assert context_free(pydantic_data_converter)
    assert isinstance(workflow_runner(product).inner, ContextFreeRunner)


def test_a_converter_that_takes_a_context_keeps_the_sandboxs_answers() -> None:
    keyed = dataclasses.replace(pydantic_data_converter, payload_codec=PerWorkflowCodec())
    assert not context_free(keyed)
    assert isinstance(around(sandbox_runner(), keyed), SandboxedWorkflowRunner)
    assert isinstance(workflow_runner(keyed).inner, SandboxedWorkflowRunner)


def test_contexts_are_answered_outside_the_sandbox() -> None:
    instance = _ContextFree(Sandboxed())  # type: ignore[arg-type]
    assert instance.get_serialization_context(None) is None
    store = instance.get_external_store_context(None)
    assert store.target == StorageDriverWorkflowInfo(
        namespace="default", id="request/R/NLD", run_id="run-1", type="RequestWorkflow"
    )
