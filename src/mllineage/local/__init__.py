"""Local servers for machines without Docker: a real Neo4j Community server from Maven
Central, and the API on a free port for the tests and the benchmarks."""

from mllineage.local.api import LocalApi
from mllineage.local.neo4j import LocalNeo4j, Neo4jLocalError, Status, free_port, provision

__all__ = ["LocalApi", "LocalNeo4j", "Neo4jLocalError", "Status", "free_port", "provision"]
