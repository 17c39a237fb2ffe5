"""The fault drills' own stack: Temporal + Kafka on other free ports, for tests/faults alone.

The drills kill the broker and the Temporal server with SIGKILL; on a stack of their own, a
drill that fails half-way never leaves the session's shared stack (``stack``) broken for the
tests that run after it. One stack serves every drill and the flood; each uses its own topics,
task queue and consumer group (``tests/faults/drill.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.faults.drill import RESULTS
from tests.faults.isolation import Isolation, isolation_drill
from tracefreeze.config import Settings
from tracefreeze.stack.errors import StackError
from tracefreeze.stack.isolated import running_stack


@pytest.fixture(scope="package")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A Temporal dev server + Kafka broker for the fault drills only (state kept in its dir)."""
    try:
        with running_stack(tmp_path_factory.mktemp("faults-stack")) as settings:
            yield settings
    except StackError as exc:
        pytest.fail(f"could not start the fault drills' stack:\n{exc}", pytrace=False)


@pytest.fixture
async def isolation(
    fault_stack: Settings, request: pytest.FixtureRequest
) -> AsyncIterator[Isolation]:
    """Worker and bridge of the requesting isolation drill's own (``tests/faults/isolation.py``)."""
    async with isolation_drill(fault_stack, request.node.name) as drill:
        yield drill


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RESULTS:
        terminalreporter.section("fault drills and flood: measured on the real stack")
        for line in RESULTS:
            terminalreporter.write_line(line)
