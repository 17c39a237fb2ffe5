"""A benchmark run told to stop (SIGTERM: a CI job cancelled, ``kill``, a shell closing) stops
the stack it started on the way out. By default Python died at once and left the stack's
Temporal server and broker running, and on the cluster three brokers, PostgreSQL and the
server, which the next run then found in its way."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = [sys.executable, "-m", "bench.run", "--quick", "--only", "case", "--no-profile"]
STARTED = re.compile(r"^bench: Temporal .*; state (\S+)$")


def running_under(path: str) -> list[int]:
    """Pids whose command line names ``path`` (the stack's state dir)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if path in cmdline:
            pids.append(int(proc.name))
    return pids


def test_a_terminated_run_stops_its_stack(tmp_path: Path) -> None:
    run = subprocess.Popen(
        [*BENCH, "--results", str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    state = None
    try:
        assert run.stdout is not None
        seen = []
        for line in run.stdout:
            seen.append(line)
            if m := STARTED.match(line.strip()):
                state = m.group(1)
                break
        assert state is not None, f"the run never said its stack was up: {seen}"
        assert running_under(state), "the stack's services run under its state dir"
        run.send_signal(signal.SIGTERM)
        run.communicate(timeout=180)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    left = running_under(state)
    for pid in left:  # a failing run must not leave them behind for the next test either
        os.kill(pid, signal.SIGKILL)
    assert run.returncode != 0  # interrupted, not a result
    assert left == []
    assert not Path(state).exists()  # the state dir removed, as after a finished run
