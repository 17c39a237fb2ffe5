"""tracefreeze runtime: configuration, worker, Kafka bridge, typed client and CLI."""
