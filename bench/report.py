"""Tables on stdout and JSON under ``bench/results/``."""

from __future__ import annotations

import json
import math
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.{digits}f}"
    return str(value)


def spread(s: dict[str, float], digits: int = 1) -> str:
    """``median (min-max)`` of a ``common.summary``."""
    return f"{fmt(s['median'], digits)} ({fmt(s['min'], digits)}-{fmt(s['max'], digits)})"


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = [f"\n== {title} ==", "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append(line)
    for row in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(out)


def verdict(met: bool | None) -> str:
    if met is None:
        return "n/a"
    return "met" if met else "MISSED"


def write_json(name: str, data: dict[str, Any], directory: Path = RESULTS_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    meta = {
        "benchmark": name,
        "written_at": stamp,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": _cpus(),
    }
    path = directory / f"{name}.json"
    path.write_text(json.dumps({"meta": meta, **data}, indent=2, default=str) + "\n")
    return path


def _cpus() -> int | None:
    import os

    return os.cpu_count()
