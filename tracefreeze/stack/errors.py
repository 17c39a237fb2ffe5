"""The one error of the local stack: what failed, said in one line (the CLI prints it)."""

from __future__ import annotations

from pathlib import Path

from tracefreeze.errors import TracefreezeError


class StackError(TracefreezeError):
    """A service of the local stack could not be started, checked or stopped."""


def tail_of(log: Path, lines: int = 40) -> str:
    """The last lines of a log, to follow an error's one line (empty if there is no log)."""
    try:
        text = log.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return f"\nlast lines of {log}:\n" + "\n".join(f"  | {line}" for line in text)
