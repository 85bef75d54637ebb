"""Local servers for machines without Docker: a real Neo4j Community server and a real Apache
Kafka from Maven Central, and the API on a free port for the tests and the benchmarks."""

from mllineage.local.api import LocalApi
from mllineage.local.java import LocalServerError, free_port
from mllineage.local.kafka import KafkaLocalError, LocalKafka
from mllineage.local.neo4j import LocalNeo4j, Neo4jLocalError, Status, provision

__all__ = [
    "KafkaLocalError",
    "LocalApi",
    "LocalKafka",
    "LocalNeo4j",
    "LocalServerError",
    "Neo4jLocalError",
    "Status",
    "free_port",
    "provision",
]
