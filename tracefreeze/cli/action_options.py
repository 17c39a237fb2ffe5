"""Command-line options for a Court action, generated from its contract (``schemas/court.py``).

A Registry officer records a decision as a person takes it: ``tracefreeze act REF
escalation_decision --step chamber_report --proceed --by "Pre-Trial Chamber II" --reasons
TEXT``, with ``--help`` listing every field of the action, its choices and what it means. The
options are read from the pydantic contract, so a field added to a contract is an option at
once, typed as the contract types it:

- a closed set (a ``Literal`` or an enum) is a choice; a yes/no field is a ``--x/--no-x`` flag;
- an amount of money is one value, ``"640000.00 EUR"``;
- a list of ids is a repeated option (``--asset-ids a-1 --asset-ids a-2``);
- a nested document (a modified request) is JSON, or ``@FILE``; a list of them (an
  allocation's shares) is one JSON object per repeated option;
- dates, instants and durations are written as ISO 8601 (``2026-11-30``,
  ``2026-11-30T10:00:00+01:00``, ``P30D``) and parsed by the contract itself.

``decided_by`` reads ``--by``; the deadline extension's own ``by`` (how much longer) reads
``--extend-by``. ``action_type`` is the command's; ``event_id`` and ``decided_at`` default to a
fresh id and now. A value still in angle brackets (``<organ>``) is a placeholder: refused.
"""

from __future__ import annotations

import enum
import json
import re
import types
import typing
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import click
from pydantic import BaseModel

from schemas.common import Money

FILLED = frozenset({"action_type"})
"""Fields the CLI fills itself (``event_id`` and ``decided_at`` have options, defaulting to a
fresh id and now: re-sending with the same ``--event-id`` records nothing twice)."""
OPTION_NAMES = {"decided_by": "by", "by": "extend-by"}
HELP = {
    "decided_by": "Who decided: the organ (a Chamber, the Presidency, the Registry)",
    "event_id": "The decision's id (default: a fresh one); re-send with the id printed to "
    "record it once only",
}
PLACEHOLDER = re.compile(r"^\s*<[^<>]*>\s*$")
"""A value still to be filled in (``<organ>``, ``<required: reasons>``): never recorded."""
"""Options named otherwise than their field: who decided is always ``--by``."""


def option_name(field: str) -> str:
    return OPTION_NAMES.get(field, field.replace("_", "-"))


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The field's type without ``None``, and whether ``None`` is allowed."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            inner, _ = _unwrap(args[0])
            return inner, True
    return annotation, False


def _items(annotation: Any) -> Any | None:
    """The item type of a tuple or list field (None: not a sequence)."""
    if typing.get_origin(annotation) in (tuple, list):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return _unwrap(args[0])[0] if args else str
    return None


def _choices(annotation: Any) -> list[str] | None:
    if typing.get_origin(annotation) is Literal:
        return [str(v) for v in typing.get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(m.value) for m in annotation]
    return None


class MoneyType(click.ParamType):
    """An amount and its currency as one value: ``640000.00 EUR``."""

    name = "AMOUNT CURRENCY"

    def convert(self, value: Any, param: Any, ctx: Any) -> dict[str, str]:
        if isinstance(value, dict):
            return value
        parts = str(value).split()
        if len(parts) != 2:
            self.fail(f"{value!r}: give an amount and its currency, e.g. '640000.00 EUR'")
        return {"amount": parts[0], "currency": parts[1].upper()}


class JsonType(click.ParamType):
    """A nested document: JSON on the command line, or ``@FILE`` holding it."""

    name = "JSON|@FILE"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value
        if value.startswith("@"):
            try:
                text = Path(value[1:]).read_text(encoding="utf-8")
            except OSError as err:
                self.fail(f"{value}: {err.strerror or err}")
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            self.fail(f"not valid JSON: {err}")


METAVARS = {date: "DATE", datetime: "INSTANT", timedelta: "DURATION", Decimal: "DECIMAL"}


def _option(field: str, annotation: Any, description: str | None) -> click.Option:
    kind, optional = _unwrap(annotation)
    name = option_name(field)
    help_text = (description or HELP.get(field, "")).strip()
    item = _items(kind)
    if kind is bool:
        return click.Option([f"--{name}/--no-{name}"], default=None, help=help_text)
    if item is not None:
        one = _param_type(item)
        return click.Option([f"--{name}"], multiple=True, type=one, help=help_text + " (repeat)")
    kwargs: dict[str, Any] = {"type": _param_type(kind), "default": None, "help": help_text}
    if kind in METAVARS:
        kwargs["metavar"] = METAVARS[kind]
    if optional:
        kwargs["help"] = f"{help_text} (optional)".strip()
    return click.Option([f"--{name}"], **kwargs)


def _param_type(kind: Any) -> click.ParamType:
    choices = _choices(kind)
    if choices is not None:
        return click.Choice(choices)
    if kind is Money:
        return MoneyType()
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return JsonType()
    if kind is int:
        return click.INT
    return click.STRING


def options_for(model: type[BaseModel]) -> list[click.Option]:
    """One option per field of ``model`` a person decides."""
    return [
        _option(field, info.annotation, info.description)
        for field, info in model.model_fields.items()
        if field not in FILLED
    ]


def document_from(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """The fields given on the command line, by their contract's names (the rest unset)."""
    by_param = {option_name(f).replace("-", "_"): f for f in model.model_fields if f not in FILLED}
    doc: dict[str, Any] = {}
    for param, value in values.items():
        field = by_param.get(param)
        if field is None or value is None or value == ():
            continue
        doc[field] = list(value) if isinstance(value, tuple) else value
    return doc


def placeholders(doc: Any, path: str = "") -> list[str]:
    """The fields of ``doc`` that still hold a placeholder: a draft saved unchanged, or a
    suggested command run without filling it in, records nobody's decision."""
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in placeholders(v, f"{path}{k}.")]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in placeholders(v, f"{path}{i}.")]
    return [path.rstrip(".")] if isinstance(doc, str) and PLACEHOLDER.match(doc) else []


def missing(model: type[BaseModel], doc: dict[str, Any]) -> Iterable[str]:
    """The required fields ``doc`` does not give yet."""
    return (f for f, info in model.model_fields.items() if info.is_required() and f not in doc)
