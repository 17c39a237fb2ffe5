"""deploy/kafka-security.md agrees with the KafkaUsers and the Deployments of deploy/k8s."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.certs import self_signed
from tests.environment import without_stack_environment
from tracefreeze.config import REPO_ROOT, Settings

DOC = REPO_ROOT / "deploy" / "kafka-security.md"
BASE = REPO_ROOT / "deploy" / "k8s" / "base"
ROW = re.compile(r"^\| `?([a-z0-9<>-]+)`?[^|]*\| (topic|group)s? ([^|]+)\| ([^|]+)\|")


def documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((BASE / name).read_text(encoding="utf-8")) if d]


def user_acls() -> dict[str, set[tuple[str, str, frozenset[str]]]]:
    return {
        user["metadata"]["name"]: {
            (a["resource"]["type"], a["resource"]["name"], frozenset(a["operations"]))
            for a in user["spec"]["authorization"]["acls"]
        }
        for user in documents("kafka-users.yaml")
        if user["kind"] == "KafkaUser"
    }


def documented() -> dict[str, set[tuple[str, str, frozenset[str]]]]:
    """The ACL table's rows of principals that have a KafkaUser (not consumers, operators)."""
    rows: dict[str, set[tuple[str, str, frozenset[str]]]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if not match:
            continue
        principal, kind, names, operations = match.groups()
        ops = frozenset(op.strip() for op in operations.split(","))
        for name in re.findall(r"`([^`]+)`", names):
            rows.setdefault(principal, set()).add((kind, name, ops))
    return rows


def test_every_kafka_user_is_documented_with_exactly_its_acls() -> None:
    users = user_acls()
    assert {"tracefreeze-bridge", "tracefreeze-worker", "state-nld"} <= set(users)
    rows = documented()
    for user, acls in users.items():
        if user.startswith("state-"):  # the rows of state-<iso3>, with this State's code
            code = user.removeprefix("state-")
            key = "state-<iso3>"
            rows[user] = {(k, n.replace("<iso3>", code), ops) for k, n, ops in rows[key]}
        assert rows.get(user) == acls, (user, rows.get(user))


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    fields = [f for f in Settings.model_fields if f.startswith(("kafka_s", "kafka_ssl"))]
    assert len(fields) == 7
    for field in fields:
        assert f"`TRACEFREEZE_{field.upper()}`" in text, field


@pytest.mark.parametrize("deployment", ["bridge", "worker", "recorder"])
def test_deployments_use_mutual_tls_with_their_mounted_secrets(
    deployment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [spec] = [d for d in documents(f"{deployment}.yaml") if d["kind"] == "Deployment"]
    pod = spec["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["TRACEFREEZE_KAFKA_SECURITY_PROTOCOL"] == "SSL"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    user_secret = volumes["kafka-user"]["secret"]
    assert user_secret["secretName"] == f"tracefreeze-{deployment}"  # its own KafkaUser
    for name in ("CAFILE", "CERTFILE", "KEYFILE"):
        path = Path(env[f"TRACEFREEZE_KAFKA_SSL_{name}"])
        volume = volumes[mounts[str(path.parent)]]
        assert not volume["secret"].get("optional", False), (name, volume)

    # The same variables validate as Settings once the files exist.
    without_stack_environment(monkeypatch)
    cert, key = self_signed(tmp_path)
    files = {"ca.crt": cert, "user.crt": cert, "user.key": key}
    for variable, value in env.items():
        if variable.startswith("TRACEFREEZE_KAFKA_"):
            monkeypatch.setenv(variable, str(files.get(Path(value).name, value)))
    assert Settings().kafka_security_protocol == "SSL"
