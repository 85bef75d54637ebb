"""OpenLineage as real producers send it, on the real Neo4j: one node per dataset whatever its
role and the order of events, the migration of data split by an older version, and a corpus
of real events (tests/fixtures/openlineage/SOURCES.md)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from neo4j import AsyncGraphDatabase, Driver

from mllineage.settings import Settings
from mllineage.store.database import Database
from mllineage.store.writes import merge_split_datasets
from tests.helpers import OPENLINEAGE_FIXTURES, dump_graph

CORPUS = sorted(
    path.relative_to(OPENLINEAGE_FIXTURES).as_posix()
    for path in OPENLINEAGE_FIXTURES.glob("*/*.json")
)
# Valid elsewhere, refused here on purpose: a time without a zone is ambiguous
# (docs/openlineage.md).
REFUSED = {
    name: "eventTime"
    for name in (
        "marquez/event_required_no_timezone.json",
        "python-client/serde_example_dataset_event.json",
        "python-client/serde_example_job_event.json",
        "python-client/serde_example_run_event.json",
    )
}


def events_of(name: str) -> list[dict[str, Any]]:
    loaded = json.loads((OPENLINEAGE_FIXTURES / name).read_text())
    return loaded if isinstance(loaded, list) else [loaded]


def post(api: httpx.Client, body: Any) -> httpx.Response:
    path = "/api/v1/lineage/batch" if isinstance(body, list) else "/api/v1/lineage"
    return api.post(path, json=body)


def facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": "https://example.com/p", "_schemaURL": "https://example.com/s", **fields}


def run(job: str, time: str, inputs: list[Any] = (), outputs: list[Any] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "eventType": "COMPLETE",
        "eventTime": time,
        "producer": "https://example.com/p",
        "run": {"runId": f"run-{job}"},
        "job": {"namespace": "etl", "name": job},
        "inputs": list(inputs),
        "outputs": list(outputs),
    }


def x(kind: str | None = None) -> dict[str, Any]:
    return {
        "namespace": "wh",
        "name": "x",
        "facets": {"mllineage": facet(kind=kind)} if kind else {},
    }


def graph(driver: Driver) -> tuple[list[tuple[str, str]], set[tuple[str, str, str]]]:
    dump = dump_graph(driver)
    nodes = sorted((props["uid"], props["kind"]) for _, props in dump["nodes"])
    return nodes, {(s, t, d) for s, t, d, _ in dump["edges"]}


def datasets(driver: Driver) -> list[str]:
    records, _, _ = driver.execute_query(
        "MATCH (n:Entity) WHERE n.`openlineage.name` IS NOT NULL AND n.kind IN "
        "['DataSource', 'FeatureGroup', 'Dataset', 'Model', 'Feature'] RETURN n.uid AS uid"
    )
    return sorted(r["uid"] for r in records)


# --- identity --------------------------------------------------------------------------------

WRITER_FIRST = [("a", "2026-01-01T00:00:00Z", "out"), ("b", "2026-01-01T01:00:00Z", "in")]


@pytest.mark.parametrize("writer_kind", [None, "FeatureGroup"])
@pytest.mark.parametrize("order", [1, -1], ids=["writer-first", "reader-first"])
def test_job_a_writes_x_job_b_reads_x_one_node_x(
    api: httpx.Client, empty_graph: Driver, writer_kind: str | None, order: int
) -> None:
    """Two requests in either order; only the writer may declare the kind."""
    writer = run("a", "2026-01-01T00:00:00Z", outputs=[x(writer_kind)])
    reader = run("b", "2026-01-01T01:00:00Z", inputs=[x()])
    for event in [writer, reader][::order]:
        assert post(api, event).status_code == 201
    uid = f"{writer_kind or 'DataSource'}:default:wh/x"
    once = graph(empty_graph)
    assert datasets(empty_graph) == [uid]
    assert once[1] == {
        ("FeaturePipeline:default:etl/a", "Produced", uid),
        (uid, "ContributedTo", "FeaturePipeline:default:etl/b"),
    }
    before = dump_graph(empty_graph)
    for event in [writer, reader]:
        assert post(api, event).status_code == 201
    assert dump_graph(empty_graph) == before, "re-sending changed the graph"


def test_a_declared_kind_arriving_later_takes_the_node_with_its_edges(
    api: httpx.Client, empty_graph: Driver
) -> None:
    reader = run("b", "2026-01-01T01:00:00Z", inputs=[x()])
    assert post(api, reader).status_code == 201
    reading = dump_graph(empty_graph)["edges"][0][3]
    writer = run("a", "2026-01-01T00:00:00Z", outputs=[x("Model")])
    assert post(api, writer).status_code == 201
    assert datasets(empty_graph) == ["Model:default:wh/x"]
    edges = {(s, t, d): props for s, t, d, props in dump_graph(empty_graph)["edges"]}
    assert edges[("Model:default:wh/x", "ContributedTo", "FeaturePipeline:default:etl/b")] == (
        reading
    )
    assert ("FeaturePipeline:default:etl/a", "Produced", "Model:default:wh/x") in edges
    node = next(p for _, p in dump_graph(empty_graph)["nodes"] if p["uid"] == "Model:default:wh/x")
    assert node["created_at"].iso_format().startswith("2026-01-01T00:00:00")
    assert node["updated_at"].iso_format().startswith("2026-01-01T01:00:00")
    before = dump_graph(empty_graph)
    for event in (reader, writer, reader):
        assert post(api, event).status_code == 201
    assert dump_graph(empty_graph) == before


def test_an_output_named_before_the_run_completed_joins_the_kind_declared_meanwhile(
    api: httpx.Client, empty_graph: Driver
) -> None:
    """The COMPLETE names no outputs: its START's pending one, x, comes from the store only
    once the write has read the run, and must still join the FeatureGroup another job made
    of x while the run ran."""
    started = {**run("a", "2026-01-01T00:00:00Z", outputs=[x()]), "eventType": "START"}
    assert post(api, started).status_code == 201
    assert post(api, run("c", "2026-01-01T00:30:00Z", outputs=[x("FeatureGroup")])).is_success
    assert post(api, run("a", "2026-01-01T01:00:00Z")).status_code == 201
    assert datasets(empty_graph) == ["FeatureGroup:default:wh/x"]
    assert ("FeaturePipeline:default:etl/a", "Produced", "FeatureGroup:default:wh/x") in (
        graph(empty_graph)[1]
    )


def test_the_migration_merges_nodes_split_by_role_keeping_every_edge(
    settings: Settings, empty_graph: Driver
) -> None:
    """As an older version stored it: FeatureGroup when written (with a feature), DataSource
    when read; a dataset stored once is left alone; a second run changes nothing."""
    empty_graph.execute_query(
        """
        WITH datetime('2026-01-01T00:00:00Z') AS t1, datetime('2026-01-02T00:00:00Z') AS t2
        CREATE (w:Entity:FeaturePipeline {uid: 'FeaturePipeline:default:etl/a',
                kind: 'FeaturePipeline', namespace: 'default', name: 'etl/a',
                `openlineage.name`: 'a'})
        CREATE (r:Entity:FeaturePipeline {uid: 'FeaturePipeline:default:etl/b',
                kind: 'FeaturePipeline', namespace: 'default', name: 'etl/b',
                `openlineage.name`: 'b'})
        CREATE (g:Entity:FeatureGroup {uid: 'FeatureGroup:default:wh/x', kind: 'FeatureGroup',
                namespace: 'default', name: 'wh/x', `openlineage.name`: 'x', owner: 'team-a',
                created_at: t1, updated_at: t1})
        CREATE (s:Entity:DataSource {uid: 'DataSource:default:wh/x', kind: 'DataSource',
                namespace: 'default', name: 'wh/x', `openlineage.name`: 'x', description: 'd',
                created_at: t2, updated_at: t2})
        CREATE (f:Entity:Feature {uid: 'Feature:default:wh/x.age', kind: 'Feature',
                namespace: 'default', name: 'wh/x.age'})
        CREATE (o:Entity:DataSource {uid: 'DataSource:default:wh/y', kind: 'DataSource',
                namespace: 'default', name: 'wh/y', `openlineage.name`: 'y'})
        CREATE (w)-[:Produced {first_seen: t1, producer: 'p'}]->(g)
        CREATE (g)-[:HasFeature {first_seen: t1}]->(f)
        CREATE (s)-[:ContributedTo {first_seen: t2, producer: 'q'}]->(r)
        CREATE (o)-[:ContributedTo]->(r)
        """
    )

    async def migrate() -> int:
        auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
        async with AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
            return await merge_split_datasets(Database(driver, settings.neo4j_database))

    assert asyncio.run(migrate()) == 1
    nodes, edges = graph(empty_graph)
    assert datasets(empty_graph) == ["DataSource:default:wh/y", "FeatureGroup:default:wh/x"]
    assert edges == {
        ("FeaturePipeline:default:etl/a", "Produced", "FeatureGroup:default:wh/x"),
        ("FeatureGroup:default:wh/x", "HasFeature", "Feature:default:wh/x.age"),
        ("FeatureGroup:default:wh/x", "ContributedTo", "FeaturePipeline:default:etl/b"),
        ("DataSource:default:wh/y", "ContributedTo", "FeaturePipeline:default:etl/b"),
    }
    merged = next(p for _, p in dump_graph(empty_graph)["nodes"] if p["uid"].endswith("wh/x"))
    assert (merged["owner"], merged["description"]) == ("team-a", "d")
    assert merged["updated_at"].iso_format().startswith("2026-01-02")
    before = dump_graph(empty_graph)
    assert asyncio.run(migrate()) == 0
    assert dump_graph(empty_graph) == before


# --- the corpus of real events -----------------------------------------------------------------


def test_the_corpus_is_all_there() -> None:
    assert (OPENLINEAGE_FIXTURES / "SOURCES.md").is_file()
    assert sum(len(events_of(name)) for name in CORPUS) > 300


@pytest.mark.parametrize("name", CORPUS)
def test_every_valid_event_is_accepted(api: httpx.Client, empty_graph: Driver, name: str) -> None:
    for event in events_of(name):
        reply = post(api, event)
        if name in REFUSED:
            assert reply.status_code == 422 and REFUSED[name] in reply.text
        else:
            assert reply.status_code == 201, reply.text


def written(events: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(job, dataset) where any event of a run that COMPLETEd names the dataset as an output:
    the events of one run merge (OpenLineage: "all metadata is additive")."""
    completed = {
        e["run"]["runId"] for e in events if "run" in e and e.get("eventType") == "COMPLETE"
    }
    return {
        (f"{e['job']['namespace']}/{e['job']['name']}", f"{d['namespace']}/{d['name']}")
        for e in events
        if "run" in e and e["run"]["runId"] in completed
        for d in e.get("outputs", [])
    }


