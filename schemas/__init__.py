"""The contracts of tracefreeze: pydantic v2 models for requests, assets, State answers,
the ledger and outbound events. Imports pydantic only."""
