"""Ingestion and traversal benchmarks against a real Neo4j and a real API process.

    python -m bench.run --nodes 10000          # what `make bench` runs
    python -m bench.run --nodes 1000000        # about 15 minutes
    python -m bench.run --scaling              # the sizes table of bench/results/

Each figure comes with a baseline measured in the same run: API ingest against the same
deltas written straight through the store (no HTTP, no validation), batches alternating,
and API walks, from roots stratified by how many nodes they reach, against networkx on the
same graph in memory and the naive path-enumerating Cypher.
A markdown table is printed and the figures are written to bench/results/.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import networkx as nx
import uvloop
from neo4j import AsyncGraphDatabase, GraphDatabase
from neo4j.exceptions import ClientError

from bench.stack import Api, running_stack
from bench.synth import lineage_events
from mllineage.domain import LineageEvent
from mllineage.events import GraphDelta, events_to_delta
from mllineage.local import LocalNeo4j
from mllineage.settings import Settings
from mllineage.store import Store

RESULTS = Path(__file__).parent / "results"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 0.95), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
    }


def machine(server: LocalNeo4j) -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Neo4j {server.status().version}"
    )


def clear(settings: Settings) -> None:
    """Empty the database in small transactions: relationships first, so that a popular
    node's thousands of edges never land in one transaction (that overflows the memory pool
    at 1M nodes)."""
    auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
    with GraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver, driver.session() as s:
        s.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS").consume()
        s.run("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


def entities(delta: GraphDelta) -> int:
    return len(delta.nodes) + len(delta.edges)


def bench_ingest(
    settings: Settings, api: Api, events: list[dict[str, Any]], batch: int
) -> dict[str, Any]:
    """Batches alternate between the API and the driver (the ceiling), so that both meet
    the same database size, page cache and JIT warmth; then one event per request."""
    batches = [events[i : i + batch] for i in range(0, len(events), batch)]
    deltas = [events_to_delta(LineageEvent.model_validate(e) for e in b) for b in batches]
    # The events, deltas and graph are millions of long-lived objects; without this the
    # collector rescans them while the driver side runs in this process.
    gc.collect()
    gc.freeze()

    async def alternate(count: int) -> dict[str, list[tuple[int, int, float]]]:
        """(events, entities, seconds) per batch, for each side."""
        auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
        timed: dict[str, list[tuple[int, int, float]]] = {"api": [], "raw": []}
        async with (
            AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver,
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

    # On uvloop, as the API runs under uvicorn (asyncio's own loop: 3.4 s vs 2.8 s median of
    # five 10k-node loads).
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


def graph_of(events: list[dict[str, Any]]) -> nx.DiGraph:
    delta = events_to_delta(LineageEvent.model_validate(e) for e in events)
    graph = nx.DiGraph()
    graph.add_nodes_from(delta.nodes)
    graph.add_edges_from((e.source, e.target) for e in delta.edges.values())
    return graph


BUCKETS = (10, 100, 1_000, 10_000)


BUCKET_NAMES = [*(f"<= {bound}" for bound in BUCKETS), f"> {BUCKETS[-1]}"]


def bucket(size: int) -> str:
    return next((f"<= {bound}" for bound in BUCKETS if size <= bound), BUCKET_NAMES[-1])


def reach_size(graph: nx.DiGraph, root: str, depth: int = 10) -> int:
    """How many nodes a depth-limited walk from root reaches, counted up to past the last
    bucket (so a popular source costs no more than that to classify)."""
    walk = nx.bfs_edges(graph, root, depth_limit=depth)
    return sum(1 for _ in itertools.islice(walk, BUCKETS[-1] + 1))


def roots_by_reach(
    graph: nx.DiGraph, roots: int, rng: random.Random, max_seconds: float = 120.0
) -> dict[str, list[str]]:
    """Random roots, an equal share per reach bucket where the graph has them: uniform roots
    almost all reach <= 10 nodes and would leave the bigger buckets empty."""
    share = max(1, roots // len(BUCKETS))
    chosen: dict[str, list[str]] = {bucket(bound): [] for bound in BUCKETS}
    candidates = list(graph.nodes)
    rng.shuffle(candidates)
    deadline = time.monotonic() + max_seconds
    for node in candidates:
        size = reach_size(graph, node)
        if size <= BUCKETS[-1] and len(chosen[bucket(size)]) < share:
            chosen[bucket(size)].append(node)
        if all(len(c) == share for c in chosen.values()) or time.monotonic() > deadline:
            break
    return {name: found for name, found in chosen.items() if found}


def linear_fit(reached: list[int], ms: list[float]) -> dict[str, float]:
    """Least squares latency = fixed + per_node * reached: is the cost linear in the reach?"""
    if len(set(reached)) < 2:
        return {}
    fit = statistics.linear_regression(reached, ms)
    return {
        "fixed_ms": round(fit.intercept, 2),
        "ms_per_1000_nodes": round(fit.slope * 1000, 2),
        "r": round(statistics.correlation(reached, ms), 3),
    }


def warm_up(client: httpx.Client, roots_of: dict[str, dict[str, list[str]]]) -> None:
    """A few untimed walks of each kind: the first run of a query compiles its plan (a few
    hundred ms), which is not what a running service's users see."""
    for direction, by_bucket in roots_of.items():
        for root in itertools.chain.from_iterable(chosen[:2] for chosen in by_bucket.values()):
            params = {"uid": root, "direction": direction, "depth": 10, "limit": 10_000}
            client.get("/v1/lineage", params=params).raise_for_status()
            client.get("/v1/impact", params={"uid": root}).raise_for_status()


