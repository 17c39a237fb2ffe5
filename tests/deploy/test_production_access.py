"""deploy/ grants each workload only what it needs: the Kafka users and their ACLs, consumer
group and quotas match the code's ACL plan (each State reads its own channel and writes
answers only), the bridge scales on its lag, and NetworkPolicies deny by default and open only
the flows each workload needs; each Temporal client acts with its own principal's token, and
only the workers hold a private key of the Court (the relay's, never an organ's). No server
is needed.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from schemas.organ_keys import RELAY
from schemas.organs import Organ
from tests.deploy.deploy_files import (
    CODEC_PORT,
    K8S,
    container,
    env_of,
    k8s_docs,
    load,
    mount_of,
    named,
    of_kind,
    overlaid,
    pod,
    secret_names,
    service,
)
from tracefreeze.config import REPO_ROOT, Settings
from tracefreeze.security import organ_keys
from tracefreeze.security.identity import APP_PRINCIPALS
from tracefreeze.security.kafka_acls import acl_plan, state_principal
from tracefreeze.stack.cluster.authorization import ADMIN
from tracefreeze.topics import party_channels, wanted_topics

README = (K8S / "README.md").read_text(encoding="utf-8")
TOKEN_FILE_ENV = "TRACEFREEZE_TEMPORAL_TOKEN_FILE"

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
    """And the Court-internal signed originals of the Court's actions (the recorder's)."""
    rules = acls("tracefreeze-worker")
    assert all(kind == "topic" and "Read" not in ops for kind, _, ops in rules)
    writes = {name for kind, name, ops in rules if "Write" in ops}
    prefix = f"{code.topics.party_channels}."
    t = code.topics
    assert writes == {t.request_events, t.escalations, t.court_actions, prefix}
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
        # Kafka and the record store's PostgreSQL; it serves nothing (no HTTP, no /metrics).
        "recorder": ({53, 9093, 5432}, set()),
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
    recorder = pod_labels(named("Deployment", "tracefreeze-recorder"))
    (store,) = [r for r in allowed(recorder, "egress") if {p["port"] for p in r["ports"]} == {5432}]
    (peer,) = store["to"]
    assert peer["namespaceSelector"] and peer["podSelector"], "only the PostgreSQL server"
    database = {"kubernetes.io/metadata.name", "app.kubernetes.io/name"}
    assert all(label in README for label in database) and "5432" in README
    for other in ("tracefreeze-worker", "tracefreeze-bridge", "tracefreeze-codec-server"):
        rules = allowed(pod_labels(named("Deployment", other)), "egress")
        assert 5432 not in {p["port"] for r in rules for p in r["ports"]}, other


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


# --- Temporal principals (issue 17) ---------------------------------------------------------


def readme_row(secret: str) -> str:
    """The line of deploy/k8s/README.md's table of Secrets that names ``secret``."""
    rows = [line for line in README.splitlines() if line.lstrip().startswith(f"| `{secret}`")]
    assert len(rows) == 1, f"deploy/k8s/README.md lists {secret} {len(rows)} times"
    return rows[0]


def file_secret(workload: dict[str, Any], path: str, private: bool = True) -> dict[str, Any]:
    """The Secret volume that holds ``path`` in ``workload``: mounted whole (no ``subPath``,
    so a rotated Secret reaches the file), required, and, if ``private``, not readable by
    every user."""
    held = mount_of(workload, path)
    assert held is not None, f"{path} is on no volume of {workload['metadata']['name']}"
    mount, volume = held
    assert "secret" in volume, (path, volume)
    assert "subPath" not in mount, f"{path}: a subPath mount is never updated on rotation"
    secret = volume["secret"]
    assert not secret.get("optional", False), (path, secret)
    if private:
        assert secret.get("defaultMode", 0o644) & 0o007 == 0, f"{path}: readable by everyone"
    return secret


