"""The Kafka consumer's Prometheus metrics, served on 127.0.0.1 when a port is given.

A registry of its own, so the consumer's series never mix with another component's in the
same process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class ConsumerMetrics:
    def __init__(self, port: int | None) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "mllineage_consumer_messages",
            "Messages handled, by outcome (written to Neo4j, or dead-lettered)",
            ["outcome"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "mllineage_consumer_batch_seconds",
            "From poll to commit, per batch (retries while Neo4j is down included)",
            registry=self.registry,
        )
        self.lag_messages = Gauge(
            "mllineage_consumer_lag",
            "Messages past the group's committed offset, per assigned partition",
            ["partition"],
            registry=self.registry,
        )
        self.holding_batch = Gauge(
            "mllineage_consumer_holding",
            "1 while a batch waits for Neo4j (partitions paused)",
            registry=self.registry,
        )
        if port is not None:
            start_http_server(port, addr="127.0.0.1", registry=self.registry)

    def batch(self, written: int, dead_lettered: int, seconds: float) -> None:
        self.messages.labels("written").inc(written)
        self.messages.labels("dead_lettered").inc(dead_lettered)
        self.batch_seconds.observe(seconds)

    def lag(self, lag: dict[int, int]) -> None:
        self.lag_messages.clear()
        for partition, behind in lag.items():
            self.lag_messages.labels(str(partition)).set(behind)

    def holding(self, holding: bool) -> None:
        self.holding_batch.set(1 if holding else 0)
