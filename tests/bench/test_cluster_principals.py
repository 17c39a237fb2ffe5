"""On the secured cluster each benchmark app connects as the principal it needs
(``bench/stack.py`` ``cluster_principals``): the product's worker and bridge as their own
Kafka users, as in production; the bare worker with the workers' Temporal token (only a
worker may take tasks) and the benchmark's own Kafka user, which created the bare engine's
topics it sends to. With the worker's Kafka user every bare send was refused
(``TopicAuthorizationFailed``) and baseline (c) could not run on the cluster."""

from __future__ import annotations

from pathlib import Path

from bench.stack import cluster_principals
from tracefreeze.security.kafka_acls import BRIDGE, WORKER
from tracefreeze.stack.cluster.layout import Cluster, ClusterOptions, Ports

USER = "TRACEFREEZE_KAFKA_SASL_USERNAME"
PASSWORD = "TRACEFREEZE_KAFKA_SASL_PASSWORD"
TOKEN = "TRACEFREEZE_TEMPORAL_TOKEN_FILE"


def test_each_app_runs_as_the_principal_its_work_needs(tmp_path: Path) -> None:
    cluster = Cluster(ClusterOptions(dir=tmp_path, secured=True), Ports.pick())
    apps = cluster_principals(cluster)
    admin = cluster.kafka_env()
    assert admin[USER] == "admin"

    assert apps["worker"][USER] == WORKER
    assert apps["bridge"][USER] == BRIDGE
    assert apps["trivial-worker"][USER] == "admin"
    assert apps["trivial-worker"][PASSWORD] == admin[PASSWORD]
    # Temporal: the bare worker takes tasks as the product's worker does.
    assert apps["trivial-worker"][TOKEN] == apps["worker"][TOKEN]
    assert apps["worker"][TOKEN] != apps["bridge"][TOKEN]
    # Every Kafka variable of the bare worker is admin's, none left from the worker's user.
    kafka = {name for name in apps["trivial-worker"] if name.startswith("TRACEFREEZE_KAFKA_")}
    assert kafka == set(admin)
    assert all(apps["trivial-worker"][name] == admin[name] for name in kafka)
