"""No trace reaches a person (#19): the CLI and the demo end every failure in one line saying
what is missing or refused and what to do (``tracefreeze/ops/failures.py``)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from click.testing import CliRunner
from selenium.common.exceptions import WebDriverException
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from tests.builders import court_request
from tracefreeze.cli import main as cli
from tracefreeze.config import Settings
from tracefreeze.errors import TracefreezeError
from tracefreeze.ops.failures import explain
from tracefreeze.report.snapshot import reachable
from tracefreeze.stack.ports import free_ports


@pytest.mark.parametrize(
    ("err", "line"),
    [
        (TracefreezeError("cannot reach Temporal"), "cannot reach Temporal"),
        (
            WorkflowUpdateFailedError(
                ApplicationError("close: assets still restrained", type="AnswerRejected")
            ),
            "refused: close: assets still restrained",
        ),
        (
            WorkflowUpdateFailedError(
                ApplicationError("could not be applied (KeyError)", type="AnswerNotApplied")
            ),
            "not applied (AnswerNotApplied): could not be applied (KeyError)",
        ),
        (ExceptionGroup("tasks", [KafkaConnectionError("gone")]), "Kafka is not reachable"),
        (RuntimeError(), "unexpected RuntimeError: no message"),
        (
            RPCError("workflow not found for ID: request/X/NLD", RPCStatusCode.NOT_FOUND, b""),
            "not found on the Temporal server: workflow not found for ID: request/X/NLD",
        ),
        (
            RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b""),
            "the Temporal server did not answer (UNAVAILABLE): is the stack up? try `make up`",
        ),
        (KafkaConnectionError("no broker"), "Kafka is not reachable"),
        (KafkaTimeoutError(), "Kafka refused (KafkaTimeoutError)"),
        (
            WebDriverException("unknown error: net::ERR_CONNECTION_REFUSED\n  (Session info)"),
            "the headless browser failed (unknown error: net::ERR_CONNECTION_REFUSED)",
        ),
        (FileNotFoundError(2, "No such file or directory", "req.json"), "(req.json)"),
        (ZeroDivisionError("division by zero"), "unexpected ZeroDivisionError: division by zero"),
    ],
)
def test_every_failure_is_one_line_that_says_what_to_do(err: BaseException, line: str) -> None:
    text = explain(err)
    assert line in text
    assert "\n" not in text and "Traceback" not in text


def test_the_cli_turns_an_unexpected_fault_into_one_line(monkeypatch, tmp_path) -> None:
    """A fault no rule foresaw (here: the request file's reader breaks) is one line, exit 1."""
    path = tmp_path / "request.json"
    path.write_text(court_request().model_dump_json(), encoding="utf-8")

    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("tracefreeze.cli.main.load_document", broken)
    result = CliRunner().invoke(cli.main, ["submit", "--check", "--offline", str(path)])
    assert result.exit_code == 1, result.output
    assert "error: unexpected ZeroDivisionError: division by zero" in result.output
    assert "Traceback" not in result.output


def test_the_cli_without_a_server_says_how_to_start_one() -> None:
    """A real process against a port where nothing listens: one line, exit 1, no trace."""
    (port,) = free_ports(1)
    env = {"TRACEFREEZE_TEMPORAL_ADDRESS": f"127.0.0.1:{port}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "tracefreeze", "status", "ICC-01/22-REQ-0007"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "make up" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_an_unreachable_ui_is_one_clear_error() -> None:
    """The demo's screenshot step looks for the UI first and says where it looked."""
    (port,) = free_ports(1)
    with pytest.raises(
        TracefreezeError, match=f"the Temporal UI is not reachable at http://127.0.0.1:{port}/"
    ):
        reachable(f"http://127.0.0.1:{port}/namespaces/default/workflows/x")


async def test_the_demo_outputs_complete_without_the_ui(stack: Settings, capsys) -> None:
    """On the real stack with the UI looked for where none runs, the screenshot step is one
    line and the outputs step ends (the demo goes on to its end). The report is built over
    the whole shared test namespace, where other tests leave payloads under keys this process
    does not hold: whether it is written or not, it is one line too."""
    from tracefreeze.client import RequestClient
    from tracefreeze.demo.walk import show_outputs

    (port,) = free_ports(1)
    settings = stack.model_copy(update={"temporal_ui_port": port})
    client = await RequestClient.connect(settings)
    whole = await show_outputs(settings, client, "request/ICC-01/22-REQ-NONE/NLD")
    out = capsys.readouterr().out
    report = [line for line in out.splitlines() if "cooperation report" in line]
    assert len(report) == 1, out
    assert report[0].startswith("cooperation report (" if whole else "(no cooperation report: ")
    assert f"(no UI screenshot: the Temporal UI is not reachable at http://127.0.0.1:{port}/" in out
    assert "Traceback" not in out
