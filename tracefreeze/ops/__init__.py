"""What an SRE watches: structured logs, metrics, traces and the health endpoint."""
