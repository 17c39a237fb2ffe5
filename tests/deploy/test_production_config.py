"""deploy/ agrees with the code: topics, environment, ports, search attributes, users, images.

No server is needed. Every YAML file under deploy/ is parsed; the compose file, the
Kubernetes manifests and the Dockerfile are checked against ``tracefreeze.config.Settings``
(its defaults, whatever the environment of the test run) and ``workflows.search_attributes``.
Where a Docker client with the compose plugin exists, ``docker compose config -q`` must pass
too; the checks on the parsed YAML run either way.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from tracefreeze.config import REPO_ROOT, Settings, Topics
from tracefreeze.security.kafka_acls import acl_plan, state_principal
from tracefreeze.topics import party_channels, wanted_topics
from workflows.search_attributes import ALL, dev_server_flags

DEPLOY = REPO_ROOT / "deploy"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
K8S = DEPLOY / "k8s"
HEALTH_PORT_ENV = "TRACEFREEZE_HEALTH_PORT"
"""Being added with the health endpoints; accepted before it is a Settings field."""
DUMMY_CODEC_KEYS = "k1:" + "A" * 43 + "="
"""For `docker compose config`: the compose file requires TRACEFREEZE_CODEC_KEYS."""
CODEC_PORT = 8081
APP_SERVICES = ("worker", "bridge", "codec-server")
ENV_NAME = re.compile(r"TRACEFREEZE_[A-Z0-9_]*[A-Z0-9]")
PINNED_PYTHON = re.compile(r"^python:\d+\.\d+\.\d+-slim-[a-z]+@sha256:[0-9a-f]{64}$")
"""A base image by tag *and* digest (the tag for readers, the digest decides)."""
LOCK = DEPLOY / "docker" / "requirements.lock"
BUILD_LOCK = DEPLOY / "docker" / "build-requirements.lock"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|PWD|_KEYS\b")


# --- loading ------------------------------------------------------------------------------


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def k8s_docs() -> list[dict[str, Any]]:
    """Every Kubernetes object under deploy/k8s (not kustomizations, not Helm values)."""
    docs = []
    for path in yaml_files():
        if K8S not in path.parents or path.name == "kustomization.yaml":
            continue
        docs += [d for d in load(path) if isinstance(d, dict) and "kind" in d]
    return docs


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in k8s_docs() if d["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in of_kind(kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def compose() -> dict[str, Any]:
    (doc,) = load(COMPOSE)
    return doc


def service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"compose has no service {name}"
    return services[name]


def strings(node: Any) -> Iterator[str]:
    """Every key and string value in a parsed YAML document, recursively."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def pairs(text: str, sep: str) -> dict[str, str]:
    """``"a=b c=d"`` -> ``{"a": "b", "c": "d"}`` (the lists in the jobs' environments)."""
    return dict(item.split(sep, 1) for item in text.split())


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def port_number(c: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in c.get("ports", []) if p.get("name") == port]
    return number


def option(args: list[str], flag: str) -> str:
    assert flag in args, f"{flag} missing from {args}"
    return args[args.index(flag) + 1]


# --- the code's configuration -------------------------------------------------------------


