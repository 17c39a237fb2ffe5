"""deploy/ agrees with the code: every file parses; topics, environment, search attributes and
ports match ``tracefreeze.config.Settings`` (its defaults, whatever the environment of the test
run) and ``workflows.search_attributes``. Where a Docker client with the compose plugin exists,
``docker compose config -q`` must pass too; the checks on the parsed YAML run either way.

Kafka users and network policies: test_production_access.py; images, secrets and Kafka
security: test_production_images.py. No server is needed.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.deploy.deploy_files import (
    APP_SERVICES,
    CODEC_PORT,
    COMPOSE,
    DOCKERFILE,
    DUMMY_CODEC_KEYS,
    ENV_NAME,
    HEALTH_PORT_ENV,
    K8S,
    compose,
    container,
    env_of,
    expected_search_attributes,
    k8s_docs,
    load,
    mount_of,
    named,
    of_kind,
    option,
    pairs,
    port_number,
    service,
    strings,
    valid_env_names,
    yaml_files,
)
from tests.environment import without_stack_environment
from tracefreeze.cli.main import main as cli
from tracefreeze.config import REPO_ROOT, Settings, Topics
from tracefreeze.record.writer import configured_dsn
from tracefreeze.security import codec, organ_keys, request_ids
from tracefreeze.security.key_registry import KEYS_FILE_ENV, state_keys_file
from tracefreeze.stack.cluster.apps import names_and_ports
from tracefreeze.stack.cluster.layout import BRIDGES, WORKERS
from tracefreeze.topics import wanted_topics

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


def test_kustomizations_build() -> None:
    """Where kubectl is installed, both kustomizations build (the Cloud overlay's guarded
    patches included: a ``test`` that fails stops the build), with the recorder in each and no
    Temporal token on Cloud. The parsed checks of the other tests run either way."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed here: the kustomizations are checked as parsed")
    built = {}
    for overlay in (K8S, K8S / "temporal-cloud"):
        result = subprocess.run(
            [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        built[overlay.name] = result.stdout
    for text in built.values():
        assert "name: tracefreeze-recorder\n" in text
    assert "TRACEFREEZE_TEMPORAL_TOKEN_FILE" in built["k8s"]
    assert "TRACEFREEZE_TEMPORAL_TOKEN_FILE" not in built["temporal-cloud"]
    assert "tracefreeze-temporal-token-" not in built["temporal-cloud"]


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
        without_stack_environment(monkeypatch)
        for name, value in env.items():
            mounted = name.endswith(("_CAFILE", "_CERTFILE", "_KEYFILE"))
            monkeypatch.setenv(name, str(stand_in) if mounted else str(value))
        settings = Settings()
        assert settings.topics == code.topics, where
        assert settings.bridge_group_id == code.bridge_group_id, where
        assert settings.task_queue == code.task_queue, where
        assert settings.temporal_namespace == "tracefreeze", where


# --- the recorder (issue 17) --------------------------------------------------------------

RECORDER_SECRETS = {
    "TRACEFREEZE_RECORD_DSN": "tracefreeze-record-store",  # Settings.record_dsn: None
    codec.KEYS_ENV: "tracefreeze-codec-keys",  # else unsealed, or a key file in the state dir
    request_ids.KEY_ENV: "tracefreeze-request-id-key",  # else a new key in the state dir
}
"""What the recorder cannot do without that has no usable default in a pod, by the code's
own names: each falls back to the state directory, an empty scratch folder there."""
RECORDER_FILES = {
    KEYS_FILE_ENV: "tracefreeze-state-signing-keys",  # else <state_dir>/keys/state-keys.toml
    organ_keys.FILE_ENV: "tracefreeze-organ-signing-keys",  # else <state_dir>/keys/...
    "TRACEFREEZE_KAFKA_SSL_CAFILE": "tracefreeze-cluster-ca-cert",
    "TRACEFREEZE_KAFKA_SSL_CERTFILE": "tracefreeze-recorder",  # its own KafkaUser
    "TRACEFREEZE_KAFKA_SSL_KEYFILE": "tracefreeze-recorder",
}


def recorder_fields_without_default() -> set[str]:
    """The Settings fields the record modules read (``settings.<field>``) whose default is
    None: each must be set."""
    read = set()
    for source in (REPO_ROOT / "tracefreeze" / "record").glob("*.py"):
        read |= set(re.findall(r"settings\.([a-z_]+)", source.read_text(encoding="utf-8")))
    unknown = read - set(Settings.model_fields)
    assert not unknown, unknown
    return {f"TRACEFREEZE_{f.upper()}" for f in read if Settings.model_fields[f].default is None}


def test_recorder_runs_as_the_local_stacks_do() -> None:
    """``tracefreeze recorder``, one replica never doubled by a rollout, and no port or probe:
    it serves no HTTP (``cluster.apps.names_and_ports`` gives it none)."""
    deployment = named("Deployment", "tracefreeze-recorder")
    c = container(deployment)
    assert c["args"] == ["recorder"] and "recorder" in cli.commands
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert names_and_ports_of_recorder() == 0
    assert "ports" not in c
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert "httpGet" not in c.get(probe, {}), probe
    config = named("ConfigMap", "tracefreeze-config")["data"]
    assert (
        config["TRACEFREEZE_RECORDER_GROUP_ID"]
        == Settings.model_fields["recorder_group_id"].default
    )


def names_and_ports_of_recorder() -> int:
    """The recorder's HTTP port as the production-shaped cluster starts it (0: none)."""
    ports = SimpleNamespace(workers=[1] * WORKERS, bridges=[1] * BRIDGES, codec=1)
    return names_and_ports(SimpleNamespace(ports=ports))["recorder"]  # type: ignore[arg-type]


def test_recorder_sets_every_variable_it_cannot_do_without(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each setting the recorder reads with no default (``Settings.record_dsn``) or only the
    state directory's (codec keys, request-id key, the two key registries: in the pod an
    empty scratch folder) is set from a required Secret; with the pod's environment the
    code's own resolvers find each in it, none in the state directory."""
    deployment = named("Deployment", "tracefreeze-recorder")
    env = env_of(deployment)
    assert recorder_fields_without_default() <= set(RECORDER_SECRETS)
    for name, secret in RECORDER_SECRETS.items():
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == secret and not ref.get("optional", False), name
    for name, secret in RECORDER_FILES.items():
        held = mount_of(deployment, env[name]["value"])
        assert held is not None, name
        assert held[1]["secret"]["secretName"] == secret, name
        assert not held[1]["secret"].get("optional", False), name
    assert env["TRACEFREEZE_KAFKA_SECURITY_PROTOCOL"]["value"] == "SSL"

    without_stack_environment(monkeypatch)
    for name, value in named("ConfigMap", "tracefreeze-config")["data"].items():
        monkeypatch.setenv(name, str(value))
    scratch = tmp_path / "state"
    monkeypatch.setenv("TRACEFREEZE_STATE_DIR", str(scratch))  # the pod's emptyDir
    monkeypatch.setenv("TRACEFREEZE_RECORD_DSN", "postgresql://recorder@db/record")
    monkeypatch.setenv(codec.KEYS_ENV, DUMMY_CODEC_KEYS)
    monkeypatch.setenv(request_ids.KEY_ENV, base64.b64encode(bytes(32)).decode())
    for name in (KEYS_FILE_ENV, organ_keys.FILE_ENV):
        monkeypatch.setenv(name, env[name]["value"])
    settings = Settings()
    assert configured_dsn(settings) == "postgresql://recorder@db/record"
    assert codec.codec_from_env(state_dir=settings.state_dir) is not None
    assert request_ids.request_id_key(settings.state_dir, ensure=True) == bytes(32)
    for path in (
        state_keys_file(settings.state_dir),
        organ_keys.organ_keys_file(settings.state_dir),
    ):
        assert mount_of(deployment, str(path)) is not None, path
    assert not scratch.exists(), "the recorder fell back to its state directory"


# --- topics -------------------------------------------------------------------------------


def test_compose_creates_the_topics_with_their_partitions(code: Settings) -> None:
    job = service("kafka-topics")
    env = job["environment"]
    declared = pairs(env["TOPICS"], ":")  # name -> partitions:retention.ms
    assert {k: int(v.split(":")[0]) for k, v in declared.items()} == wanted_topics(code)
    assert int(env["REPLICATION_FACTOR"]) == 3
    assert int(env["MIN_INSYNC_REPLICAS"]) == 2
    script = " ".join(job["command"])
    for needed in (
        "$$TOPICS",
        "--partitions",
        "--replication-factor",
        "min.insync.replicas",
        "retention.ms",
    ):
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
