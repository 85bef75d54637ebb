"""Kafka -> store: lineage events from a topic, at least once, into Neo4j.

Each polled batch (at most ``batch_size`` messages or ``batch_seconds`` of waiting) goes
through the intake every way in shares (``ingest.intake``), then is written in one transaction
through the ``Store``; offsets are committed only after Neo4j committed, so a crash re-reads at
most a batch, which the idempotent writes make harmless. A message that cannot become an event
is parked on ``<topic>.dlq`` with the reason in its headers (before the offsets move), and the
partition goes on. While Neo4j is unavailable the consumer holds the batch, pauses its
partitions (staying in the group) and retries with backoff, committing nothing. A stop request
(SIGTERM) ends the loop after the batch in flight is written and committed.

confluent-kafka (librdkafka) reads; its blocking calls run in a worker thread, one at a time,
so the event loop stays free for the async store (bench/README.md, "Kafka": why this client).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition
from neo4j.exceptions import ClientError

from mllineage.ingest.intake import Item, Rejected, parse, take, to_write
from mllineage.kafka.metrics import ConsumerMetrics
from mllineage.model.errors import InvalidInput, Unavailable
from mllineage.settings import Settings
from mllineage.store import Store

log = logging.getLogger("mllineage.kafka.consumer")

REASON_CHARS = 2_000
DLQ_HEADER = "mllineage.dlq."  # + reason, topic, partition, offset
NO_VALUE = "the message has no value; send one event as JSON"


@dataclass(frozen=True)
class Options:
    bootstrap: str
    topic: str
    group: str = "mllineage"
    batch_size: int = 500
    batch_seconds: float = 1.0
    max_backoff: float = 10.0
    report_seconds: float = 10.0
    metrics_port: int | None = None


def decode(value: bytes | None, settings: Settings) -> list[Item]:
    """A message's value as what the store writes, through the intake (any form it takes:
    OpenLineage, a native event or batch, a graph upsert); raises Rejected."""
    if value is None:
        raise Rejected([{"type": "missing", "loc": (), "msg": NO_VALUE}])
    return take(parse(value), settings)


@dataclass
class Decoded:
    message: Message
    items: list[Item] = field(default_factory=list)
    reason: str | None = None  # set: the message goes to the DLQ


@dataclass
class Counts:
    written: int = 0
    dead_lettered: int = 0
    batches: int = 0


class KafkaIngest:
    """One consumer in a group: poll, decode, write, dead-letter, commit; see the module."""

    def __init__(self, options: Options, settings: Settings, store: Store) -> None:
        self.options = options
        self.settings = settings
        self.store = store
        self.counts = Counts()
        self.metrics = ConsumerMetrics(options.metrics_port)
        self.holding = False  # a batch waits for Neo4j: newly assigned partitions are paused
        self._reported = time.monotonic()
        self.kafka = Consumer(
            {
                "bootstrap.servers": options.bootstrap,
                "group.id": options.group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "enable.partition.eof": False,
            }
        )
        self.producer = Producer(
            {"bootstrap.servers": options.bootstrap, "acks": "all", "enable.idempotence": True}
        )

    # --- the loop -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> Counts:
        self.kafka.subscribe(
            [self.options.topic], on_assign=self._on_assign, on_revoke=self._on_revoke
        )
        log.info(
            "consuming %s from %s as group %s",
            self.options.topic,
            self.options.bootstrap,
            self.options.group,
        )
        try:
            while not stop.is_set():
                messages = await self._poll(self.options.batch_seconds)
                if messages:
                    await self._handle(messages, stop)
                await self._maybe_report()
        finally:
            await asyncio.to_thread(self.kafka.close)
            self.producer.flush(10)
            log.info(
                "stopped: %d messages written, %d dead-lettered, in %d batches",
                self.counts.written,
                self.counts.dead_lettered,
                self.counts.batches,
            )
        return self.counts

    async def _poll(self, seconds: float) -> list[Message]:
        """One batch; errors the client reports in place of messages are logged, not data."""
        polled = await asyncio.to_thread(self.kafka.consume, self.options.batch_size, seconds)
        messages = []
        for message in polled:
            if message.error():
                log.warning("Kafka reports: %s", message.error())
            else:
                messages.append(message)
        return messages

    async def _handle(self, messages: list[Message], stop: asyncio.Event) -> None:
        began = time.monotonic()
        batch = [self._decode(m) for m in messages]
        backoff = 0.5
        while True:
            try:
                refused = await self._write([d for d in batch if d.reason is None])
                for decoded, reason in refused:
                    decoded.reason = reason
                await asyncio.to_thread(self._dead_letter, [d for d in batch if d.reason])
                break
            except (Unavailable, KafkaException) as exc:
                if stop.is_set():
                    log.warning(
                        "stopping with %d messages unwritten (%s); the group reads them again",
                        len(batch),
                        exc,
                    )
                    return
                log.warning(
                    "holding %d messages, partitions paused, retrying in %.1fs: %s",
                    len(batch),
                    backoff,
                    exc,
                )
                batch += [self._decode(m) for m in await self._hold(backoff, stop)]
                backoff = min(backoff * 2, self.options.max_backoff)
        if self.holding:
            self.holding = False
            self.metrics.holding(False)
            await asyncio.to_thread(self.kafka.resume, self.kafka.assignment())
            log.info("Neo4j is back: wrote the %d held messages, partitions resumed", len(batch))
        await asyncio.to_thread(self._commit, [d.message for d in batch])
        dead = sum(1 for d in batch if d.reason)
        self.counts.batches += 1
        self.counts.written += len(batch) - dead
        self.counts.dead_lettered += dead
        self.metrics.batch(len(batch) - dead, dead, time.monotonic() - began)

    def _decode(self, message: Message) -> Decoded:
        try:
            return Decoded(message, decode(message.value(), self.settings))
        except Rejected as exc:
            return Decoded(message, reason=str(exc))

    async def _write(self, batch: list[Decoded]) -> list[tuple[Decoded, str]]:
        """Write the batch in one transaction; when the store refuses it as invalid, halve it
        to find the refused messages. Returns those with the store's reason."""
        if not batch:
            return []
        items = [item for decoded in batch for item in decoded.items]
        try:
            await self.store.write(to_write(items))
            return []
        except (InvalidInput, ClientError) as exc:
            if len(batch) == 1:
                return [(batch[0], f"refused by the store: {exc}")]
        half = len(batch) // 2
        return await self._write(batch[:half]) + await self._write(batch[half:])

    async def _hold(self, seconds: float, stop: asyncio.Event) -> list[Message]:
        """Wait ``seconds`` with the partitions paused, polling so the group keeps us;
        returns what was still delivered (fetched before the pause)."""
        if not self.holding:
            self.holding = True
            self.metrics.holding(True)
            await asyncio.to_thread(self.kafka.pause, self.kafka.assignment())
        late: list[Message] = []
        deadline = time.monotonic() + seconds
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            late += await self._poll(min(left, 0.5))
            await self._maybe_report()
        return late

    # --- Kafka side (blocking; called in the worker thread) --------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("assigned partitions %s", sorted(p.partition for p in partitions))
        if self.holding:  # assign first, so that the pause holds
            consumer.assign(partitions)
            consumer.pause(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("revoked partitions %s", sorted(p.partition for p in partitions))

    def _dead_letter(self, dead: list[Decoded]) -> None:
        """Park each message on ``<topic>.dlq`` with why, and wait until Kafka has them all."""
        if not dead:
            return
        failures: list[str] = []

        def delivered(error: Any, _message: Message) -> None:
            if error is not None:
                failures.append(str(error))

        for decoded in dead:
            m = decoded.message
            reason = (decoded.reason or "")[:REASON_CHARS]
            log.warning(
                "dead-lettering %s[%d]@%d: %s", m.topic(), m.partition(), m.offset(), reason
            )
            headers = [
                (f"{DLQ_HEADER}reason", reason.encode()),
                (f"{DLQ_HEADER}topic", str(m.topic()).encode()),
                (f"{DLQ_HEADER}partition", str(m.partition()).encode()),
                (f"{DLQ_HEADER}offset", str(m.offset()).encode()),
                *(m.headers() or []),
            ]
            self.producer.produce(
                f"{m.topic()}.dlq", m.value(), m.key(), headers=headers, on_delivery=delivered
            )
        if self.producer.flush(30) or failures:
            raise KafkaException(f"the dead-letter topic did not take the messages: {failures}")

    def _commit(self, messages: list[Message]) -> None:
        """Commit past the batch on the partitions still ours (a rebalance while holding may
        have moved some: their new owner reads those messages again, harmlessly)."""
        last: dict[tuple[str, int], int] = {}
        for m in messages:
            key = (str(m.topic()), int(m.partition() or 0))
            last[key] = max(last.get(key, -1), int(m.offset() or 0))
        owned = {(tp.topic, tp.partition) for tp in self.kafka.assignment()}
        offsets = [TopicPartition(t, p, o + 1) for (t, p), o in last.items() if (t, p) in owned]
        if not offsets:
            return
        try:
            self.kafka.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            log.warning("commit failed (%s); the batch will be read again (harmless)", exc)

    async def _maybe_report(self) -> None:
        if time.monotonic() - self._reported < self.options.report_seconds:
            return
        self._reported = time.monotonic()
        lag = await asyncio.to_thread(self._lag)
        self.metrics.lag(lag)
        log.info(
            "%d messages written, %d dead-lettered; lag %d %s%s",
            self.counts.written,
            self.counts.dead_lettered,
            sum(lag.values()),
            dict(sorted(lag.items())),
            " (holding: Neo4j unavailable)" if self.holding else "",
        )

    def _lag(self) -> dict[int, int]:
        """Per assigned partition: messages past the group's committed offset."""
        lag = {}
        try:
            for tp in self.kafka.committed(self.kafka.assignment(), timeout=5):
                low, high = self.kafka.get_watermark_offsets(tp, timeout=5)
                lag[tp.partition] = high - (tp.offset if tp.offset >= 0 else low)
        except KafkaException as exc:
            log.warning("cannot read the lag now: %s", exc)
        return lag


async def consume(options: Options, settings: Settings, stop: asyncio.Event) -> Counts:
    """Consume until ``stop`` is set; opens (and closes) the store of ``settings``."""
    from mllineage.store import open_store

    async with open_store(settings) as store:
        return await KafkaIngest(options, settings, store).run(stop)
