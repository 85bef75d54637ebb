"""``mllineage consume`` on a real Kafka and a real Neo4j: what lands, what is dead-lettered,
and that outages, groups and stops lose nothing and duplicate nothing."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from neo4j import Driver, GraphDatabase
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.serde import Serde
from openlineage.client.transport.kafka import KafkaConfig, KafkaTransport

from mllineage.local import LocalNeo4j, free_port
from mllineage.settings import Settings
from tests.helpers import TEST_PASSWORD, dump_graph, local_settings
from tests.kafka.conftest import (
    ConsumerProcess,
    as_messages,
    committed,
    dead_letters,
    expected_graph,
    new_topic,
    numbered_events,
    produce,
    stored_graph,
    wait_until,
)

Start = Callable[..., ConsumerProcess]


def openlineage_events() -> list[RunEvent]:
    """A feature pipeline and a training job, each run START then COMPLETE."""
    began = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    events = []
    for i, (job, inputs, outputs) in enumerate(
        [
            ("customer-features", ["s3://acme/raw/customers"], ["customers"]),
            ("train-churn", ["customers"], ["churn-model"]),
        ]
    ):
        run = Run(runId=str(uuid.UUID(int=i + 1)))
        for state, minutes in ((RunState.START, 0), (RunState.COMPLETE, 5)):
            events.append(
                RunEvent(
                    eventType=state,
                    eventTime=(began + timedelta(hours=i, minutes=minutes)).isoformat(),
                    run=run,
                    job=Job(namespace="acme", name=job),
                    producer="https://github.com/acme/jobs",
                    inputs=[InputDataset(namespace="acme", name=n) for n in inputs],
                    outputs=[OutputDataset(namespace="acme", name=n) for n in outputs],
                )
            )
    return events


def test_events_from_the_openlineage_kafka_transport_land_as_the_api_writes_them(
    kafka_bootstrap: str, topic: str, run_consumer: Start, api: httpx.Client, empty_graph: Driver
) -> None:
    """The real OpenLineage client's Kafka transport produces; the consumer's graph equals
    the graph the HTTP API makes of the same events."""
    events = openlineage_events()
    posted = api.post("/api/v1/lineage/batch", json=[Serde.to_dict(e) for e in events])
    assert posted.status_code == 201, posted.text
    through_the_api = dump_graph(empty_graph)
    empty_graph.execute_query("MATCH (n) DETACH DELETE n")

    transport = KafkaTransport(
        KafkaConfig(topic=topic, config={"bootstrap.servers": kafka_bootstrap}, flush=True)
    )
    client = OpenLineageClient(transport=transport)
    for event in events:
        client.emit(event)
    consumer = run_consumer(topic)
    wait_until(lambda: committed(kafka_bootstrap, "mllineage", topic) == 4, what="commit")
    assert consumer.stop() == (4, 0)
    assert dump_graph(empty_graph) == through_the_api
    assert len(through_the_api["nodes"]) == 5  # 2 jobs, 3 datasets


def test_poison_messages_go_to_the_dlq_with_the_reason_and_the_rest_lands(
    kafka_bootstrap: str, topic: str, run_consumer: Start, empty_graph: Driver
) -> None:
    first, last = numbered_events(0, 2)
    future = numbered_events(2, 1)[0] | {"event_time": "2999-01-01T00:00:00Z"}
    no_process = {k: v for k, v in numbered_events(3, 1)[0].items() if k != "process"}
    dangling = {
        "event_time": "2026-11-02T10:00:00Z",
        "edges": [
            {
                "source": "DataSource:default:nowhere",
                "target": "FeaturePipeline:default:job-0",
                "type": "ContributedTo",
            }
        ],
    }
    messages = [
        json.dumps(first).encode(),
        b"{not json",
        b"\xff\xfe{}",
        json.dumps(no_process).encode(),
        json.dumps(future).encode(),
        json.dumps(dangling).encode(),
        json.dumps(last).encode(),
    ]
    produce(kafka_bootstrap, topic, messages)
    metrics_port = free_port()
    consumer = run_consumer(topic, "--metrics-port", str(metrics_port))
    wait_until(lambda: committed(kafka_bootstrap, "mllineage", topic) == 7, what="commit")
    metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
    assert 'mllineage_consumer_messages_total{outcome="dead_lettered"} 5.0' in metrics
    assert 'mllineage_consumer_messages_total{outcome="written"} 2.0' in metrics
    assert consumer.stop() == (2, 5)

    uids, _ = stored_graph(empty_graph)
    assert set(uids) == expected_graph([first, last])[0]
    dead = dead_letters(kafka_bootstrap, topic, 5)
    assert [value for value, _ in dead] == messages[1:6]
    reasons = [headers["mllineage.dlq.reason"] for _, headers in dead]
    assert reasons[0].startswith("not JSON: Expecting property name")
    assert reasons[1].startswith("not UTF-8")
    assert "process: Field required" in reasons[2]
    assert "is more than 300 s ahead of the server's clock" in reasons[3]
    assert reasons[4].startswith("refused by the store: edges name entities that do not exist")
    assert "DataSource:default:nowhere" in reasons[4]
    assert [h["mllineage.dlq.offset"] for _, h in dead] == ["1", "2", "3", "4", "5"]
    assert {h["mllineage.dlq.topic"] for _, h in dead} == {topic}


def test_a_neo4j_outage_mid_stream_loses_and_duplicates_nothing(
    kafka_bootstrap: str, topic: str, run_consumer: Start, tmp_path: Path
) -> None:
    """A private Neo4j is killed while events stream in and started again: the consumer holds
    its batch, commits nothing meanwhile, and resumes by itself."""
    settings = local_settings(tmp_path / "neo4j", neo4j_retry_seconds=1.0)
    server = LocalNeo4j(settings)
    server.start()
    settings = settings.model_copy(update={"neo4j_uri": server.bolt_uri})
    try:
        events = numbered_events(0, 150)
        consumer = run_consumer(topic, neo4j=settings)
        produce(kafka_bootstrap, topic, as_messages(events[:50]))
        wait_until(lambda: committed(kafka_bootstrap, "mllineage", topic) == 50, what="commit")

        server.kill()
        produce(kafka_bootstrap, topic, as_messages(events[50:100]))
        wait_until(lambda: "holding" in consumer.log(), what="the consumer to hold")
        assert committed(kafka_bootstrap, "mllineage", topic) == 50
        produce(kafka_bootstrap, topic, as_messages(events[100:]))
        assert committed(kafka_bootstrap, "mllineage", topic) == 50

        server.start()
        wait_until(lambda: committed(kafka_bootstrap, "mllineage", topic) == 150, what="commit")
        written, dead = consumer.stop()
        assert (written, dead) == (150, 0)
        assert "Neo4j is back" in consumer.log()
        with GraphDatabase.driver(server.bolt_uri, auth=("neo4j", TEST_PASSWORD)) as driver:
            uids, edges = stored_graph(driver)
        want_uids, want_edges = expected_graph(events)
        assert sorted(uids) == sorted(want_uids)  # every node, once
        assert sorted(edges) == sorted(want_edges)  # every edge, once
    finally:
        server.stop()


def _assigned(log: str) -> set[int] | None:
    """The partitions a consumer holds now, from its log (None before its first assignment)."""
    lines = re.findall(r"(assigned|revoked) partitions \[([\d, ]*)\]", log)
    if not lines or lines[-1][0] != "assigned":
        return None
    return {int(p) for p in lines[-1][1].split(",") if p.strip()}


def test_two_consumers_in_one_group_split_the_partitions_and_write_everything_once(
    kafka_bootstrap: str, run_consumer: Start, empty_graph: Driver
) -> None:
    topic = new_topic(kafka_bootstrap, partitions=4)
    group = f"group-{uuid.uuid4().hex[:6]}"
    a = run_consumer(topic, group=group)
    b = run_consumer(topic, group=group)

    def split() -> bool:
        held_a, held_b = _assigned(a.log()), _assigned(b.log())
        return bool(held_a and held_b) and held_a | held_b == {0, 1, 2, 3} and not held_a & held_b

    wait_until(split, what="the group to split the partitions")
    events = numbered_events(0, 200)
    keys = [f"run:default/job-{i}" for i in range(200)]
    produce(kafka_bootstrap, topic, as_messages(events), keys)
    wait_until(lambda: committed(kafka_bootstrap, group, topic, 4) == 200, what="commit")

    (written_a, _), (written_b, _) = a.stop(), b.stop()
    assert written_a > 0 and written_b > 0
    assert written_a + written_b == 200  # no message read twice
    uids, edges = stored_graph(empty_graph)
    want_uids, want_edges = expected_graph(events)
    assert sorted(uids) == sorted(want_uids) and sorted(edges) == sorted(want_edges)


def test_sigterm_finishes_and_commits_the_batch_in_flight(
    kafka_bootstrap: str, topic: str, run_consumer: Start, empty_graph: Driver, settings: Settings
) -> None:
    """Stopped mid-stream, the consumer has committed exactly what it wrote; a second one
    carries on from there."""
    events = numbered_events(0, 4000)
    produce(kafka_bootstrap, topic, as_messages(events))
    first = run_consumer(topic, "--batch-size", "100")
    wait_until(lambda: committed(kafka_bootstrap, "mllineage", topic) > 0, what="a commit")
    written, _ = first.stop()
    assert 0 < written < 4000
    assert committed(kafka_bootstrap, "mllineage", topic) == written

    second = run_consumer(topic)
    wait_until(lambda: committed(kafka_bootstrap, "mllineage", topic) == 4000, what="commit")
    assert second.stop()[0] == 4000 - written
    uids, edges = stored_graph(empty_graph)
    want_uids, want_edges = expected_graph(events)
    assert sorted(uids) == sorted(want_uids) and sorted(edges) == sorted(want_edges)
