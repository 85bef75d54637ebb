"""A real Neo4j Community server from Maven Central, for machines without Docker."""

from mllineage.neo4j_local.server import LocalNeo4j, Neo4jLocalError, Status, free_port, provision

__all__ = ["LocalNeo4j", "Neo4jLocalError", "Status", "free_port", "provision"]
