"""Walks with runs attached (docs/runs.md: walks follow only ContributedTo, Produced and
HasFeature, so runs must not change a walk's answer or its cost).

The same walks are timed before and after ``count`` runs join the graph's own processes
(RunOf) and the artifacts those read (ReadBy) and write (Wrote), in turns: before, attach,
after, detach, before, attach, after; each walk checked against networkx every time.
Half the runs go to 1% of the processes (daily retrains), so some nodes carry thousands
of run edges.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import networkx as nx
from neo4j import GraphDatabase

from bench.graph import graph_of, roots_by_reach
from bench.runs import RUN_SET, Run, run_maps, write_ceiling
from bench.stack import login
from bench.stats import summary
from bench.walks import lineage_params, warm_up
from mllineage.ingest.intake import to_write
from mllineage.local import LocalApi
from mllineage.model.domain import PROCESS_KINDS, EdgeType, LineageEvent
from mllineage.settings import Settings

ATTACHED = "attached-"
ATTACH_START = datetime(2026, 6, 1, tzinfo=UTC)
# New runs on existing entities, as the ceiling writes them but with CREATE (no MERGE's
# look-ups): setting up is not what is measured here.
ATTACH = f"""
UNWIND $rows AS row
WITH row, datetime(row.started_at) AS started_at, datetime(row.ended_at) AS ended_at
MATCH (p:Entity {{uid: row.process.uid}})
CREATE (r:Run {{id: row.id}})
{RUN_SET}
CREATE (r)-[:RunOf]->(p)
WITH row, r
CALL (row, r) {{
  UNWIND row.inputs AS input
  MATCH (a:Entity {{uid: input.uid}})
  CREATE (a)-[:ReadBy]->(r)
}}
CALL (row, r) {{
  UNWIND row.outputs AS output
  MATCH (m:Entity {{uid: output.uid}})
  CREATE (r)-[:Wrote]->(m)
}}
"""


def load(api: LocalApi, events: list[dict[str, Any]], batch: int = 500) -> None:
    """The lineage through the API, for a run that skipped the lineage ingest benchmark."""
    with httpx.Client(base_url=api.url, timeout=600) as client:
        for i in range(0, len(events), batch):
            client.post("/v1/events", json={"events": events[i : i + batch]}).raise_for_status()


def attached_runs(
    events: list[dict[str, Any]], count: int, seed: int, batch: int = 2_000
) -> Iterator[list[Run]]:
    """``count`` runs of the lineage's processes, each reading what its process reads and
    writing what it writes (so no lineage edge is new), in batches; the same for a seed."""
    delta = to_write(LineageEvent.model_validate(e) for e in events)
    reads: dict[str, list[str]] = defaultdict(list)
    writes: dict[str, list[str]] = defaultdict(list)
    for edge in delta.edges.values():
        if edge.type is EdgeType.ContributedTo:
            reads[edge.target].append(edge.source)
        elif edge.type is EdgeType.Produced:
            writes[edge.source].append(edge.target)
    processes = sorted(uid for uid, node in delta.nodes.items() if node.kind in PROCESS_KINDS)
    rng = random.Random(seed)
    busy = rng.sample(processes, max(1, len(processes) // 100))
    runs: list[Run] = []
    for i in range(count):
        process = rng.choice(busy if i % 2 else processes)
        started = ATTACH_START + timedelta(seconds=20 * i)
        runs.append(
            Run(
                id=f"{ATTACHED}{i:07d}",
                process=process,
                inputs=tuple(sorted(reads[process])),
                outputs=tuple(sorted(writes[process])),
                started=started,
                ended=started + timedelta(minutes=10),
                experiment=f"exp-{i % 10}",
                maps=run_maps(rng, i),
            )
        )
        if len(runs) == batch:
            yield runs
            runs = []
    if runs:
        yield runs


def _query(settings: Settings, text: str, **params: Any) -> list[dict[str, Any]]:
    with (
        GraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver,
        driver.session(database=settings.neo4j_database) as session,
    ):
        return [record.data() for record in session.run(text, params)]


def detach(settings: Settings) -> None:
    _query(
        settings,
        "MATCH (r:Run) WHERE r.id STARTS WITH $prefix "
        "CALL (r) { DETACH DELETE r } IN TRANSACTIONS OF 2000 ROWS",
        prefix=ATTACHED,
    )


def run_edges(settings: Settings) -> dict[str, int]:
    """How many runs and run edges the graph holds, and the most run edges on one entity."""
    [row] = _query(
        settings,
        "MATCH (n:Entity) WITH max(COUNT { (n)-[:RunOf|ReadBy|Wrote]-(:Run) }) AS most "
        "RETURN COUNT { MATCH (:Run) } AS runs, most AS most_on_one_entity, "
        "COUNT { MATCH ()-[:RunOf|ReadBy|Wrote]->() } AS run_edges",
    )
    return {key: int(value) for key, value in row.items()}


def bench_walks_with_runs(
    settings: Settings,
    api: LocalApi,
    events: list[dict[str, Any]],
    roots: int,
    count: int,
    seed: int,
    rounds: int = 2,
) -> dict[str, Any]:
    """Walk latency before and after attaching ``count`` runs (the lineage of ``events``
    must be loaded); the roots are those of ``bench.walks`` for the same seed."""
    graph = graph_of(events)
    rng = random.Random(seed)
    ways = {"downstream": graph, "upstream": graph.reverse(copy=False)}
    roots_of = {direction: roots_by_reach(g, roots, rng) for direction, g in ways.items()}
    reach = {
        (direction, root): len(nx.single_source_shortest_path_length(ways[direction], root, 10)) - 1
        for direction, by_bucket in roots_of.items()
        for chosen in by_bucket.values()
        for root in chosen
    }
    impact_totals: dict[str, int] = {}
    ms: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    totals: dict[str, list[float]] = {"before": [], "after": []}

    def walk_all(client: httpx.Client, phase: str) -> None:
        spent = 0.0
        for (direction, root), size in reach.items():
            began = time.perf_counter()
            reply = client.get("/v1/lineage", params=lineage_params(root, direction))
            elapsed = (time.perf_counter() - began) * 1000
            reply.raise_for_status()
            assert len(reply.json()["nodes"]) == size, (phase, direction, root)
            name = f"{direction} {_bucket_of(roots_of[direction], root)}"
            ms[phase].setdefault(name, []).append(elapsed)
            spent += elapsed
        for root in (root for (d, root) in reach if d == "downstream"):
            began = time.perf_counter()
            reply = client.get("/v1/impact", params={"uid": root})
            elapsed = (time.perf_counter() - began) * 1000
            reply.raise_for_status()
            assert impact_totals.setdefault(root, reply.json()["total"]) == reply.json()["total"]
            ms[phase].setdefault("impact", []).append(elapsed)
            spent += elapsed
        totals[phase].append(spent)

    attach_s: list[float] = []
    with httpx.Client(base_url=api.url, timeout=120) as client:
        warm_up(client, roots_of)
        baseline = run_edges(settings)
        for turn in range(rounds):
            walk_all(client, "before")
            attach_s.append(
                sum(
                    write_ceiling(settings, b, query=ATTACH)
                    for b in attached_runs(events, count, seed)
                )
            )
            warm_up(client, roots_of)
            walk_all(client, "after")
            attached = run_edges(settings)
            if turn < rounds - 1:
                detach(settings)
    return {
        "attached_runs": count,
        "before": baseline,
        "after": attached,
        "attach_runs_per_s": round(count / min(attach_s)),
        "by_walk": {
            name: {
                "before": summary(before),
                "after": summary(ms["after"][name]),
                "median_ratio": round(
                    summary(ms["after"][name])["median_ms"] / summary(before)["median_ms"], 3
                ),
            }
            for name, before in ms["before"].items()
        },
        "total_s": {phase: [round(t / 1000, 2) for t in spent] for phase, spent in totals.items()},
        "after_vs_before_total": round(sum(totals["after"]) / sum(totals["before"]), 3),
    }


def _bucket_of(by_bucket: dict[str, list[str]], root: str) -> str:
    return next(name for name, chosen in by_bucket.items() if root in chosen)
