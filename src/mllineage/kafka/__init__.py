"""Kafka ingestion: the consumer that writes a topic's events into Neo4j, and its metrics."""