def bench_walks(
    settings: Settings, api: Api, graph: nx.DiGraph, roots: int, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    ways = {"downstream": graph, "upstream": graph.reverse(copy=False)}
    roots_of = {direction: roots_by_reach(g, roots, rng) for direction, g in ways.items()}
    out: dict[str, Any] = {}
    with httpx.Client(base_url=api.url, timeout=120) as client:
        warm_up(client, roots_of)
        for direction, g in ways.items():
            by_bucket = roots_of[direction]
            api_ms: list[float] = []
            floor_ms: list[float] = []
            reached_sizes: list[int] = []
            timings: dict[str, list[float]] = {}
            for name, chosen in by_bucket.items():
                for root in chosen:
                    began = time.perf_counter()
                    reached = nx.single_source_shortest_path_length(g, root, cutoff=10)
                    floor_ms.append((time.perf_counter() - began) * 1000)
                    params = {"uid": root, "direction": direction, "depth": 10, "limit": 10_000}
                    began = time.perf_counter()
                    reply = client.get("/v1/lineage", params=params)
                    elapsed = (time.perf_counter() - began) * 1000
                    reply.raise_for_status()
                    assert len(reply.json()["nodes"]) == len(reached) - 1, root
                    api_ms.append(elapsed)
                    reached_sizes.append(len(reached) - 1)
                    timings.setdefault(name, []).append(elapsed)
            out[direction] = {
                "api": summary(api_ms),
                "networkx_floor": summary(floor_ms),
                "api_vs_floor_median": round(
                    statistics.median(api_ms) / max(statistics.median(floor_ms), 1e-3), 1
                ),
                "by_reached_nodes": {k: summary(v) for k, v in timings.items()},
                "linear_fit": linear_fit(reached_sizes, api_ms),
                "samples": [[n, round(ms, 2)] for n, ms in zip(reached_sizes, api_ms, strict=True)],
            }
        # Impact walks to depth 100, so through a feedback loop a root can reach far more
        # than at depth 10: bucketed by its own total.
        impact_ms: list[float] = []
        impact_by_bucket: dict[str, list[float]] = {name: [] for name in BUCKET_NAMES}
        for root in itertools.chain.from_iterable(roots_of["downstream"].values()):
            began = time.perf_counter()
            reply = client.get("/v1/impact", params={"uid": root})
            elapsed = (time.perf_counter() - began) * 1000
            reply.raise_for_status()
            impact_ms.append(elapsed)
            impact_by_bucket[bucket(reply.json()["total"])].append(elapsed)
        out["impact"] = {
            **summary(impact_ms),
            "by_reached_nodes": {k: summary(v) for k, v in impact_by_bucket.items() if v},
        }
    naive_roots = [r for chosen in roots_of["downstream"].values() for r in chosen[:5]]
    out["naive_cypher"] = bench_naive(settings, naive_roots)
    return out


def bench_naive(settings: Settings, roots: list[str], timeout: float = 2.0) -> dict[str, Any]:
    """The path-enumerating query, with a transaction timeout: how often it gives up."""
    from neo4j import Query

    query = Query(
        "MATCH p = (s:Entity {uid: $uid})-[*1..10]->(n) RETURN count(p) AS paths", timeout=timeout
    )
    auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
    ms: list[float] = []
    timeouts = 0
    with GraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        for root in roots:
            began = time.perf_counter()
            try:
                with driver.session() as session:
                    session.run(query, uid=root).consume()
                ms.append((time.perf_counter() - began) * 1000)
            except ClientError:
                timeouts += 1
    return {
        "roots": len(roots),
        "timeouts": timeouts,
        "timeout_s": timeout,
        **(summary(ms) if ms else {}),
    }


def markdown(result: dict[str, Any]) -> str:
    ing = result["ingest"]
    lines = [
        f"## {result['nodes']} nodes, {result['edges']} edges ({result['machine']})",
        "",
        "| ingest | figure |",
        "|---|---|",
        f"| events through the API (batches of {ing['batch']}) | "
        f"{ing['api_events_per_s']} events/s |",
        f"| entities (nodes + edges) through the API | {ing['api_entities_per_s']} /s |",
        f"| same deltas straight through the driver (ceiling) | {ing['raw_entities_per_s']} /s |",
        f"| API / ceiling | {ing['api_vs_raw']:.0%} |",
        f"| API entities/s, first and last tenth of the load | "
        f"{ing['api_entities_per_s_first_tenth']} and {ing['api_entities_per_s_last_tenth']} |",
        f"| ceiling entities/s, first and last tenth | {ing['raw_entities_per_s_first_tenth']} "
        f"and {ing['raw_entities_per_s_last_tenth']} |",
        f"| one event per request | {ing['single_events_per_s']} events/s "
        f"(batched is {ing['batched_vs_single']}x) |",
        "",
        "| walk, depth 10 | n | median ms | p95 ms | p99 ms | networkx median ms | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for direction in ("downstream", "upstream"):
        w = result["walks"][direction]
        a, f = w["api"], w["networkx_floor"]
        lines.append(
            f"| {direction} | {a['n']} | {a['median_ms']} | {a['p95_ms']} | {a['p99_ms']} | "
            f"{f['median_ms']} | {w['api_vs_floor_median']}x |"
        )
        for name, b in w["by_reached_nodes"].items():
            lines.append(
                f"| &nbsp; reached {name} | {b['n']} | {b['median_ms']} | {b['p95_ms']} | "
                f"{b['p99_ms']} | | |"
            )
    imp, naive = result["walks"]["impact"], result["walks"]["naive_cypher"]
    lines.append(f"| impact (depth 100) | {imp['n']} | {imp['median_ms']} | {imp['p95_ms']} | "
                 f"{imp['p99_ms']} | | |")  # fmt: skip
    for name, b in imp["by_reached_nodes"].items():
        lines.append(
            f"| &nbsp; reached {name} | {b['n']} | {b['median_ms']} | {b['p95_ms']} | "
            f"{b['p99_ms']} | | |"
        )
    for direction in ("downstream", "upstream"):
        if fit := result["walks"][direction]["linear_fit"]:
            lines.append(
                f"\n{direction.capitalize()} cost against reach (least squares): "
                f"{fit['fixed_ms']} ms"
                f" + {fit['ms_per_1000_nodes']} ms per 1,000 reached nodes, r = {fit['r']}."
            )
    lines += [
        "",
        f"Naive `MATCH p=(s)-[*1..10]->(n)`: {naive['timeouts']}/{naive['roots']} roots hit the "
        f"{naive['timeout_s']}s timeout"
        + (f"; median of the rest {naive['median_ms']} ms." if "median_ms" in naive else "."),
    ]
    return "\n".join(lines)


def scaling() -> str:
    """One row per graph size from every result in bench/results/: how ingest and walks
    change from 10k to 1M nodes."""
    results = sorted(
        (json.loads(path.read_text()) for path in RESULTS.glob("bench-*.json")),
        key=lambda result: result["nodes"],
    )

    def walk(result: dict[str, Any], direction: str, name: str) -> str:
        b = result["walks"][direction]["by_reached_nodes"].get(name)
        return f"{b['median_ms']} / {b['p99_ms']}" if b else "-"

    lines = [
        "| nodes | edges | API entities/s | API / ceiling | downstream median / p99 ms, "
        "reached <= 10 | <= 100 | <= 1000 | <= 10000 | upstream <= 100 | impact | "
        "ms per 1,000 reached |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ing, imp = r["ingest"], r["walks"]["impact"]
        fit = r["walks"]["downstream"]["linear_fit"]
        lines.append(
            f"| {r['nodes']:,} | {r['edges']:,} | {ing['api_entities_per_s']:,} | "
            f"{ing['api_vs_raw']:.0%} | "
            + " | ".join(walk(r, "downstream", f"<= {bound}") for bound in BUCKETS)
            + f" | {walk(r, 'upstream', '<= 100')} | {imp['median_ms']} / {imp['p99_ms']} | "
            f"{fit.get('ms_per_1000_nodes', '-')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500, help="events per request")
    parser.add_argument("--roots", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scaling", action="store_true", help="only print the sizes table")
    args = parser.parse_args()
    if args.scaling:
        print(scaling())
        return

    events = lineage_events(args.nodes, args.seed)
    graph = graph_of(events)
    with running_stack() as (settings, server, api):
        result = {
            "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
            "machine": machine(server),
            "ingest": bench_ingest(settings, api, events, args.batch),
            "walks": bench_walks(settings, api, graph, args.roots, args.seed),
        }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"bench-{args.nodes}.json"
    path.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    print(f"\n(figures in {path})\n\n{scaling()}")


if __name__ == "__main__":
    main()
