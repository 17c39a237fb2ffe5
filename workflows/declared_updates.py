"""Named updates declared on a workflow class, one per kind of a catalog, when the module is
imported: the request's State answers and Court actions (``workflows/catalog.py``) and the
Court's actions on a party's directory (``workflows/party_catalog.py``).

Each kind's update is a method typed with the kind's contract (so its payload is decoded as
exactly that contract) that hands the message and its kind to the workflow's ``take`` method,
with a validator beneath it that hands them to ``check`` before anything is written. Declared
on the class, the SDK reads each update's definition once per worker, with the workflow's.
Registered at each run's start instead (``workflow.set_update_handler``), as they were before,
every workflow a worker loaded read all of them again: about 1.4 ms of the worker's time for
each request started, replayed after a restart, handed over to a new run or loaded again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from temporalio import workflow

W = TypeVar("W", bound=type)


class CatalogKind(Protocol):
    """What a kind of a catalog gives its update: a name and the contract it takes."""

    @property
    def update(self) -> str: ...
    @property
    def contract(self) -> type[Any]: ...


def declare_updates(
    kinds: Iterable[CatalogKind], returns: type[Any], take: str, check: str
) -> Callable[[W], W]:
    """A class decorator (beneath ``@workflow.defn``): one update per kind, named by the kind's
    update, calling ``self.<take>(m, kind)``, its validator ``self.<check>(m, kind)``."""

    def declare(cls: W) -> W:
        if "__temporal_workflow_definition" in vars(cls):  # above @workflow.defn: never read
            raise TypeError(f"declare the updates of {cls.__name__} beneath @workflow.defn")
        for name in (take, check):
            if not callable(getattr(cls, name, None)):
                raise TypeError(f"{cls.__name__} has no method {name} to declare updates with")
        for kind in kinds:
            attribute = f"_update_{kind.update}"
            if hasattr(cls, attribute):
                raise TypeError(f"{cls.__name__}.{attribute} is declared twice")
            setattr(cls, attribute, _update(kind, returns, take, check))
        return cls

    return declare


def _update(kind: CatalogKind, returns: type[Any], take: str, check: str) -> Any:
    def handler(self: Any, m: Any) -> Any:
        return getattr(self, take)(m, kind)

    def validator(self: Any, m: Any) -> None:
        getattr(self, check)(m, kind)

    handler.__annotations__ = {"m": kind.contract, "return": returns}
    validator.__annotations__ = {"m": kind.contract, "return": None}
    handler.__doc__ = kind.contract.__doc__
    handler.__name__ = handler.__qualname__ = kind.update
    update = workflow.update(name=kind.update)(handler)
    update.validator(validator)
    return update
