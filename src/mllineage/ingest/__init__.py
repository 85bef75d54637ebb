"""Bytes -> a graph delta (pure, no I/O): strict JSON, native events and graph upserts,
OpenLineage, dataset identity, the delta. docs/architecture.md has the package map."""