def test_every_secret_and_config_map_a_workload_reads_is_listed_by_name() -> None:
    """deploy/k8s/README.md's table says who makes each Secret a workload reads, and what
    goes in it: none is made by these files."""
    listed = set()
    for line in README.splitlines():
        if line.lstrip().startswith("| `") or line.lstrip().startswith("| ConfigMap `"):
            first = line.split("|")[1]
            listed |= {name for name in first.split("`")[1::2]}
    assert listed
    for workload in of_kind("Deployment") + of_kind("Job"):
        names = secret_names(workload)
        for volume in pod(workload).get("volumes", []):
            if "configMap" in volume:
                names.add(volume["configMap"]["name"])
        made_here = {o["metadata"]["name"] for o in of_kind("ConfigMap")}
        missing = names - listed - made_here
        assert not missing, (workload["metadata"]["name"], missing)


@pytest.mark.parametrize("app", sorted(APP_PRINCIPALS))
def test_each_temporal_client_acts_with_its_own_token(app: str) -> None:
    """The worker and the bridge act as their own principals (``identity.APP_PRINCIPALS``):
    each reads the token of its own Secret from a mounted file (re-read at every
    connection), never one shared through the ConfigMap; the production frontend refuses a
    client without one (temporal-values.yaml, ``server.config.authorization``)."""
    deployment = named("Deployment", f"tracefreeze-{app}")
    env = env_of(deployment)
    assert TOKEN_FILE_ENV in env, f"the {app} sends no token: the frontend refuses it"
    secret = file_secret(deployment, env[TOKEN_FILE_ENV]["value"])
    assert secret["secretName"] == f"tracefreeze-temporal-token-{app}"
    assert f"`{APP_PRINCIPALS[app]}`" in readme_row(secret["secretName"])
    config = named("ConfigMap", "tracefreeze-config")["data"]
    assert not any(name.startswith("TRACEFREEZE_TEMPORAL_TOKEN") for name in config)
    (values,) = load(K8S / "temporal-values.yaml")
    assert values["server"]["config"]["authorization"]["authorizer"] == "default"


def test_only_temporal_clients_hold_a_temporal_token() -> None:
    """Each token Secret is mounted by its one workload; the recorder and the codec server
    call no Temporal and get none."""
    holders: dict[str, set[str]] = {}
    for workload in of_kind("Deployment") + of_kind("Job"):
        for name in secret_names(workload):
            if name.startswith("tracefreeze-temporal-token-"):
                holders.setdefault(name, set()).add(workload["metadata"]["name"])
    expected = {
        f"tracefreeze-temporal-token-{app}": {f"tracefreeze-{app}"} for app in APP_PRINCIPALS
    }
    expected["tracefreeze-temporal-token-admin"] = {"tracefreeze-search-attributes"}
    assert holders == expected
    for name in ("tracefreeze-recorder", "tracefreeze-codec-server"):
        assert TOKEN_FILE_ENV not in env_of(named("Deployment", name)), name


def test_search_attribute_job_acts_as_the_admin() -> None:
    """The Job's CLI sends the admin's token (``TEMPORAL_API_KEY``, as ``make cluster-up``
    registers the attributes: ``authorization.cli_env``), read from its mounted Secret at
    each call; no call of the CLI goes without it."""
    job = named("Job", "tracefreeze-search-attributes")
    env = {name: e.get("value") for name, e in env_of(job).items()}
    secret = file_secret(job, env["TEMPORAL_TOKEN_FILE"])
    assert secret["secretName"] == "tracefreeze-temporal-token-admin"
    assert f"`{ADMIN}`" in readme_row(secret["secretName"])
    assert "TEMPORAL_API_KEY" not in env  # not a fixed value in the pod spec
    (c,) = pod(job)["containers"]
    script = " ".join(c["args"])
    assert 't() { TEMPORAL_API_KEY="$(cat "$TEMPORAL_TOKEN_FILE")" temporal "$@"; }' in script
    assert "temporal operator" not in script, "a CLI call without the token"
    assert script.count("t operator") >= 3


def test_secret_files_of_restricted_mode_are_readable_by_the_app() -> None:
    """A Secret mounted without read for everyone is owned by root and the pod's fsGroup:
    the pod needs that group, or its own process cannot read the file."""
    for workload in of_kind("Deployment") + of_kind("Job"):
        spec = pod(workload)
        for volume in spec.get("volumes", []):
            mode = volume.get("secret", {}).get("defaultMode", 0o644)
            if mode & 0o004 == 0:
                assert mode & 0o040, (workload["metadata"]["name"], volume["name"])
                group = spec["securityContext"].get("fsGroup")
                assert group == spec["securityContext"]["runAsGroup"], (
                    workload["metadata"]["name"],
                    volume["name"],
                )


