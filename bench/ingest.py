"""Ingest throughput: the API against the same deltas written straight through the store."""

from __future__ import annotations

import gc
import time
from typing import Any

import httpx
import uvloop
from neo4j import AsyncGraphDatabase

from bench.stack import clear, login
from mllineage.ingest.delta import GraphDelta
from mllineage.ingest.intake import to_write
from mllineage.local import LocalApi
from mllineage.model.domain import LineageEvent
from mllineage.settings import Settings
from mllineage.store import Store


def entities(delta: GraphDelta) -> int:
    return len(delta.nodes) + len(delta.edges)


def bench_ingest(
    settings: Settings, api: LocalApi, events: list[dict[str, Any]], batch: int
) -> dict[str, Any]:
    """Batches alternate between the API and the driver (the ceiling), so that both meet
    the same database size, page cache and JIT warmth; then one event per request."""
    batches = [events[i : i + batch] for i in range(0, len(events), batch)]
    deltas = [to_write(LineageEvent.model_validate(e) for e in b) for b in batches]
    # The events, deltas and graph are millions of long-lived objects; without this the
    # collector rescans them while the driver side runs in this process.
    gc.collect()
    gc.freeze()

    async def alternate(count: int) -> dict[str, list[tuple[int, int, float]]]:
        """(events, entities, seconds) per batch, for each side."""
        timed: dict[str, list[tuple[int, int, float]]] = {"api": [], "raw": []}
        async with (
            AsyncGraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver,
            httpx.AsyncClient(base_url=api.url, timeout=600) as client,
        ):
            store = Store(driver, settings.neo4j_database, settings.schema_file)
            for i in range(count):
                began = time.perf_counter()
                if i % 2:
                    await store.write(deltas[i])
                else:
                    reply = await client.post("/v1/events", json={"events": batches[i]})
                    reply.raise_for_status()
                side = timed["raw" if i % 2 else "api"]
                side.append((len(batches[i]), entities(deltas[i]), time.perf_counter() - began))
        return timed

    # On uvloop, as the API runs under uvicorn: the ceiling must not pay for a slower loop.
    clear(settings)
    uvloop.run(alternate(max(2, len(batches) // 10)))  # warm the JVM and the plan cache
    clear(settings)
    timed = uvloop.run(alternate(len(batches)))

    def rate(side: str, part: slice = slice(None)) -> float:
        chosen = timed[side][part]
        return sum(n for _, n, _ in chosen) / sum(t for _, _, t in chosen)

    api_events = sum(e for e, _, _ in timed["api"]) / sum(t for _, _, t in timed["api"])
    tenth = max(1, len(timed["api"]) // 10)
    with httpx.Client(base_url=api.url, timeout=600) as client:
        single = events[: min(500, len(events))]
        began = time.perf_counter()
        for one in single:
            client.post("/v1/events", json=one).raise_for_status()
        single_per_s = len(single) / (time.perf_counter() - began)

    return {
        "events": len(events),
        "batch": batch,
        "entities": sum(entities(d) for d in deltas),
        "api_events_per_s": round(api_events),
        "api_entities_per_s": round(rate("api")),
        "raw_entities_per_s": round(rate("raw")),
        "api_vs_raw": round(rate("api") / rate("raw"), 2),
        "api_entities_per_s_first_tenth": round(rate("api", slice(None, tenth))),
        "api_entities_per_s_last_tenth": round(rate("api", slice(-tenth, None))),
        # The ceiling's own tenths tell a slower end of the load (database size, a busy
        # machine) from a slower API.
        "raw_entities_per_s_first_tenth": round(rate("raw", slice(None, tenth))),
        "raw_entities_per_s_last_tenth": round(rate("raw", slice(-tenth, None))),
        "single_events_per_s": round(single_per_s),
        "batched_vs_single": round(api_events / single_per_s, 1),
    }
