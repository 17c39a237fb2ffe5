"""What ``make cluster-up`` runs is what deploy/ declares for production: the Temporal
server's config is generated from deploy/k8s/temporal-values.yaml, every topic gets the
replicas and config of deploy/k8s/base/kafka-topics.yaml (and compose's brokers agree), the
namespace is the one the workloads use (configmap), the search attributes registered are
those of the Kubernetes Job, the Temporal server's TLS is ``server.tls`` of the Helm values
(internode and frontend, mutual) and the UI server's is ``web.tls``.
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from temporalio.service import TLSConfig

from tests.deploy.deploy_files import K8S, compose, expected_search_attributes, load, named
from tests.stack import isolated
from tracefreeze.config import Settings, Topics
from tracefreeze.security import identity
from tracefreeze.security.temporal_tls import temporal_tls
from tracefreeze.stack.cluster import (
    brokers,
    postgres,
    temporal_certs,
    temporal_server,
    tls,
    ui_build,
    ui_server,
)
from tracefreeze.stack.cluster.layout import NAMESPACE, Cluster, ClusterOptions, Ports
from tracefreeze.stack.isolated import stack_env
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
            ports.temporal_ui,
        ]  # fmt: skip
        assert max(temporal) < 32768 and len(set(temporal)) == len(temporal)


def test_no_port_of_the_cluster_is_in_the_ephemeral_range() -> None:
    """A port picked in the kernel's ephemeral range (32768-60999) can be bound by another
    process's own ephemeral port before its owner starts: worker-1's SDK metrics endpoint took
    worker-2's health port and worker-2 died at start (found by the first cluster-demo)."""
    for _ in range(20):
        dumped = Ports.pick().model_dump()
        every = [p for v in dumped.values() for p in (v if isinstance(v, list) else [v])]
        assert max(every) < 32768 and len(set(every)) == len(every) == 23


