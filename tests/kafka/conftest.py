"""What the Kafka tests share: topics, producing, reading the DLQ and the group's offsets, and
``mllineage consume`` as a real child process (SIGTERM stops it) against a real Neo4j."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from neo4j import Driver

from mllineage.ingest.intake import to_write
from mllineage.model.domain import LineageEvent
from mllineage.settings import Settings
from tests.events import entity, event

STOPPED = re.compile(r"stopped: (\d+) messages written, (\d+) dead-lettered")


def new_topic(bootstrap: str, partitions: int = 1) -> str:
    name = f"lineage-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(timeout=30)
    return name


@pytest.fixture
def topic(kafka_bootstrap: str) -> str:
    return new_topic(kafka_bootstrap)


def produce(bootstrap: str, topic: str, values: list[bytes], keys: list[str] | None = None) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i, value in enumerate(values):
        producer.produce(topic, value, keys[i] if keys else None)
    assert producer.flush(30) == 0


def numbered_events(first: int, count: int) -> list[dict[str, Any]]:
    """Events that each add their own job and group, all reading one shared source."""
    source = entity("DataSource", "s3://acme/raw/shared/")
    return [
        event(
            entity("FeaturePipeline", f"job-{i}", "team-a"),
            [source],
            [entity("FeatureGroup", f"group-{i}", "team-a")],
            run_id=f"run-{i}",
        )
        for i in range(first, first + count)
    ]


def as_messages(events: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(e).encode() for e in events]


def expected_graph(events: list[dict[str, Any]]) -> tuple[set[str], set[tuple[str, str, str]]]:
    """The oracle: the uids and edges the events make (the pure translation, no store)."""
    delta = to_write(LineageEvent.model_validate(e) for e in events)
    return set(delta.nodes), {(s, t, str(k)) for s, t, k in delta.edges}


def stored_graph(driver: Driver) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Every entity uid and lineage edge as stored, duplicates kept (lists, not sets); runs
    and their edges are left out, as the oracle leaves them."""
    nodes, _, _ = driver.execute_query("MATCH (n:Entity) RETURN n.uid AS uid")
    edges, _, _ = driver.execute_query(
        "MATCH (a:Entity)-[r:ContributedTo|Produced|HasFeature]->(b:Entity) "
        "RETURN a.uid AS s, b.uid AS t, type(r) AS k"
    )
    return [r["uid"] for r in nodes], [(r["s"], r["t"], r["k"]) for r in edges]


def wait_until(check: Callable[[], bool], seconds: float = 90, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def dead_letters(bootstrap: str, topic: str, count: int) -> list[tuple[bytes, dict[str, str]]]:
    """The first ``count`` messages of ``<topic>.dlq``, with their headers."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([f"{topic}.dlq"])
    found: list[tuple[bytes, dict[str, str]]] = []
    deadline = time.monotonic() + 30
    while len(found) < count and time.monotonic() < deadline:
        for m in consumer.consume(count, 1.0):
            if not m.error():
                found.append((m.value(), {k: v.decode() for k, v in m.headers() or []}))
    consumer.close()
    return found


# A group coordinator still moving or loading: librdkafka does not flag all of these retriable.
COORDINATOR_NOT_READY = frozenset(
    {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
    }
)


def committed(bootstrap: str, group: str, topic: str, partitions: int = 1) -> int:
    """The group's committed offsets on ``topic``, summed over its partitions; -1 while the
    broker cannot say yet."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], 30)
    except KafkaException as exc:
        error = exc.args[0]
        if not (error.retriable() or error.code() in COORDINATOR_NOT_READY):
            raise
        return -1
    finally:
        consumer.close()
    return sum(max(tp.offset, 0) for tp in offsets)


class ConsumerProcess:
    """``mllineage consume`` in a child process, its log in a file."""

    def __init__(self, log: Path, command: list[str], env: dict[str, str]) -> None:
        self.log_path = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=out)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> tuple[int, int]:
        """SIGTERM, then (messages written, dead-lettered) from its last line."""
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(60) == 0, self.log()
        match = STOPPED.search(self.log())
        assert match, self.log()
        return int(match.group(1)), int(match.group(2))


@pytest.fixture
def run_consumer(
    kafka_bootstrap: str, settings: Settings, tmp_path: Path
) -> Iterator[Callable[..., ConsumerProcess]]:
    """Starts consumers of a topic (on the session's Neo4j unless told another)."""
    started: list[ConsumerProcess] = []

    def start(
        topic: str, *extra: str, group: str = "mllineage", neo4j: Settings = settings
    ) -> ConsumerProcess:
        env = {
            **os.environ,
            "MLLINEAGE_NEO4J_URI": neo4j.neo4j_uri,
            "MLLINEAGE_NEO4J_USER": neo4j.neo4j_user,
            "MLLINEAGE_NEO4J_PASSWORD": neo4j.neo4j_password.get_secret_value(),
        }
        command = [
            sys.executable, "-m", "mllineage.cli", "consume", "--bootstrap", kafka_bootstrap,
            "--topic", topic, "--group", group, "--batch-seconds", "0.2",
            "--report-seconds", "1", "--max-backoff", "2", *extra,
        ]  # fmt: skip
        consumer = ConsumerProcess(tmp_path / f"consumer-{len(started)}.log", command, env)
        started.append(consumer)
        return consumer

    yield start
    for consumer in started:
        if consumer.process.poll() is None:
            consumer.process.kill()
            consumer.process.wait()
