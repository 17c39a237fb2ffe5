"""Benchmarks of tracefreeze against the bare engines; run with ``python -m bench.run``."""
