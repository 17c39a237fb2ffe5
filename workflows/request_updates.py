"""The request's named updates, one per kind of the catalog, declared on the class once.

Each kind's update (``workflows/catalog.py``) is a method of ``RequestWorkflow`` made here when
the module is imported, with its validator beneath it: the handler takes the answer or action
through ``_take_guarded``, the validator applies the kind's rule before anything is written.
Declared on the class, the SDK reads each update's definition once per worker, with the
workflow's. Registered at each run's start (as they were before), every request the worker
put in its cache paid for reading all of them again: about 1.4 ms of the worker's time per
request started, replayed after a restart or handed over to a new run.
"""

from __future__ import annotations

from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.views import AnswerReceipt
    from workflows.catalog import CATALOG, Kind

W = TypeVar("W", bound=type)


def declare_kind_updates(cls: W) -> W:
    """``cls`` with one update method per kind of the catalog, named by the kind's update."""
    for kind in CATALOG:
        setattr(cls, f"_take_{kind.update}", _kind_update(kind))
    return cls


def _kind_update(kind: Kind) -> workflow.UpdateMethodMultiParam[[Any, Any], AnswerReceipt]:
    """``kind``'s update (typed with its contract, so decoded as exactly that) and validator."""

    def handler(self: Any, m: Any) -> AnswerReceipt:
        self._note_step(1)  # the server counts each, taken, repeated or refused
        taken: AnswerReceipt = self._take_guarded(m, kind)
        return taken

    def validator(self: Any, m: Any) -> None:
        self._validate(m, kind)

    handler.__annotations__ = {"m": kind.contract, "return": AnswerReceipt}
    validator.__annotations__ = {"m": kind.contract, "return": None}
    handler.__doc__ = kind.contract.__doc__
    handler.__name__ = handler.__qualname__ = f"take_{kind.update}"
    update = workflow.update(name=kind.update)(handler)
    update.validator(validator)
    return update
