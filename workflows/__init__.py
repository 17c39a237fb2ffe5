"""The legal process as deterministic Temporal workflows."""
