"""The production shape of tracefreeze on one machine (``make cluster-up``): the real Temporal
server on PostgreSQL, a three-broker KRaft Kafka cluster, two workers, two bridges and the
codec server, each a process of its own, configured from the same definitions as deploy/.

- ``layout``: where the cluster lives, its ports (``Cluster``);
- ``build``: the Temporal server and schema tool, built once per version into the cache;
- ``postgres``, ``temporal_server``, ``brokers``, ``apps``: each part;
- ``control``: the commands ``up``, ``down``, ``status``.
"""
