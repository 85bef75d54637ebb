"""Kafka client libraries compared on consume throughput, against a real local broker.

    python -m bench.kafka                        # a throw-away local Kafka, 200k messages
    python -m bench.kafka --bootstrap HOST:PORT  # a running broker instead
    python -m bench.kafka --end-to-end 20000     # the consumer into a throw-away Neo4j

One topic (4 partitions) is filled with lineage events as JSON (from ``bench.synth``); then
each library reads all of it from the start in a new consumer group, in rounds alternating
between the libraries, in batches of ``--batch`` messages, as the consumer does: bytes only
(``raw``) and bytes parsed as strict JSON (``+json``), the part of the consumer's work that
is the same whichever library reads.

``--end-to-end N`` measures ``mllineage consume`` itself (in-process) on the synthetic events
of an N-node graph (``bench.synth``, as ``bench.run --nodes N``)
into a throw-away Neo4j, against the ceiling measured next in the same run (on the emptied
database, so Neo4j is warmer for it): the same events written straight through
``Store.write`` in batches of the same size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from bench.synth import lineage_events
from mllineage.ingest import strict_json
from mllineage.local import LocalKafka, free_port
from mllineage.settings import Settings

PARTITIONS = 4


@contextmanager
def local_kafka() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="mllineage-kafka-bench-") as folder:
        settings = Settings(
            kafka_instance_dir=Path(folder),
            kafka_port=free_port(),
            kafka_controller_port=free_port(),
            kafka_heap="1g",
        )
        server = LocalKafka(settings)
        server.start()
        try:
            yield server.bootstrap
        finally:
            server.stop()


def fill(bootstrap: str, topic: str, count: int) -> int:
    """``count`` messages of synthetic lineage events; returns their total size in bytes."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result()
    events = [json.dumps(e).encode() for e in lineage_events(max(count // 2, 1000))]
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    size = 0
    for i in range(count):
        value = events[i % len(events)]
        size += len(value)
        while True:
            try:
                producer.produce(topic, value, key=f"run:bench/{i % 97}".encode())
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    producer.flush()
    return size


def confluent(bootstrap: str, topic: str, count: int, batch: int, parse: bool) -> float:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen = 0
    began = 0.0
    while seen < count:
        messages = consumer.consume(batch, 1.0)
        if messages and not began:
            began = time.perf_counter()
        for message in messages:
            if parse:
                strict_json.loads(message.value())
        seen += len(messages)
        if messages:
            consumer.commit(asynchronous=False)
    elapsed = time.perf_counter() - began
    consumer.close()
    return count / elapsed


def confluent_aio(bootstrap: str, topic: str, count: int, batch: int, parse: bool) -> float:
    """confluent-kafka's asyncio wrapper (each call in a worker thread)."""
    from confluent_kafka.aio import AIOConsumer

    async def run() -> float:
        consumer = AIOConsumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"bench-{uuid.uuid4()}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            },
            max_workers=2,
        )
        await consumer.subscribe([topic])
        seen = 0
        began = 0.0
        try:
            while seen < count:
                messages = await consumer.consume(batch, 1.0)
                if messages and not began:
                    began = time.perf_counter()
                for message in messages:
                    if parse:
                        strict_json.loads(message.value())
                seen += len(messages)
                if messages:
                    await consumer.commit(asynchronous=False)
            return count / (time.perf_counter() - began)
        finally:
            await consumer.close()

    return asyncio.run(run())


def aiokafka(bootstrap: str, topic: str, count: int, batch: int, parse: bool) -> float:
    from aiokafka import AIOKafkaConsumer

    async def run() -> float:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"bench-{uuid.uuid4()}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            max_poll_records=batch,
        )
        await consumer.start()
        seen = 0
        began = 0.0
        try:
            while seen < count:
                polled = await consumer.getmany(timeout_ms=1000, max_records=batch)
                messages = [m for part in polled.values() for m in part]
                if messages and not began:
                    began = time.perf_counter()
                for message in messages:
                    if parse:
                        strict_json.loads(message.value or b"")
                seen += len(messages)
                if messages:
                    await consumer.commit()
            return count / (time.perf_counter() - began)
        finally:
            await consumer.stop()

    return asyncio.run(run())


def end_to_end(bootstrap: str, count: int, batch: int) -> None:
    from bench.stack import PASSWORD, clear
    from mllineage.ingest.intake import to_write
    from mllineage.kafka.consumer import KafkaIngest, Options
    from mllineage.local import LocalNeo4j
    from mllineage.model.domain import LineageEvent
    from mllineage.store import open_store

    events = lineage_events(count)  # events of a graph of ``count`` nodes
    count = len(events)
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result()
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for event in events:
        producer.produce(topic, json.dumps(event).encode())
        producer.poll(0)
    producer.flush()
    with tempfile.TemporaryDirectory(prefix="mllineage-kafka-bench-") as folder:
        settings = Settings(
            neo4j_instance_dir=Path(folder),
            neo4j_bolt_port=free_port(),
            neo4j_http_port=free_port(),
            neo4j_password=PASSWORD,
            neo4j_heap="1g",
            neo4j_pagecache="1g",
        )
        server = LocalNeo4j(settings)
        server.start()
        settings = settings.model_copy(update={"neo4j_uri": server.bolt_uri})

        async def run() -> tuple[float, float]:
            async with open_store(settings) as store:
                ingest = KafkaIngest(Options(bootstrap, topic, batch_size=batch), settings, store)
                stop = asyncio.Event()

                async def until_done() -> None:
                    while ingest.counts.written < count:
                        await asyncio.sleep(0.05)
                    stop.set()

                began = time.perf_counter()
                await asyncio.gather(ingest.run(stop), until_done())
                consumed = time.perf_counter() - began
                clear(settings)
                began = time.perf_counter()
                for i in range(0, count, batch):
                    chunk = [LineageEvent.model_validate(e) for e in events[i : i + batch]]
                    await store.write(to_write(chunk))
                return consumed, time.perf_counter() - began

        try:
            consumed, direct = asyncio.run(run())
        finally:
            server.stop()
    print(
        f"{count} events: consumer {count / consumed:,.0f} events/s, "
        f"Store.write {count / direct:,.0f} events/s "
        f"(the consumer at {100 * direct / consumed:.0f}% of the ceiling)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", help="a running broker (default: a throw-away local one)")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--end-to-end", type=int, metavar="N", help="the consumer on an N-node graph"
    )
    args = parser.parse_args()
    with nullcontext(args.bootstrap) if args.bootstrap else local_kafka() as bootstrap:
        if args.end_to_end:
            end_to_end(bootstrap, args.end_to_end, args.batch)
            return
        topic = f"bench-{uuid.uuid4().hex[:8]}"
        size = fill(bootstrap, topic, args.messages)
        print(f"{args.messages} messages, {size / args.messages:.0f} bytes each on average")
        libraries: dict[str, Callable[[str, str, int, int, bool], float]] = {
            "confluent-kafka": confluent,
            "confluent-kafka aio": confluent_aio,
            "aiokafka": aiokafka,
        }
        rates: dict[tuple[str, bool], list[float]] = {}
        for _ in range(args.rounds):
            for parse in (False, True):
                for name, read in libraries.items():
                    rate = read(bootstrap, topic, args.messages, args.batch, parse)
                    rates.setdefault((name, parse), []).append(rate)
        print("| library | raw messages/s | +json messages/s |")
        print("|---|---|---|")
        for name in libraries:
            raw, parsed = (statistics.median(rates[(name, p)]) for p in (False, True))
            print(f"| {name} | {raw:,.0f} | {parsed:,.0f} |")


if __name__ == "__main__":
    main()
