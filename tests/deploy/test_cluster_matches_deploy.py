"""What ``make cluster-up`` runs is what deploy/ declares for production: the Temporal
server's config is generated from deploy/k8s/temporal-values.yaml, every topic gets the
replicas and config of deploy/k8s/base/kafka-topics.yaml (and compose's brokers agree), the
namespace is the one the workloads use (configmap), and the search attributes registered are
those of the Kubernetes Job.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.deploy_files import K8S, compose, expected_search_attributes, load, named
from tracefreeze.config import Settings, Topics
from tracefreeze.stack.cluster import brokers, postgres, temporal_server
from tracefreeze.stack.cluster.layout import NAMESPACE, Cluster, ClusterOptions, Ports
from tracefreeze.topics import wanted_topics


@pytest.fixture
def cluster(tmp_path: Path) -> Cluster:
    return Cluster(ClusterOptions(dir=tmp_path), Ports.pick())


def test_the_temporal_config_is_the_helm_values_on_local_addresses(cluster: Cluster) -> None:
    (values,) = load(K8S / "temporal-values.yaml")
    helm = values["server"]["config"]["persistence"]
    made = temporal_server.config(cluster)["persistence"]
    assert made["numHistoryShards"] == helm["numHistoryShards"] == 512
    assert (made["defaultStore"], made["visibilityStore"]) == (
        helm["defaultStore"],
        helm["visibilityStore"],
    )
    for name, store in helm["datastores"].items():
        ours = made["datastores"][name]["sql"]
        for key in ("pluginName", "databaseName", "user", "maxConns", "maxIdleConns"):
            assert ours[key] == store["sql"][key], (name, key)
        assert ours["connectAddr"] == f"127.0.0.1:{cluster.ports.postgres}"
    assert made["datastores"]["visibility"]["sql"]["pluginName"] == "postgres12"
    assert postgres.USER == helm["datastores"]["default"]["sql"]["user"]


def test_the_namespace_and_its_retention_are_production_s() -> None:
    configmap = named("ConfigMap", "tracefreeze-config")["data"]
    assert configmap["TRACEFREEZE_TEMPORAL_NAMESPACE"] == NAMESPACE
    assert temporal_server.namespace_retention() == "30d"


def test_the_search_attributes_are_those_of_the_kubernetes_job() -> None:
    (job,) = load(K8S / "temporal-search-attributes-job.yaml")
    env = {
        e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    declared = dict(pair.split("=") for pair in env["SEARCH_ATTRIBUTES"].split())
    assert declared == expected_search_attributes()
    assert env["TEMPORAL_NAMESPACE"] == NAMESPACE


def test_every_topic_gets_the_replicas_and_config_production_declares() -> None:
    settings = Settings()
    configs = brokers.topic_configs(settings)
    assert set(configs) == set(wanted_topics(settings))
    specs = brokers.production_topics()
    for name, config in configs.items():
        assert specs[name]["replicas"] == brokers.REPLICATION == 3
        assert config["min.insync.replicas"] == str(brokers.MIN_INSYNC) == "2"
        assert config == {k: str(v) for k, v in specs[name]["config"].items()}


def test_a_drill_s_topics_take_the_config_of_their_role() -> None:
    tag = "drill-x"
    topics = Topics(
        state_answers=f"{tag}.state-answers",
        request_events=f"{tag}.request-events",
        escalations=f"{tag}.escalations",
        dead_letter=f"{tag}.dead-letter",
        party_channels=f"{tag}.party",
    )
    configs = brokers.topic_configs(Settings(topics=topics))
    assert configs[f"{tag}.dead-letter"]["retention.ms"] == "7776000000"
    assert configs[f"{tag}.party.nld.outbound"]["retention.ms"] == "2592000000"


def test_compose_s_brokers_replicate_as_the_cluster_does() -> None:
    env = compose()["x-kafka-env"]
    assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == str(brokers.REPLICATION)
    assert env["KAFKA_MIN_INSYNC_REPLICAS"] == str(brokers.MIN_INSYNC)
    assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == str(brokers.MIN_INSYNC)
    topics = compose()["services"]["kafka-topics"]["environment"]
    assert topics["REPLICATION_FACTOR"] == str(brokers.REPLICATION)
    assert topics["MIN_INSYNC_REPLICAS"] == str(brokers.MIN_INSYNC)
    props = brokers.properties(Cluster(ClusterOptions(), Ports.pick()), 1, [])
    for line in (
        "default.replication.factor=3",
        "min.insync.replicas=2",
        "offsets.topic.replication.factor=3",
        "transaction.state.log.min.isr=2",
    ):
        assert line in props.splitlines()


def compose_topics() -> dict[str, dict[str, str]]:
    """The compose topic job's ``TOPICS`` (``name:partitions:retention.ms``) by name, as the
    config it gives each topic."""
    env = compose()["services"]["kafka-topics"]["environment"]
    found = {}
    for item in env["TOPICS"].split():
        name, _, retention = item.split(":")
        found[name] = {
            "min.insync.replicas": env["MIN_INSYNC_REPLICAS"],
            "retention.ms": retention,
        }
    return found


def test_compose_s_topics_keep_records_as_long_as_production_declares() -> None:
    """Compose's topic job gives every topic the retention deploy/k8s declares for it (14
    days answers, events and escalations; 90 dead letters; 30 the parties' channels), as the
    local cluster does (``brokers.topic_configs``): a compose deployment must not drop a
    State's answer or a dead letter sooner than the manifests promise."""
    assert compose_topics() == brokers.topic_configs(Settings())
    script = " ".join(compose()["services"]["kafka-topics"]["command"])
    assert '--config retention.ms="$$retention"' in script
    assert '--add-config retention.ms="$$retention"' in script  # topics made before, too


def test_temporal_s_ports_fit_postgres_membership_table() -> None:
    """The schema keeps a service's membership port in a ``smallint``: a port of the
    ephemeral range (>= 32768) made the server exit at start (found by the first run)."""
    for _ in range(20):
        ports = Ports.pick()
        temporal = [
            ports.frontend, ports.frontend_http, ports.frontend_membership, ports.history,
            ports.history_membership, ports.matching, ports.matching_membership,
            ports.internal_worker, ports.internal_worker_membership, ports.temporal_metrics,
        ]  # fmt: skip
        assert max(temporal) < 32768 and len(set(temporal)) == len(temporal)