def hand_offs(events: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(writer job, dataset, reader job) where a completed run of the writer names the dataset
    as an output and another job's event names it as an input."""
    key = lambda d: f"{d['namespace']}/{d['name']}"  # noqa: E731
    job = lambda e: f"{e['job']['namespace']}/{e['job']['name']}"  # noqa: E731
    read = {(key(d), job(e)) for e in events if "run" in e for d in e.get("inputs", [])}
    return {(w, d, r) for w, d in written(events) for d2, r in read if d == d2 and w != r}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dbt/postgres_build_ol_events.json", 19),
        ("dbt/postgres_run_ol_events.json", 5),
        ("dbt/postgres_result.json", 5),
        # Every output is named on START and every COMPLETE is bare.
        ("marquez/seed_metadata.json", 14),
    ],
)
def test_a_jobs_output_is_the_next_jobs_input(
    api: httpx.Client, empty_graph: Driver, name: str, expected: int
) -> None:
    """Each hand-off joins: writer -Produced-> dataset -ContributedTo-> reader, on one node."""
    events = events_of(name)
    assert post(api, events).status_code == 201
    joined = hand_offs(events)
    assert len(joined) == expected
    _, edges = graph(empty_graph)
    produced = {(s, d) for s, t, d in edges if t == "Produced"}
    contributed = {(s, d) for s, t, d in edges if t == "ContributedTo"}
    for writer, dataset, reader in joined:
        uid = f"DataSource:default:{dataset}"
        assert (f"FeaturePipeline:default:{writer}", uid) in produced
        assert (uid, f"FeaturePipeline:default:{reader}") in contributed
    before = dump_graph(empty_graph)
    assert post(api, events).status_code == 201
    for event in events:
        assert post(api, event).status_code == 201
    assert dump_graph(empty_graph) == before, "re-sending changed the graph"


def test_every_output_of_a_complete_event_is_produced(
    api: httpx.Client, empty_graph: Driver
) -> None:
    """Over the whole corpus, in one go: every output any event of a completed run names."""
    events = [e for name in CORPUS if name not in REFUSED for e in events_of(name)]
    for name in CORPUS:
        if name not in REFUSED:
            assert post(api, events_of(name)).status_code == 201
    _, edges = graph(empty_graph)
    produced = {(s, d) for s, t, d in edges if t == "Produced"}
    expected = written(events)
    assert expected and {(s.split(":", 2)[2], d.split(":", 2)[2]) for s, d in produced} >= expected
    names = [uid.split(":", 2)[2] for uid in datasets(empty_graph)]
    assert len(names) == len(set(names)), "a dataset became more than one node"
