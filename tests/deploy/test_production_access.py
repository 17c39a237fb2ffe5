"""deploy/ grants each workload only what it needs: the Kafka users and their ACLs, consumer
group and quotas match the code's ACL plan (each State reads its own channel and writes
answers only), the bridge scales on its lag, and NetworkPolicies deny by default and open only
the flows each workload needs. No server is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.deploy.deploy_files import (
    CODEC_PORT,
    K8S,
    container,
    k8s_docs,
    load,
    named,
    of_kind,
    service,
)
from tracefreeze.config import Settings
from tracefreeze.security.kafka_acls import acl_plan, state_principal
from tracefreeze.topics import party_channels, wanted_topics

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
