"""Group commit on a real Neo4j: concurrent writes that share transactions land exactly as one
batch of the same events would, each request keeps its own summary, and a request at fault
fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from neo4j import AsyncGraphDatabase, Driver

from mllineage.ingest.events import to_delta
from mllineage.ingest.intake import to_write
from mllineage.model.domain import EventBatch, GraphUpsert
from mllineage.model.errors import InvalidInput
from mllineage.settings import Settings
from mllineage.store import Store
from mllineage.store.metrics import REGISTRY
from tests.events import entity, event
from tests.helpers import dump_graph

KINDS = {"in": "DataSource", "mid": "FeatureGroup", "out": "Dataset"}


@asynccontextmanager
async def store_for(settings: Settings) -> AsyncIterator[Store]:
    auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
    async with AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        yield Store(driver, settings.neo4j_database, uri=settings.neo4j_uri)


def history(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Runs of a few pipelines over shared data, each told by a START that names its outputs
    and a COMPLETE that names none (as Marquez's producers do), or by one COMPLETE."""
    events = []
    for number in range(draw(st.integers(2, 8))):
        process = entity("FeaturePipeline", f"p{draw(st.integers(0, 3))}")
        inputs = [entity(KINDS["in"], f"s{i}") for i in draw(st.sets(st.integers(0, 3)))]
        wrote = draw(st.sets(st.integers(0, 3), min_size=1))
        outputs = [entity(KINDS["mid"], f"g{i}") for i in wrote]
        day = draw(st.integers(1, 9))
        run = f"run-{number}"
        params = {"window": draw(st.sampled_from(["7d", "30d"]))}
        if draw(st.booleans()):
            start = dict(time=f"2026-11-0{day}T00:00:00Z", run_id=run, status="START")
            events.append(event(process, inputs, outputs, **start, parameters=params))
            end = dict(time=f"2026-11-0{day}T01:00:00Z", run_id=run, status="COMPLETE")
            events.append(event(process, [], [], **end))
        else:
            at = f"2026-11-0{day}T02:00:00Z"
            events.append(event(process, inputs, outputs, time=at, run_id=run, parameters=params))
    return draw(st.permutations(events))


def deltas_of(events: list[dict[str, Any]]) -> list[Any]:
    return [to_write(EventBatch.model_validate({"events": [e]}).events) for e in events]


def group_sizes() -> tuple[float, float]:
    """Transactions written and the requests they carried, from the write metrics."""
    return tuple(  # type: ignore[return-value]
        REGISTRY.get_sample_value(f"mllineage_write_group_size_{part}") or 0.0
        for part in ("count", "sum")
    )


def clear(driver: Driver) -> None:
    driver.execute_query("MATCH (n) DETACH DELETE n")


@hypothesis_settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=st.composite(history)())
def test_concurrent_single_events_land_as_one_batch(
    events: list[dict[str, Any]], settings: Settings, neo4j_driver: Driver
) -> None:
    async def scenario() -> tuple[dict[str, Any], list[Any], dict[str, Any]]:
        async with store_for(settings) as store:
            clear(neo4j_driver)
            await store.write(to_write(EventBatch.model_validate({"events": events}).events))
            as_one_batch = dump_graph(neo4j_driver)
            clear(neo4j_driver)
            before = group_sizes()
            summaries = await asyncio.gather(*(store.write(d) for d in deltas_of(events)))
            transactions, requests = (b - a for a, b in zip(before, group_sizes(), strict=True))
            assert (transactions, requests) == (1, len(events))  # all queued before the first
            return as_one_batch, summaries, dump_graph(neo4j_driver)

    as_one_batch, summaries, grouped = asyncio.run(scenario())
    assert grouped == as_one_batch
    # Each creation is counted once, for one request, and each request counts its own parts.
    assert sum(s.nodes_created for s in summaries) == len(grouped["nodes"])
    assert sum(s.edges_created for s in summaries) == len(grouped["edges"])
    for summary, one in zip(summaries, events, strict=True):
        assert (summary.nodes, summary.edges) == own_parts(one, events)


def own_parts(one: dict[str, Any], events: list[dict[str, Any]]) -> tuple[int, int]:
    """The nodes and edges an event writes alone: its process and inputs, and once its run
    completes, the outputs any event of the run named."""
    inputs = len(one["inputs"])
    if one["run"]["status"] != "COMPLETE":
        return 1 + inputs, inputs
    run = one["run"]["id"]
    outputs = {o["name"] for e in events if e["run"]["id"] == run for o in e["outputs"]}
    return 1 + inputs + len(outputs), inputs + len(outputs)


def test_a_request_at_fault_fails_alone(settings: Settings, neo4j_driver: Driver) -> None:
    good = [
        event(entity("FeaturePipeline", f"p{i}"), [entity("DataSource", "s")],
              [entity("FeatureGroup", f"g{i}")], run_id=f"run-{i}")
        for i in range(6)
    ]  # fmt: skip
    reused = event(entity("TrainingJob", "t"), [], [], run_id="run-0")  # p0's run id
    dangling = GraphUpsert.model_validate(
        {
            "nodes": [{"kind": "Endpoint", "name": "e"}],
            "edges": [
                {
                    "source": "Model:default:nope",
                    "target": "Endpoint:default:e",
                    "type": "ContributedTo",
                }
            ],
        }  # fmt: skip
    )

    async def scenario() -> list[Any]:
        async with store_for(settings) as store:
            clear(neo4j_driver)
            writes = [store.write(d) for d in deltas_of(good[:3])]
            at = datetime(2026, 11, 3, tzinfo=UTC)
            writes.append(store.write(to_delta([dangling], received_at=at)))
            writes += [store.write(d) for d in deltas_of([reused, *good[3:]])]
            results = await asyncio.gather(*writes, return_exceptions=True)
            grouped = dump_graph(neo4j_driver)
            clear(neo4j_driver)
            await store.write(to_write(EventBatch.model_validate({"events": good}).events))
            return [results, grouped, dump_graph(neo4j_driver)]

    results, grouped, only_good = asyncio.run(scenario())
    failures = [r for r in results if isinstance(r, Exception)]
    assert [type(f) for f in failures] == [InvalidInput, InvalidInput], results
    assert "Model:default:nope" in str(failures[0]) and "run-0" in str(failures[1])
    assert grouped == only_good
