"""The Temporal server the cluster runs and production deploys (``deploy/temporal-server``)
is the module's own at the version the stack names, with one rule more: only a principal
holding the namespace's ``worker`` role takes or answers tasks. Its list of task calls is
checked against the module's own table of calls, so an upgrade that adds one fails here
rather than leaving it open to every ``write`` (the drill that the rule holds on the real
cluster is ``tests/faults/test_cluster_auth.py``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.deploy.deploy_files import K8S
from tracefreeze.security import identity
from tracefreeze.stack.cluster import build

SOURCE = build.SERVER_SOURCE
TASK_CALL = re.compile(
    r"^(Poll\w*TaskQueue|Respond\w*Task\w*|Record\w*Heartbeat\w*|ShutdownWorker|ResetStickyTaskQueue)$"
)
"""The module's calls that take, answer, fail or heartbeat a task, or end a worker's polls."""


def task_apis() -> set[str]:
    """The calls ``main.go`` grants to the worker role alone."""
    block = (SOURCE / "main.go").read_text().split("var taskAPIs = map[string]bool{", 1)[1]
    return set(re.findall(r'"(\w+)":\s*true', block.split("}", 1)[0]))


def test_the_server_is_the_modules_version_everywhere() -> None:
    version = build.TEMPORAL_VERSION
    required = re.search(r"^\s*(?:require\s+)?go\.temporal\.io/server (\S+)$", go_mod(), re.M)
    assert required is not None and required.group(1) == version
    assert f"FROM temporalio/server:{version.lstrip('v')}\n" in (SOURCE / "Dockerfile").read_text()
    values = yaml.safe_load((K8S / "temporal-values.yaml").read_text())
    assert values["server"]["image"]["tag"] == version.lstrip("v")
    assert values["server"]["config"]["authorization"]["authorizer"] == "default"  # wrapped


def go_mod() -> str:
    return (SOURCE / "go.mod").read_text()


def test_a_change_to_the_servers_source_builds_it_anew(tmp_path: Path) -> None:
    before = build.tools_dir(tmp_path)
    assert before.name == f"temporal-{build.TEMPORAL_VERSION}-{build.source_digest()}"
    assert len(build.source_digest()) == 12


def test_only_the_workers_hold_the_worker_role() -> None:
    holders = {u.subject for u in identity.DEMO_USERS if "worker" in u.roles}
    assert holders == {identity.APP_PRINCIPALS["worker"]}


def test_every_task_call_of_the_module_needs_the_worker_role() -> None:
    """Each call of the module's workflow service that takes or settles a task is in
    ``taskAPIs``, and every name there is one of the module's calls (a typo would leave the
    call it meant open)."""
    metadata = module_file("common/api/metadata.go")
    service = metadata.split("workflowServiceMetadata = map[string]MethodMetadata{", 1)[1]
    calls = set(re.findall(r'^\s*"(\w+)":\s*\{', service.split("\n}", 1)[0], re.MULTILINE))
    assert len(calls) > 50, "the module's table of calls was not found"
    granted = task_apis()
    assert granted <= calls, granted - calls
    assert {c for c in calls if TASK_CALL.match(c)} <= granted


def module_file(path: str) -> str:
    """A file of the server module as Go's module cache holds it (the cluster's build put it
    there); not run without that build, like the cluster's drills."""
    from tests.faults.cluster import require_build

    require_build("the check of the server's task calls against its module")
    return (build.module_dir() / path).read_text()


def test_the_authorizers_table_of_who_may_call_what() -> None:
    """``main_test.go``: each kind of principal (a person's write, a worker, an admin, the
    server's internal principal, a reader, no token) against the task calls, the writes a
    person may make, those refused to it (reset, terminate, delete, standalone activities,
    batches, schedules, a start that terminates, a call a later Temporal adds) and reads;
    run with the cluster's build (its Go packages compiled: ``-trimpath`` as there)."""
    from tests.faults.cluster import require_build

    require_build("the server authorizer's Go tests")
    done = subprocess.run(
        [build.go_binary(), "test", "-trimpath", "-count=1", "."],
        cwd=SOURCE,
        env=build.go_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ok" in done.stdout
