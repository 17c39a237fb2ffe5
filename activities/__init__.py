"""Side effects on the workflows' behalf: publishing events to Kafka (idempotent by event id)."""
