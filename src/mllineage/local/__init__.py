"""A real Neo4j Community server from Maven Central, for machines without Docker."""

from mllineage.local.neo4j import LocalNeo4j, Neo4jLocalError, Status, free_port, provision

__all__ = ["LocalNeo4j", "Neo4jLocalError", "Status", "free_port", "provision"]