def test_a_cluster_made_before_its_ui_server_gets_a_port_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ports.json written before the UI server existed is kept and given one low port."""
    old = Ports.pick().model_dump()
    del old["temporal_ui"]
    (tmp_path / "ports.json").write_text(json.dumps(old))
    monkeypatch.setenv("TRACEFREEZE_CLUSTER_DIR", str(tmp_path))
    cluster = Cluster.from_env(create=True)
    assert cluster.ports.model_dump() | {"temporal_ui": 0} == old | {"temporal_ui": 0}
    assert 0 < cluster.ports.temporal_ui < 32768
    assert cluster.ports.temporal_ui not in (cluster.ports.frontend, cluster.ports.history)
    assert json.loads((tmp_path / "ports.json").read_text())["temporal_ui"] == (
        cluster.ports.temporal_ui
    )


def test_the_temporal_tls_is_the_helm_values_on_the_local_ca(cluster: Cluster) -> None:
    (values,) = load(K8S / "temporal-values.yaml")
    helm = values["server"]["tls"]
    temporal_certs.ensure(cluster)
    made = temporal_server.config(cluster)["global"]["tls"]
    ca = str(tls.ca_file(cluster))
    for group in ("internode", "frontend"):
        assert helm[group]["enabled"] and helm[group]["requireClientAuth"]
        assert made[group]["server"]["requireClientAuth"] is True
        assert made[group]["server"]["clientCaFiles"] == [ca]
        client = {"serverName": helm[group]["serverName"], "rootCaFiles": [ca]}
        assert made[group]["client"] == client
        assert Path(made[group]["server"]["certFile"]).exists()
    # Each certificate is the CA's, for the production server name and the local address.
    issuer = x509.load_pem_x509_certificate(tls.ca_file(cluster).read_bytes())
    for group, name in (("internode", "temporal-internode"), ("frontend", "temporal-frontend")):
        cert = x509.load_pem_x509_certificate(Path(made[group]["server"]["certFile"]).read_bytes())
        cert.verify_directly_issued_by(issuer)
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert helm[group]["serverName"] == name in alt.get_values_for_type(x509.DNSName)
        assert ipaddress.ip_address("127.0.0.1") in alt.get_values_for_type(x509.IPAddress)
        key = Path(made[group]["server"]["keyFile"]).read_bytes()
        assert b"PRIVATE KEY" in key and b"CERTIFICATE" not in key
        assert Path(made[group]["server"]["keyFile"]).stat().st_mode & 0o077 == 0
    assert isinstance(issuer.public_key(), ec.EllipticCurvePublicKey)


def test_every_temporal_client_of_the_cluster_uses_the_production_server_name(
    cluster: Cluster,
) -> None:
    """The frontend's name of the Helm values is the one the clients check: ours (settings,
    cluster.env), the ``temporal`` CLI's (as the search-attribute Job sets it) and the UI's."""
    (values,) = load(K8S / "temporal-values.yaml")
    name = values["server"]["tls"]["frontend"]["serverName"]
    (job,) = load(K8S / "temporal-search-attributes-job.yaml")
    env = {
        e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["TEMPORAL_TLS_SERVER_NAME"] == name
    # The workloads too: they reach the Service's DNS name, the certificate names the frontend
    # (missing from the ConfigMap until the cluster's clients had to name it).
    configmap = named("ConfigMap", "tracefreeze-config")["data"]
    assert configmap["TRACEFREEZE_TEMPORAL_TLS_SERVER_NAME"] == name
    (cloud,) = load(K8S / "temporal-cloud" / "kustomization.yaml")
    removed = {
        op["path"]
        for patch in cloud["patches"]
        if patch["target"]["kind"] == "ConfigMap"
        for op in yaml.safe_load(patch["patch"])
        if op["op"] == "remove"
    }
    assert "/data/TRACEFREEZE_TEMPORAL_TLS_SERVER_NAME" in removed  # Cloud: its endpoint's name
    s = cluster.settings
    assert s.temporal_tls and s.temporal_tls_server_name == name
    assert s.temporal_tls_cert_file == tls.cert_file(cluster, temporal_certs.CLIENT)
    written = cluster.env()
    assert written["TRACEFREEZE_TEMPORAL_TLS_SERVER_NAME"] == written["TEMPORAL_TLS_SERVER_NAME"]
    assert written["TEMPORAL_TLS_CLIENT_KEY_PATH"] == str(s.temporal_tls_key_file)
    flags = temporal_server.cli_command(cluster, "operator", "cluster", "health")
    assert flags[flags.index("--tls-server-name") + 1] == name
    assert flags[flags.index("--tls-cert-path") + 1] == str(s.temporal_tls_cert_file)
    web = values["web"]
    ui = ui_server.config(cluster)
    assert ui["tls"]["serverName"] == web["tls"]["serverName"] == name
    assert ui["tls"]["enableHostVerification"] is web["tls"]["enableHostVerification"] is True


def test_a_plain_cluster_has_no_temporal_tls(tmp_path: Path) -> None:
    plain = Cluster(ClusterOptions(dir=tmp_path, secured=False), Ports.pick())
    assert "tls" not in temporal_server.config(plain)["global"]
    assert "tls" not in ui_server.config(plain)
    assert not plain.settings.temporal_tls and plain.settings.temporal_tls_cert_file is None
    assert not any("TEMPORAL_TLS" in name for name in plain.env())


def test_the_ui_server_is_the_web_ui_of_the_helm_values(cluster: Cluster) -> None:
    """Its default namespace is production's; its codec endpoint the cluster's codec server
    (production's is the codec server behind the ingress)."""
    (values,) = load(K8S / "temporal-values.yaml")
    web = {e["name"]: e["value"] for e in values["web"]["additionalEnv"]}
    ui = ui_server.config(cluster)
    assert ui["defaultNamespace"] == web["TEMPORAL_DEFAULT_NAMESPACE"] == NAMESPACE
    assert ui["codec"]["endpoint"] == f"http://127.0.0.1:{cluster.ports.codec}"
    assert ui["temporalGrpcAddress"] == cluster.settings.temporal_address
    assert ui["port"] == cluster.ports.temporal_ui == cluster.settings.temporal_ui_port
    assert cluster.env()["TRACEFREEZE_TEMPORAL_UI_PORT"] == str(cluster.ports.temporal_ui)


def test_the_ui_server_s_wrapper_module_replaces_only_the_refused_versions() -> None:
    """The generated go.mod requires the UI server at its version and swaps each refused
    requirement for a patch release of the same minor version, nothing else."""
    lines = ui_build.go_mod().splitlines()
    assert f"require {ui_build.UI_MODULE} {ui_build.UI_VERSION}" in lines
    replaced = [line.split() for line in lines if line.startswith("replace ")]
    assert len(replaced) == len(ui_build.REPLACE) == 2
    for _, module, old, arrow, same, new in replaced:
        assert arrow == "=>" and same == module
        assert old.rsplit(".", 1)[0] == new.rsplit(".", 1)[0] and old != new
    assert f'import _ "{ui_build.UI_COMMAND}"' in ui_build.tools_go()
    assert ui_build.tools_go().startswith("//go:build tools\n")


def test_a_process_started_for_the_cluster_gets_its_temporal_certificate(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A drill's or benchmark's worker and bridge (``stack_env`` of the cluster's settings)
    connect over mutual TLS as the cluster's own do: a plain-text one is refused now."""
    temporal_certs.ensure(cluster)
    env = stack_env(isolated(cluster.client_settings(), "tls"))
    for name in list(os.environ):
        if name.startswith("TRACEFREEZE_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    made = temporal_tls(Settings())
    assert isinstance(made, TLSConfig)
    assert made.domain == temporal_certs.server_name()
    assert made.client_cert == tls.cert_file(cluster, temporal_certs.CLIENT).read_bytes()
    assert made.server_root_ca_cert == tls.ca_file(cluster).read_bytes()


def test_the_temporal_authorization_is_the_helm_values_on_the_local_issuer(
    cluster: Cluster,
) -> None:
    """The frontend refuses a call without the Court's token in production as on the cluster
    here: the same ``server.config.authorization`` (claim mapper, authorizer, permissions
    claim, audience), the internal frontend for the server's own workers, the principal
    passed to history — only the key source differs (the local issuer's JWKS file)."""
    (values,) = load(K8S / "temporal-values.yaml")
    helm = values["server"]["config"]["authorization"]
    assert helm["authorizer"] == helm["claimMapper"] == "default"
    assert helm["audience"] == identity.AUDIENCE
    assert values["server"]["internal-frontend"]["enabled"] is True
    identity.ensure_demo_identities(cluster.dir, cluster.settings.temporal_namespace)
    temporal_server.write_config(cluster)
    made = yaml.safe_load((temporal_server.config_dir(cluster) / "config.yaml").read_text())
    local = made["global"]["authorization"]
    (uri,) = local["jwtKeyProvider"]["keySourceURIs"]
    assert uri == identity.jwks_file(cluster.dir).resolve().as_uri()
    assert Path(uri.removeprefix("file://")).exists()
    assert without_key_source(local) == without_key_source(helm)
    assert "internal-frontend" in made["services"]
    dynamic = yaml.safe_load(
        (temporal_server.config_dir(cluster) / "dynamicconfig.yaml").read_text()
    )
    for key, setting in values["server"]["dynamicConfig"].items():
        assert dynamic[key] == setting
    assert dynamic["frontend.enablePrincipalPropagation"] == [{"value": True, "constraints": {}}]


def without_key_source(block: dict[str, Any]) -> dict[str, Any]:
    return {**block, "jwtKeyProvider": {**block["jwtKeyProvider"], "keySourceURIs": []}}
