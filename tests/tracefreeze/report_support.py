"""What the report tests share: the text of a PDF as a reader would copy it out (pypdf)."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader


def pdf_text(path: Path) -> str:
    """Every page's text, in order; a PDF file starts with ``%PDF``."""
    data = path.read_bytes()
    assert data.startswith(b"%PDF"), f"{path.name} is not a PDF"
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)
