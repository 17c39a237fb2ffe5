"""Every history a test's workers wrote replays: the determinism check of the live tests.

The committed histories (tests/workflows/histories) cover the paths someone thought of; the
live tests make histories no one planned — a flood of answers, a case handing over after every
report, Temporal killed mid-flow — and a non-determinism there strands a request for good
(RS 93(1)(k): the request must go on whatever arrives). So the tests that make such histories
replay each one afterwards, with the workers' own workflows, sandbox and codec (not the
history bound: a replay of a running request applies its last events, and must).
"""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Replayer

from tracefreeze import context_free
from tracefreeze.worker import sandbox_runner
from workflows.case import CaseWorkflow
from workflows.party_directory import PartyDirectoryWorkflow
from workflows.request import RequestWorkflow


async def histories_that_do_not_replay(
    client: Client, task_queue: str, keep: Path | None = None
) -> dict[str, str]:
    """Workflow id and run id → the replay failure, for every run (closed ones too, each run
    of a continued request) on ``task_queue``. Empty: all replayed; checked to be non-empty.
    With ``keep``, each history that does not replay is written there (JSON), to replay and
    read after the test's server is gone."""
    replayer = Replayer(
        workflows=[RequestWorkflow, CaseWorkflow, PartyDirectoryWorkflow],
        data_converter=client.data_converter,
        workflow_runner=context_free.around(sandbox_runner(), client.data_converter),
    )
    failures: dict[str, str] = {}
    replayed = 0
    async for run in client.list_workflows(f"TaskQueue = '{task_queue}'"):
        history = await client.get_workflow_handle(run.id, run_id=run.run_id).fetch_history()
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        replayed += 1
        if result.replay_failure is not None:
            failures[f"{run.id} {run.run_id}"] = str(result.replay_failure)[:400]
            if keep is not None:
                _keep(keep / f"{run.run_id}.json", history.to_json())
    assert replayed > 0 or keep is not None, f"no history on {task_queue} to replay"
    return failures


def _keep(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
