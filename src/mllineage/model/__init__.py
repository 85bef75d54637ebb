"""The vocabulary: kinds, edge rules, identity, properties, lifecycle views, answer models
and errors (pure, no I/O). docs/architecture.md has the package map."""
