"""Reading a document a Court user hands the CLI: JSON first, then the contract it must meet.

Not JSON, or not valid for its contract: the user is told what is wrong, field by field, and
the command exits 2 before anything reaches the server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

INVALID_DOCUMENT = 2
"""Exit code of a command whose input document is not JSON or not valid."""


def field_errors(err: ValidationError) -> list[str]:
    """Each validation error as ``field.path: message``."""
    lines = []
    for e in err.errors():
        path = ".".join(str(part) for part in e["loc"]) or "(document)"
        lines.append(f"{path}: {e['msg']}")
    return lines


def read_json(file: Path) -> Any:
    """The document in ``file``; exit 2 if it is not JSON."""
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        click.secho(f"{file}: not valid JSON: {err}", fg="red", err=True)
        raise SystemExit(INVALID_DOCUMENT) from err


def validate(file: Path, model: type[M], doc: Any, what: str) -> M:
    """``doc`` as a ``model``; exit 2 listing each field in error."""
    try:
        return model.model_validate(doc)
    except ValidationError as err:
        click.secho(f"{file}: the {what} is invalid:", fg="red", err=True)
        for line in field_errors(err):
            click.echo(f"  {line}", err=True)
        raise SystemExit(INVALID_DOCUMENT) from err


def load_document(file: Path, model: type[M], what: str) -> M:
    """Read and validate a document in one go."""
    return validate(file, model, read_json(file), what)
