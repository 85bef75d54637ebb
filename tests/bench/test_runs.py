"""The runs benchmarks' own parts: the history is what it says, the ceiling writes the very
Run nodes and run edges the API writes (else its ratio means nothing), and every runs
benchmark runs end to end at a tiny size on the test suite's Neo4j and API."""

from __future__ import annotations

import httpx
from bench.report import runs_markdown
from bench.runs import (
    HOT,
    bench_run_ingest,
    bench_run_reads,
    native_event,
    openlineage_pair,
    run_count,
    run_history,
    write_ceiling,
)
from bench.runwalks import bench_walks_with_runs, load
from bench.synth import lineage_events
from neo4j import Driver

from mllineage.local import LocalApi
from mllineage.model.domain import make_uid
from mllineage.settings import Settings
from tests.helpers import dump_graph


def test_history_is_seeded_with_one_hot_process_and_full_runs() -> None:
    history = run_history(200, 120, seed=3)
    assert history == run_history(200, 120, seed=3) != run_history(200, 120, seed=4)
    hot = make_uid("TrainingJob", "default", HOT)
    assert sum(run.process == hot for run in history) == 120
    assert len({run.id for run in history}) == 200
    assert len({run.outputs for run in history}) == 200  # each run its own model version
    for run in history:
        assert [len(run.maps[m]) for m in ("params", "metrics", "env", "code")] == [10, 5, 5, 5]
        assert run.started < run.ended


def lineage_of(driver: Driver) -> dict[str, object]:
    dump = dump_graph(driver)
    return {
        "runs": dump["runs"],
        "run_edges": dump["run_edges"],
        "entities": sorted(props["uid"] for _, props in dump["nodes"]),
        "edges": sorted((s, t, d) for s, t, d, _ in dump["edges"]),
    }


def test_the_ceiling_writes_what_the_api_writes(
    api: httpx.Client, empty_graph: Driver, settings: Settings
) -> None:
    runs = run_history(12, 5, seed=5)
    reply = api.post("/v1/events", json={"events": [native_event(run) for run in runs]})
    assert reply.status_code == 200, reply.text
    native = lineage_of(empty_graph)
    assert len(native["runs"]) == 12 and len(native["run_edges"]) == 12 * 4  # type: ignore[arg-type]

    empty_graph.execute_query("MATCH (n) DETACH DELETE n")
    write_ceiling(settings, runs, batch=5)
    assert lineage_of(empty_graph) == native

    empty_graph.execute_query("MATCH (n) DETACH DELETE n")
    pairs = [one for run in runs for one in openlineage_pair(run)]
    assert api.post("/api/v1/lineage/batch", json=pairs).status_code == 201
    openlineage = lineage_of(empty_graph)
    assert {k: openlineage[k] for k in ("runs", "run_edges")} == {
        k: native[k] for k in ("runs", "run_edges")
    }


def test_the_runs_benchmarks_run_at_a_tiny_size(
    live_server: LocalApi, empty_graph: Driver, settings: Settings
) -> None:
    events = lineage_events(300, seed=3)
    load(live_server, events)
    walks = bench_walks_with_runs(settings, live_server, events, roots=8, count=300, seed=3)
    assert walks["after"]["runs"] == walks["before"]["runs"] + 300
    assert walks["by_walk"] and walks["after_vs_before_total"] > 0

    history = run_history(90, 40, seed=3)
    ingest = bench_run_ingest(settings, live_server, history, batch=10, single=6)
    assert run_count(settings) == 90, "every side wrote its runs"
    assert run_count(settings, make_uid("TrainingJob", "default", HOT)) == 40
    assert ingest["ceiling"]["vs_ceiling"] == 1.0 and ingest["native"]["runs_per_s"] > 0

    reads = bench_run_reads(settings, live_server, history, samples=2, limit=7)
    assert reads["process_runs"] == 40 and len(reads["latency"]) == 6
    assert "process" in reads["profile"]["process, first page"]["start"]
    text = runs_markdown({"ingest": ingest, "reads": reads, "walks": walks})
    assert "| native events, batches of 10 |" in text
