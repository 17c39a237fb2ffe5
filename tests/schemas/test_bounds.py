"""Every value a party sends has a bound, checked by the contract (issue 11, §1 and §6).

Systematic: each inbound contract is taken from a valid instance of every kind (each State
answer, each Court action, the request, the case order; tests/schemas/inbound.py), and every
date-time, text and list found in it is replaced by a hostile value in turn; the contract must
refuse each one at that field. Date-times, amounts and event ids: test_value_formats.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import answers as a
from tests.schemas.inbound import INBOUND

STRUCTURAL = {"answer_type", "specversion"}
"""Fields whose value is fixed by the contract (a literal): not texts a party writes."""


def _leaves(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, doc
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _leaves(value, (*path, i))


def _with(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    doc = json.loads(json.dumps(doc))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _mutations() -> Iterator[Any]:
    """(kind, path, hostile value) for every date-time, text and list of every contract."""
    for kind, model in INBOUND:
        doc = model.model_dump(mode="json")
        for path, value in _leaves(doc):
            if not path or path[-1] in STRUCTURAL:
                continue
            where = ".".join(map(str, path))
            if _is_datetime(value):
                for hostile in (
                    "0001-01-01T00:00:00Z",
                    "2002-06-30T23:59:59Z",
                    "9999-12-31T23:59:59Z",
                    "2200-01-01T00:00:00+00:00",
                ):
                    yield pytest.param(kind, path, hostile, id=f"{kind}:{where}={hostile[:10]}")
            elif isinstance(value, str) and not (isinstance(path[-1], int) and len(path) > 1):
                yield pytest.param(kind, path, "x" * 100_001, id=f"{kind}:{where}=long")
            elif isinstance(value, list):
                item = value[0] if value else "x"
                yield pytest.param(kind, path, [item] * 10_001, id=f"{kind}:{where}=10001")
            elif isinstance(value, str):  # an item of a list of texts or ids
                yield pytest.param(kind, path, "x" * 100_001, id=f"{kind}:{where}=long")


def _validate(kind: str, doc: Any) -> None:
    model = dict(INBOUND)[kind]
    if isinstance(model, a.AnswerBase):
        a.STATE_ANSWER.validate_json(json.dumps(doc))
    else:
        type(model).model_validate_json(json.dumps(doc))


@pytest.mark.parametrize(("kind", "path", "hostile"), list(_mutations()))
def test_every_date_text_and_list_is_bounded(
    kind: str, path: tuple[Any, ...], hostile: Any
) -> None:
    original = dict(INBOUND)[kind].model_dump(mode="json")
    _validate(kind, original)  # the instance itself is valid
    with pytest.raises(ValidationError):
        _validate(kind, _with(original, path, hostile))


def test_the_mutations_cover_every_kind_of_field() -> None:
    """Guard for the test above: it did find date-times, texts and lists in every contract."""
    kinds = {p.values[0] for p in _mutations()}
    assert kinds == {kind for kind, _ in INBOUND}
    hostile = [p.values[2] for p in _mutations()]
    assert sum(v == "0001-01-01T00:00:00Z" for v in hostile) >= 20
    assert sum(isinstance(v, list) for v in hostile) >= 20
