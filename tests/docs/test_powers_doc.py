"""The documented table of powers is the one the workflow enforces."""

from __future__ import annotations

from pathlib import Path

from workflows.powers_doc import markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "powers.md"


def test_doc_table_matches_the_catalog() -> None:
    assert DOC.read_text() == markdown(), (
        "docs/powers.md is stale: python -m workflows.powers_doc > docs/powers.md"
    )