@pytest.mark.parametrize("app", sorted(APP_PRINCIPALS))
def test_temporal_cloud_overlay_sends_no_identity_provider_token(app: str) -> None:
    """Temporal Cloud authenticates the client certificate, not the Court's identity
    provider's tokens: its overlay takes the token variable and its Secret away, leaving no
    mount without its volume."""
    cloud = overlaid(K8S / "temporal-cloud", "Deployment", f"tracefreeze-{app}")
    assert TOKEN_FILE_ENV not in env_of(cloud)
    assert not any(n.startswith("tracefreeze-temporal-token-") for n in secret_names(cloud))
    volumes = {v["name"] for v in pod(cloud)["volumes"]}
    assert {m["name"] for m in container(cloud)["volumeMounts"]} <= volumes
    assert TOKEN_FILE_ENV in env_of(named("Deployment", f"tracefreeze-{app}"))


# --- organ keys (issue 17) ----------------------------------------------------------------


def organ_env(workload: dict[str, Any]) -> dict[str, str]:
    env = env_of(workload)
    return {n: env[n]["value"] for n in (organ_keys.FILE_ENV, organ_keys.DIR_ENV) if n in env}


def test_worker_holds_the_relay_key_and_no_organ_s() -> None:
    """The worker signs relayed acts with the relay key, ``<dir>/relay/<key_id>.pem``
    (``organ_keys.relayed``): it mounts that folder, from its own Secret, and nothing else
    under the keys directory, so no organ's key can be on it (docs/signed-decisions.md,
    "Custody"); the organ key registry (public keys) is mounted beside it."""
    worker = named("Deployment", "tracefreeze-worker")
    env = organ_env(worker)
    assert set(env) == {organ_keys.FILE_ENV, organ_keys.DIR_ENV}, env
    keys_dir = PurePosixPath(env[organ_keys.DIR_ENV])
    under = [
        m["mountPath"]
        for m in container(worker)["volumeMounts"]
        if keys_dir in (PurePosixPath(m["mountPath"]), *PurePosixPath(m["mountPath"]).parents)
        or PurePosixPath(m["mountPath"]) in keys_dir.parents
    ]
    assert under == [str(keys_dir / RELAY)], under
    relay = file_secret(worker, str(organ_keys.key_path(keys_dir, RELAY, "relay-2026-1")))
    assert relay["secretName"] == "tracefreeze-relay-signing-key"
    assert relay["defaultMode"] & 0o222 == 0, "a private key mounted writable"
    for organ in Organ:
        assert mount_of(worker, str(organ_keys.key_path(keys_dir, organ, "k"))) is None, organ
    registry = file_secret(worker, env[organ_keys.FILE_ENV], private=False)  # public keys
    assert registry["secretName"] == "tracefreeze-organ-signing-keys"
    assert keys_dir not in PurePosixPath(env[organ_keys.FILE_ENV]).parents
    for secret in (relay, registry):
        readme_row(secret["secretName"])


def test_no_other_workload_holds_an_organ_or_relay_key() -> None:
    """The bridge verifies States' answers only (it reads no organ key, tracefreeze/intake);
    the recorder verifies with the registry's public keys; the codec server and the Job
    need neither. Only the worker mounts the relay key."""
    for workload in of_kind("Deployment") + of_kind("Job"):
        name = workload["metadata"]["name"]
        if name == "tracefreeze-worker":
            continue
        assert "tracefreeze-relay-signing-key" not in secret_names(workload), name
        assert organ_keys.DIR_ENV not in organ_env(workload), name
    bridge = named("Deployment", "tracefreeze-bridge")
    assert organ_env(bridge) == {}
    assert "tracefreeze-organ-signing-keys" not in secret_names(bridge)
    intake = REPO_ROOT / "tracefreeze" / "intake"
    for source in intake.rglob("*.py"):
        assert "organ_keys" not in source.read_text(encoding="utf-8"), source
