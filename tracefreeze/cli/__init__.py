"""The ``tracefreeze`` command line for Court users and States' focal points."""
