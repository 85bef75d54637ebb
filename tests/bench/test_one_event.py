"""The ceiling of ``bench.mlmd`` and ``bench.one_event`` writes the graph the store writes:
the same entities with the same labels, the same edges, runs and run edges (its properties
are plainer)."""

from __future__ import annotations

import asyncio
from typing import Any

from bench.mlmd_load import RAW_WRITE, flatten_features, raw_params
from bench.synth import lineage_events
from neo4j import AsyncGraphDatabase, Driver

from mllineage.ingest.intake import to_write
from mllineage.model.domain import LineageEvent
from mllineage.settings import Settings
from mllineage.store import Store
from tests.helpers import dump_graph


def shape(driver: Driver) -> dict[str, Any]:
    dump = dump_graph(driver)
    return {
        "nodes": [(labels, props["uid"]) for labels, props in dump["nodes"]],
        "edges": [(s, t, d) for s, t, d, _ in dump["edges"]],
        "runs": [props["id"] for props in dump["runs"]],
        "run_edges": dump["run_edges"],
    }


def test_the_ceiling_writes_the_graph_the_store_writes(
    settings: Settings, empty_graph: Driver
) -> None:
    events = flatten_features(lineage_events(300, seed=5))[:40]
    deltas = [to_write([LineageEvent.model_validate(e)]) for e in events]
    with empty_graph.session() as session:
        for delta in deltas:
            session.run(RAW_WRITE, raw=raw_params(delta)).consume()
    raw = shape(empty_graph)
    assert raw["edges"] and raw["runs"] and raw["run_edges"]

    empty_graph.execute_query("MATCH (n) DETACH DELETE n")

    async def through_the_store() -> None:
        auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
        async with AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
            store = Store(driver, settings.neo4j_database, uri=settings.neo4j_uri)
            for e in events:  # fresh deltas: the write completes their runs in place
                await store.write(to_write([LineageEvent.model_validate(e)]))

    asyncio.run(through_the_store())
    assert shape(empty_graph) == raw