@pytest.fixture
def code(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The defaults of Settings, not the environment of this run (the stack fixture sets
    TRACEFREEZE_* variables for the whole session)."""
    for name in list(os.environ):
        if name.startswith("TRACEFREEZE_"):
            monkeypatch.delenv(name)
    return Settings()


def env_constants() -> set[str]:
    """Variables a tracefreeze module reads itself (``X_ENV = "TRACEFREEZE_..."`` at module
    level, e.g. the codec keys), found without importing the module."""
    names = set()
    for path in (REPO_ROOT / "tracefreeze").rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
                and node.value.value.startswith("TRACEFREEZE_")
                and any(isinstance(t, ast.Name) and t.id.endswith("_ENV") for t in node.targets)
            ):
                names.add(node.value.value)
    return names


def valid_env_names() -> set[str]:
    """TRACEFREEZE_<FIELD>, TRACEFREEZE_<FIELD>__<SUBFIELD> for nested models, and the
    variables that modules read directly."""
    names = {HEALTH_PORT_ENV} | env_constants()
    for field, info in Settings.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= {f"TRACEFREEZE_{field}__{sub}".upper() for sub in annotation.model_fields}
        else:
            names.add(f"TRACEFREEZE_{field}".upper())
    return names


def expected_search_attributes() -> dict[str, str]:
    flags = dev_server_flags()
    registered = pairs(" ".join(flags[1::2]), "=")
    assert set(registered) == {key.name for key in ALL}
    return registered


# --- every file parses --------------------------------------------------------------------


def test_every_yaml_under_deploy_parses() -> None:
    files = yaml_files()
    assert COMPOSE in files
    assert any(K8S in p.parents for p in files)
    for path in files:
        docs = load(path)
        assert docs, f"{path} holds no YAML document"
        for doc in docs:
            assert isinstance(doc, dict), f"{path}: a document that is not a mapping"


def test_k8s_objects_have_kind_and_name() -> None:
    objects = k8s_docs()
    assert {o["kind"] for o in objects} >= {
        "ConfigMap",
        "Deployment",
        "PodDisruptionBudget",
        "ScaledObject",
        "KafkaTopic",
        "KafkaUser",
        "Job",
    }
    for o in objects:
        assert o.get("apiVersion"), o
        assert o.get("metadata", {}).get("name"), o


def test_kustomizations_list_files_that_exist() -> None:
    for path in K8S.rglob("kustomization.yaml"):
        (doc,) = load(path)
        for entry in doc.get("resources", []):
            assert (path.parent / entry).exists(), f"{path}: {entry} does not exist"


# --- environment --------------------------------------------------------------------------


def test_every_tracefreeze_variable_is_a_settings_field() -> None:
    valid = valid_env_names()
    used: dict[str, set[str]] = {}
    for path in yaml_files():
        for doc in load(path):
            for text in strings(doc):
                for name in ENV_NAME.findall(text):
                    used.setdefault(name, set()).add(str(path.relative_to(REPO_ROOT)))
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith("#"):
            for name in ENV_NAME.findall(line):
                used.setdefault(name, set()).add("deploy/docker/Dockerfile")
    assert used, "no TRACEFREEZE_* variable found under deploy/"
    unknown = {name: sorted(where) for name, where in used.items() if name not in valid}
    assert not unknown, f"read by no code (not Settings fields, no *_ENV): {unknown}"


def test_environments_are_valid_settings(
    code: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The compose services' and the ConfigMap's values validate as Settings and keep the
    code's topics and consumer group (files mounted in the containers: a stand-in here)."""
    stand_in = tmp_path / "mounted-file"
    stand_in.write_text("mounted in the container\n", encoding="utf-8")
    environments = {f"compose {s}": service(s)["environment"] for s in APP_SERVICES}
    environments["ConfigMap"] = named("ConfigMap", "tracefreeze-config")["data"]
    for where, env in environments.items():
        for name in list(os.environ):
            if name.startswith("TRACEFREEZE_"):
                monkeypatch.delenv(name)
        for name, value in env.items():
            mounted = name.endswith(("_CAFILE", "_CERTFILE", "_KEYFILE"))
            monkeypatch.setenv(name, str(stand_in) if mounted else str(value))
        settings = Settings()
        assert settings.topics == code.topics, where
        assert settings.bridge_group_id == code.bridge_group_id, where
        assert settings.task_queue == code.task_queue, where
        assert settings.temporal_namespace == "tracefreeze", where


# --- topics -------------------------------------------------------------------------------


def test_compose_creates_the_topics_with_their_partitions(code: Settings) -> None:
    job = service("kafka-topics")
    env = job["environment"]
    assert {k: int(v) for k, v in pairs(env["TOPICS"], ":").items()} == wanted_topics(code)
    assert int(env["REPLICATION_FACTOR"]) == 3
    assert int(env["MIN_INSYNC_REPLICAS"]) == 2
    script = " ".join(job["command"])
    for needed in ("$$TOPICS", "--partitions", "--replication-factor", "min.insync.replicas"):
        assert needed in script, needed
    brokers = [s for s in compose()["services"] if re.fullmatch(r"kafka-\d+", s)]
    assert len(brokers) == 3


def test_strimzi_topics_match_the_code(code: Settings) -> None:
    topics = of_kind("KafkaTopic")
    found = {t["spec"].get("topicName", t["metadata"]["name"]): t["spec"] for t in topics}
    assert {name: spec["partitions"] for name, spec in found.items()} == wanted_topics(code)
    for name, spec in found.items():
        assert spec["replicas"] == 3, name
        assert int(spec["config"]["min.insync.replicas"]) == 2, name
    assert Topics() == code.topics


# --- search attributes --------------------------------------------------------------------


def test_compose_registers_every_search_attribute(code: Settings) -> None:
    job = service("temporal-search-attributes")
    env = job["environment"]
    assert pairs(env["SEARCH_ATTRIBUTES"], "=") == expected_search_attributes()
    namespace = service("worker")["environment"]["TRACEFREEZE_TEMPORAL_NAMESPACE"]
    assert env["NAMESPACE"] == namespace
    assert service("temporal")["environment"]["DEFAULT_NAMESPACE"] == namespace
    assert "search-attribute create" in " ".join(job["command"])
    assert job["depends_on"]["temporal"]["condition"] == "service_healthy"


def test_k8s_job_registers_every_search_attribute() -> None:
    job = named("Job", "tracefreeze-search-attributes")
    (c,) = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert pairs(env["SEARCH_ATTRIBUTES"], "=") == expected_search_attributes()
    config = named("ConfigMap", "tracefreeze-config")["data"]
    assert env["TEMPORAL_NAMESPACE"] == config["TRACEFREEZE_TEMPORAL_NAMESPACE"]
    assert env["TEMPORAL_ADDRESS"] == config["TRACEFREEZE_TEMPORAL_ADDRESS"]
    assert "search-attribute create" in " ".join(c["args"])
    assert re.fullmatch(r"temporalio/admin-tools:\d+\.\d+\.\d+", c["image"])


def test_temporal_helm_values_create_the_namespace() -> None:
    (values,) = load(K8S / "temporal-values.yaml")
    namespace = named("ConfigMap", "tracefreeze-config")["data"]["TRACEFREEZE_TEMPORAL_NAMESPACE"]
    namespaces = values["server"]["config"]["namespaces"]
    assert namespaces["create"] is True
    assert namespace in {n["name"] for n in namespaces["namespace"]}
    for store in values["server"]["config"]["persistence"]["datastores"].values():
        assert store["sql"]["pluginName"].startswith("postgres")
    assert values["server"]["tls"]["frontend"]["enabled"] is True
    assert values["server"]["tls"]["frontend"]["requireClientAuth"] is True
    assert values["server"]["tls"]["internode"]["enabled"] is True


def test_temporal_cloud_notes_list_every_search_attribute() -> None:
    notes = (K8S / "temporal-cloud" / "README.md").read_text(encoding="utf-8")
    for name, kind in expected_search_attributes().items():
        assert f"{name}={kind}" in notes, name


# --- Kafka users, consumer group, autoscaling ---------------------------------------------


def acls(user: str) -> list[tuple[str, str, set[str]]]:
    spec = named("KafkaUser", user)["spec"]
    assert spec["authentication"]["type"] == "tls"
    return [
        (a["resource"]["type"], a["resource"]["name"], set(a["operations"]))
        for a in spec["authorization"]["acls"]
    ]


def test_bridge_user_reads_answers_in_its_group_and_writes_dead_letters(code: Settings) -> None:
    rules = acls("tracefreeze-bridge")
    groups = {name for kind, name, _ in rules if kind == "group"}
    assert groups == {code.bridge_group_id}
    reads = {name for kind, name, ops in rules if kind == "topic" and "Read" in ops}
    writes = {name for kind, name, ops in rules if kind == "topic" and "Write" in ops}
    assert reads == {code.topics.state_answers}
    assert writes == {code.topics.dead_letter}


def test_worker_user_writes_events_escalations_and_party_channels_only(code: Settings) -> None:
    rules = acls("tracefreeze-worker")
    assert all(kind == "topic" and "Read" not in ops for kind, _, ops in rules)
    writes = {name for kind, name, ops in rules if "Write" in ops}
    prefix = f"{code.topics.party_channels}."
    assert writes == {code.topics.request_events, code.topics.escalations, prefix}
    assert all(channel.startswith(prefix) for channel in party_channels(code).values())


def test_each_state_reads_its_own_channel_and_writes_answers_only(code: Settings) -> None:
    """Issue 11 section 3: a State receives its own requests and nothing else."""
    channels = party_channels(code)
    users = {u["metadata"]["name"] for u in of_kind("KafkaUser")}
    assert {state_principal(c) for c in channels} <= users
    for state, channel in channels.items():
        user = state_principal(state)
        rules = acls(user)
        reads = {(kind, name) for kind, name, ops in rules if "Read" in ops}
        writes = {(kind, name) for kind, name, ops in rules if "Write" in ops}
        assert reads == {("topic", channel), ("group", user)}, user
        assert writes == {("topic", code.topics.state_answers)}, user
        assert all(ops <= {"Read", "Write", "Describe"} for _, _, ops in rules), user


def test_each_state_user_has_client_quotas() -> None:
    """Issue 11 section 2: per-State rate limits on answers, enforced by the brokers."""
    for user in of_kind("KafkaUser"):
        if not user["metadata"]["name"].startswith("state-"):
            continue
        quotas = user["spec"]["quotas"]
        assert 0 < quotas["producerByteRate"] <= 1_048_576, user["metadata"]["name"]
        assert 0 < quotas["requestPercentage"] <= 25, user["metadata"]["name"]
        assert quotas["consumerByteRate"] > 0


def test_kafka_users_are_the_acl_plan(code: Settings) -> None:
    """deploy/k8s and the local secured broker grant the same (``security.kafka_acls``)."""
    found = set()
    for user in of_kind("KafkaUser"):
        for a in user["spec"]["authorization"]["acls"]:
            r = a["resource"]
            pattern = "prefix" if r["patternType"] == "prefix" else "literal"
            found.add(
                (user["metadata"]["name"], r["type"], r["name"], pattern, *sorted(a["operations"]))
            )
    planned = {
        (a.principal, a.resource, a.name, a.pattern, *sorted(a.operations)) for a in acl_plan(code)
    }
    assert found == planned


def test_every_acl_names_a_known_topic(code: Settings) -> None:
    topics = set(wanted_topics(code))
    for user in of_kind("KafkaUser"):
        for a in user["spec"]["authorization"]["acls"]:
            name, where = a["resource"]["name"], (user["metadata"]["name"], a["resource"]["name"])
            if a["resource"]["type"] != "topic":
                continue
            if a["resource"]["patternType"] == "prefix":
                assert any(t.startswith(name) for t in topics), where
            else:
                assert name in topics, where


def test_bridge_scales_on_its_lag_up_to_the_partitions(code: Settings) -> None:
    scaled = named("ScaledObject", "tracefreeze-bridge")["spec"]
    assert scaled["scaleTargetRef"]["name"] == "tracefreeze-bridge"
    assert 1 <= scaled["minReplicaCount"] <= scaled["maxReplicaCount"]
    assert scaled["maxReplicaCount"] <= code.topics.partitions()[code.topics.state_answers]
    (trigger,) = scaled["triggers"]
    query = trigger["metadata"]["query"]
    assert "kafka_consumergroup_lag" in query
    assert f'consumergroup="{code.bridge_group_id}"' in query
    assert f'topic="{code.topics.state_answers}"' in query
    for env in (
        named("ConfigMap", "tracefreeze-config")["data"],
        service("bridge")["environment"],
    ):
        assert env["TRACEFREEZE_BRIDGE_GROUP_ID"] == code.bridge_group_id


# --- ports --------------------------------------------------------------------------------


def test_compose_health_checks_use_the_health_port() -> None:
    for name in ("worker", "bridge"):
        s = service(name)
        port = int(s["environment"][HEALTH_PORT_ENV])
        check = " ".join(s["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/readyz" in check, name


def test_compose_codec_server_and_ui_agree(code: Settings) -> None:
    codec = service("codec-server")
    port = int(option(codec["command"], "--port"))
    assert port == CODEC_PORT
    assert option(codec["command"], "--host") == "0.0.0.0"
    origin = codec["environment"]["TRACEFREEZE_CODEC_CORS_ORIGIN"]
    assert origin == f"http://localhost:{code.temporal_ui_port}"
    assert f"127.0.0.1:{port}:{port}" in codec["ports"]
    assert f"127.0.0.1', {port}" in " ".join(codec["healthcheck"]["test"]) or (
        f"127.0.0.1:{port}/healthz" in " ".join(codec["healthcheck"]["test"])
    )
    ui = service("temporal-ui")
    # The UI reaches the codec server through the operator's TLS proxy and passes its
    # signed-in user's token, which the codec server verifies (issue 11, section 5).
    endpoint = ui["environment"]["TEMPORAL_CODEC_ENDPOINT"]
    assert endpoint.startswith("${CODEC_PUBLIC_URL:?"), endpoint
    assert ui["environment"]["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    assert ui["environment"]["TEMPORAL_AUTH_ENABLED"] == "true"
    assert codec["environment"]["TRACEFREEZE_CODEC_AUTH"] == "jwt"
    assert codec["environment"]["TRACEFREEZE_CODEC_ALLOWED_HOSTS"]
    assert "TRACEFREEZE_CODEC_ENCODE" not in codec["environment"]
    assert ui["depends_on"]["codec-server"]["condition"] == "service_healthy"
    # The UI and the frontend are published where the CLI's defaults look for them.
    assert f"127.0.0.1:{code.temporal_ui_port}:8080" in ui["ports"]
    assert ui["environment"]["TEMPORAL_CORS_ORIGINS"].endswith(f":{code.temporal_ui_port}")
    grpc_port = code.temporal_address.rsplit(":", 1)[1]
    assert f"127.0.0.1:{grpc_port}:7233" in service("temporal")["ports"]


def test_compose_apps_reach_the_services_by_name() -> None:
    env = service("worker")["environment"]
    host, port = env["TRACEFREEZE_TEMPORAL_ADDRESS"].rsplit(":", 1)
    assert host in compose()["services"] and port == "7233"
    for broker in env["TRACEFREEZE_KAFKA_BOOTSTRAP"].split(","):
        host, port = broker.rsplit(":", 1)
        advertised = service(host)["environment"]["KAFKA_ADVERTISED_LISTENERS"]
        assert f"CLIENT://{host}:{port}" in advertised.split(","), broker


def test_k8s_probes_use_the_health_port_and_paths() -> None:
    health = int(named("ConfigMap", "tracefreeze-config")["data"][HEALTH_PORT_ENV])
    for name in ("tracefreeze-worker", "tracefreeze-bridge"):
        c = container(named("Deployment", name))
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = c[probe]["httpGet"]
            assert get["path"] == path, (name, probe)
            assert port_number(c, get["port"]) == health, (name, probe)


def test_k8s_codec_server_port_is_consistent() -> None:
    c = container(named("Deployment", "tracefreeze-codec-server"))
    port = int(option(c["args"], "--port"))
    assert port == CODEC_PORT
    assert option(c["args"], "--host") == "0.0.0.0"
    assert port_number(c, "http") == port
    (svc_port,) = named("Service", "tracefreeze-codec-server")["spec"]["ports"]
    assert svc_port["port"] == port
    assert port_number(c, svc_port["targetPort"]) == port


# --- security, drain, images --------------------------------------------------------------


def test_compose_apps_run_as_non_root_read_only() -> None:
    for name in APP_SERVICES:
        s = service(name)
        uid = int(str(s["user"]).split(":")[0])
        assert uid != 0, name
        assert s["read_only"] is True, name
        assert s["build"]["dockerfile"] == "deploy/docker/Dockerfile", name
        assert (COMPOSE.parent / s["build"]["context"] / s["build"]["dockerfile"]).is_file()
    for name in ("worker", "bridge"):
        assert service(name)["deploy"]["replicas"] == 2, name


def test_k8s_apps_run_as_non_root_with_limits_and_a_drain() -> None:
    for name in ("tracefreeze-worker", "tracefreeze-bridge", "tracefreeze-codec-server"):
        pod = named("Deployment", name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["terminationGracePeriodSeconds"] >= 30, name
        c = container(named("Deployment", name))
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["capabilities"]["drop"] == ["ALL"], name
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind]), (name, kind)
        assert {"configMapRef": {"name": "tracefreeze-config"}} in c["envFrom"], name
        keys = {e["name"]: e for e in c["env"]}["TRACEFREEZE_CODEC_KEYS"]
        ref = keys["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "tracefreeze-codec-keys" and not ref.get("optional"), name


def test_every_k8s_app_has_a_disruption_budget() -> None:
    selectors = [p["spec"]["selector"]["matchLabels"] for p in of_kind("PodDisruptionBudget")]
    for name in ("tracefreeze-worker", "tracefreeze-bridge"):
        labels = named("Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert any(s.items() <= labels.items() for s in selectors), name


def test_dockerfile_is_pinned_and_non_root() -> None:
    lines = [
        line.strip()
        for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    bases = [line.split()[1] for line in lines if line.upper().startswith("FROM ")]
    assert len(bases) >= 2, "expected a multi-stage build"
    for base in bases:
        assert PINNED_PYTHON.match(base), f"base image not pinned by digest: {base}"
    assert len(set(bases)) == 1, f"the stages' base images differ: {bases}"
    final_stage = lines[max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))]
    after = lines[lines.index(final_stage) :]
    users = [line.split()[1] for line in after if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root"), users
    assert 'ENTRYPOINT ["tracefreeze"]' in lines
    assert 'CMD ["worker"]' in lines
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    text = "\n".join(lines)
    assert "/readyz" in text
    assert f"{HEALTH_PORT_ENV}=8080" in text


def test_no_image_is_unpinned() -> None:
    images = [s["image"] for s in compose()["services"].values() if "image" in s]
    for o in k8s_docs():
        pod = o.get("spec", {}).get("template", {}).get("spec", {})
        images += [c["image"] for c in pod.get("containers", [])]
    assert images
    for image in images:
        if image == "tracefreeze":  # tagged by kustomize (images: newTag)
            continue
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest" and re.search(r"\d", tag), image
    (base,) = load(K8S / "base" / "kustomization.yaml")
    assert any(i["name"] == "tracefreeze" and i.get("newTag") for i in base["images"])


# --- docker compose config ----------------------------------------------------------------


def compose_plugin() -> str | None:
    """The docker client, if it has a working compose plugin."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    try:
        answer = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return docker if answer.returncode == 0 else None


def test_compose_file_is_valid() -> None:
    """Always: the structure compose relies on. With a compose plugin: `config -q` too."""
    doc = compose()
    services = doc["services"]
    for name in ("postgresql", "temporal", "temporal-search-attributes", "temporal-ui"):
        assert name in services, name
    assert {"kafka-1", "kafka-2", "kafka-3", "kafka-topics", *APP_SERVICES} <= set(services)
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, s in services.items():
        assert "image" in s or "build" in s, name
        for dependency, rule in (s.get("depends_on") or {}).items():
            assert dependency in services, (name, dependency)
            assert rule["condition"] in conditions, (name, dependency)
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], (name, dependency)
    volumes = set(doc.get("volumes") or {})
    for name, s in services.items():
        for mount in s.get("volumes", []):
            source = mount.split(":", 1)[0]
            if source.startswith("${"):  # a file the operator provides (required variable)
                assert re.fullmatch(r"\$\{[A-Z0-9_]+", source) and ":?" in mount, (name, mount)
                continue
            assert source in volumes, (name, source)
    docker = compose_plugin()
    if docker is not None:
        required = re.findall(r"\$\{([A-Z0-9_]+):\?", COMPOSE.read_text(encoding="utf-8"))
        env = {**os.environ, **{name: "set-by-test" for name in required}}
        env["TRACEFREEZE_CODEC_KEYS"] = DUMMY_CODEC_KEYS
        result = subprocess.run(
            [docker, "compose", "-f", str(COMPOSE), "config", "-q"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert result.returncode == 0, result.stderr


# --- issue 11: secrets, Kafka security, image supply chain, network policies ----------------


def test_compose_has_no_default_passwords() -> None:
    """Every secret is required from the operator (``${VAR:?}``): compose refuses to start
    without it, and no development password ships in the file."""
    text = COMPOSE.read_text(encoding="utf-8")
    defaults = re.findall(r"\$\{([A-Z0-9_]+):?-", text)
    assert not [v for v in defaults if SECRET_NAME.search(v)], defaults
    secrets: dict[str, str] = {}
    for s_name, s in compose()["services"].items():
        for name, value in (s.get("environment") or {}).items():
            if SECRET_NAME.search(name) and name != "TRACEFREEZE_CODEC_ACTIVE_KEY":
                secrets[f"{s_name}.{name}"] = str(value)
    assert len(secrets) >= 10, secrets
    for where, value in secrets.items():
        assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", value), f"{where} = {value!r}"


def test_compose_kafka_is_tls_everywhere_and_sasl_for_clients() -> None:
    env = service("kafka-1")["environment"]
    protocols = pairs(env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].replace(",", " "), ":")
    assert protocols and set(protocols.values()) <= {"SSL", "SASL_SSL"}, protocols
    assert env["KAFKA_SSL_CLIENT_AUTH"] == "required"  # controllers and brokers: mutual TLS
    for name in ("kafka-1", "kafka-2", "kafka-3"):
        advertised = service(name)["environment"]["KAFKA_ADVERTISED_LISTENERS"]
        for listener in advertised.split(","):
            assert listener.split("://")[0] in protocols, (name, listener)
        assert "kafka-tls:/etc/kafka/tls:ro" in service(name)["volumes"]
    users = compose_scram_users()
    for name in ("worker", "bridge"):
        app = service(name)["environment"]
        assert app["TRACEFREEZE_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert app["TRACEFREEZE_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", name
        assert app["TRACEFREEZE_KAFKA_SASL_USERNAME"] in users, name
        cafile = Path(app["TRACEFREEZE_KAFKA_SSL_CAFILE"])
        mounts = [m.split(":") for m in service(name)["volumes"]]
        assert any(cafile.parent == Path(target) for _, target, *_ in mounts), name
    assert "CLIENT" in env["KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___512_SASL_JAAS_CONFIG"] or (
        "ScramLoginModule" in env["KAFKA_LISTENER_NAME_CLIENT_SCRAM___SHA___512_SASL_JAAS_CONFIG"]
    )


def compose_scram_users() -> set[str]:
    script = " ".join(service("kafka-topics")["command"])
    return set(re.findall(r"--entity-name (\S+) --add-config \"SCRAM-SHA-512=", script))


def lock_entries(path: Path) -> dict[str, tuple[str, list[str]]]:
    """``name -> (version, hashes)`` of a pip-compile ``--generate-hashes`` file."""
    entries: dict[str, tuple[str, list[str]]] = {}
    text = path.read_text(encoding="utf-8")
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        head = block.strip().splitlines()[0] if block.strip() else ""
        match = re.match(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", head)
        if not match:
            continue
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})\b", block)
        entries[match[1].lower().replace("_", "-")] = (match[2], hashes)
    return entries


def test_image_dependencies_are_locked_with_hashes() -> None:
    from packaging.requirements import Requirement
    from packaging.version import Version

    lock = lock_entries(LOCK)
    assert len(lock) >= 20, "the lock holds the whole dependency closure"
    for name, (version, hashes) in lock.items():
        assert hashes, f"{name}=={version} has no --hash"
    lines = [line for line in LOCK.read_text(encoding="utf-8").splitlines()]
    options = [line for line in lines if line.startswith("-")]
    assert not options, f"index or link options in the lock: {options}"
    import tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for spec in project["project"]["dependencies"]:
        requirement = Requirement(spec)
        name = requirement.name.lower().replace("_", "-")
        assert name in lock, f"{name} is a dependency but not in {LOCK.name}"
        assert Version(lock[name][0]) in requirement.specifier, (spec, lock[name][0])
    build = lock_entries(BUILD_LOCK)
    for spec in project["build-system"]["requires"]:
        requirement = Requirement(spec)
        name = requirement.name.lower()
        assert name in build and build[name][1], f"build requirement {name} not locked"
        assert Version(build[name][0]) in requirement.specifier

    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert "--require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "--require-hashes --no-deps -r build-requirements.lock" in dockerfile
    assert "--no-build-isolation" in dockerfile
    assert "pip install --upgrade" not in dockerfile  # nothing unpinned is fetched
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    for path in (LOCK, BUILD_LOCK):
        assert f"!{path.relative_to(REPO_ROOT)}" in ignore.splitlines()


def test_health_server_binds_loopback_unless_configured(code: Settings) -> None:
    """127.0.0.1 on a developer's machine; the pods set 0.0.0.0 for the kubelet."""
    assert code.health_host == "127.0.0.1"
    assert named("ConfigMap", "tracefreeze-config")["data"]["TRACEFREEZE_HEALTH_HOST"] == "0.0.0.0"
    for name in ("worker", "bridge"):  # compose probes from inside the container
        assert "TRACEFREEZE_HEALTH_HOST" not in service(name)["environment"]


async def test_health_server_listens_where_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from tracefreeze.config import get_settings
    from tracefreeze.ops import http as ops_http

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.delenv("TRACEFREEZE_HEALTH_HOST", raising=False)
    get_settings.cache_clear()
    try:
        async with ops_http.serving(port, "probe-test", lambda: True):
            assert ops_http._server is not None
            assert ops_http._server.server_address[0] == "127.0.0.1"
        monkeypatch.setenv("TRACEFREEZE_HEALTH_HOST", "0.0.0.0")  # as in the pods
        get_settings.cache_clear()
        async with ops_http.serving(port, "probe-test", lambda: True):
            assert ops_http._server.server_address[0] == "0.0.0.0"
        async with ops_http.serving(port, "probe-test", lambda: True, host="127.0.0.1"):
            assert ops_http._server.server_address[0] == "127.0.0.1"
    finally:
        get_settings.cache_clear()


# --- NetworkPolicies ------------------------------------------------------------------------

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["metadata"]["labels"]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not selector:
        return True
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        value = labels.get(expression["key"])
        operator = expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and value is None:
            return False
        if operator == "DoesNotExist" and value is not None:
            return False
    return True


def workloads() -> list[dict[str, Any]]:
    return [o for o in k8s_docs() if o["kind"] in WORKLOAD_KINDS]


def policies_for(labels: dict[str, str]) -> list[dict[str, Any]]:
    return [p for p in of_kind("NetworkPolicy") if selects(p["spec"]["podSelector"], labels)]


def allowed(labels: dict[str, str], direction: str) -> list[dict[str, Any]]:
    rules = []
    for policy in policies_for(labels):
        rules += policy["spec"].get(direction, []) or []
    return rules


def test_every_workload_is_denied_by_default_both_ways() -> None:
    assert workloads()
    for workload in workloads():
        labels = pod_labels(workload)
        deny = [
            p
            for p in policies_for(labels)
            if set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress")
            and not p["spec"].get("egress")
        ]
        assert deny, f"{workload['metadata']['name']}: no default-deny NetworkPolicy"
    (base,) = load(K8S / "base" / "kustomization.yaml")
    assert "networkpolicies.yaml" in base["resources"]


def test_no_network_rule_is_open_to_everyone() -> None:
    for policy in of_kind("NetworkPolicy"):
        name = policy["metadata"]["name"]
        for rule in policy["spec"].get("ingress", []) or []:
            assert rule.get("from"), f"{name}: an ingress rule from anywhere"
            assert rule.get("ports"), f"{name}: an ingress rule on every port"
        for rule in policy["spec"].get("egress", []) or []:
            assert rule.get("to"), f"{name}: an egress rule to anywhere"
            assert rule.get("ports"), f"{name}: an egress rule on every port"


def test_each_workload_gets_only_the_flows_it_needs() -> None:
    needs = {  # egress ports each workload may open, ingress ports it accepts
        "worker": ({53, 7233, 9093}, {8080}),
        "bridge": ({53, 7233, 9093}, {8080}),
        "search-attributes": ({53, 7233}, set()),
        "codec-server": (set(), {CODEC_PORT}),
    }
    seen = set()
    for workload in workloads():
        labels = pod_labels(workload)
        component = labels["app.kubernetes.io/component"]
        seen.add(component)
        egress_ports, ingress_ports = needs[component]
        egress = {p["port"] for r in allowed(labels, "egress") for p in r["ports"]}
        ingress = {p["port"] for r in allowed(labels, "ingress") for p in r["ports"]}
        assert egress == egress_ports, (component, egress)
        assert ingress == ingress_ports, (component, ingress)
    assert seen == set(needs), seen
    codec = {"app.kubernetes.io/name": "tracefreeze", "app.kubernetes.io/component": "codec-server"}
    (rule,) = allowed(codec, "ingress")
    (peer,) = rule["from"]
    assert peer["namespaceSelector"] and peer["podSelector"], "only the ingress controller"


def test_k8s_codec_server_verifies_the_ui_users_token() -> None:
    c = container(named("Deployment", "tracefreeze-codec-server"))
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["TRACEFREEZE_CODEC_AUTH"] == "jwt"
    assert env["TRACEFREEZE_CODEC_JWT_ISSUER"] and env["TRACEFREEZE_CODEC_JWT_AUDIENCE"]
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert str(Path(env["TRACEFREEZE_CODEC_JWT_KEYS_FILE"]).parent) in mounts
    assert env["TRACEFREEZE_CODEC_ALLOWED_HOSTS"]
    assert "TRACEFREEZE_CODEC_ENCODE" not in env
    assert c["readinessProbe"]["httpGet"]["path"] == "/healthz"
    (values,) = load(K8S / "temporal-values.yaml")
    ui = {e["name"]: e["value"] for e in values["web"]["additionalEnv"]}
    assert ui["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    assert ui["TEMPORAL_CODEC_ENDPOINT"].startswith("https://")
