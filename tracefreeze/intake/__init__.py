"""Where a State's answer comes in: the Kafka consumer loop, the gate (size, signature,
replay), routing to the request, delivery as a workflow update, dead letters and replays."""
