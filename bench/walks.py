"""Walk latency: API walks from roots stratified by reach, against networkx on the same graph
in memory (the floor) and the naive path-enumerating Cypher."""

from __future__ import annotations

import itertools
import random
import statistics
import time
from typing import Any

import httpx
import networkx as nx
from neo4j import GraphDatabase, Query
from neo4j.exceptions import ClientError

from bench.graph import BUCKET_NAMES, bucket, roots_by_reach
from bench.stack import login
from bench.stats import linear_fit, summary
from mllineage.local import LocalApi
from mllineage.settings import Settings


def lineage_params(root: str, direction: str) -> dict[str, str | int]:
    """A walk to depth 10 that is never cut short by the limit."""
    return {"uid": root, "direction": direction, "depth": 10, "limit": 10_000}


def warm_up(client: httpx.Client, roots_of: dict[str, dict[str, list[str]]]) -> None:
    """A few untimed walks of each kind: the first run of a query compiles its plan, which is
    not what a running service's users see."""
    for direction, by_bucket in roots_of.items():
        for root in itertools.chain.from_iterable(chosen[:2] for chosen in by_bucket.values()):
            params = lineage_params(root, direction)
            client.get("/v1/lineage", params=params).raise_for_status()
            client.get("/v1/impact", params={"uid": root}).raise_for_status()


def bench_walks(
    settings: Settings, api: LocalApi, graph: nx.DiGraph, roots: int, seed: int
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
                    params = lineage_params(root, direction)
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
        out["lifecycle_filters"] = bench_filters(client, roots_of["downstream"])
    naive_roots = [r for chosen in roots_of["downstream"].values() for r in chosen[:5]]
    out["naive_cypher"] = bench_naive(settings, naive_roots)
    return out


def bench_filters(client: httpx.Client, by_bucket: dict[str, list[str]]) -> dict[str, Any]:
    """The same downstream walks in the live view (the lifecycle filters inlined in the
    expansion) and with ``include_retired`` (no filter: the walk as it was before them),
    interleaved root by root so both meet the same cache and load; three rounds."""
    ms: dict[str, dict[str, list[float]]] = {"live": {}, "unfiltered": {}}
    for _ in range(3):
        for name, chosen in by_bucket.items():
            for root in chosen:
                for view, extra in (("live", {}), ("unfiltered", {"include_retired": "true"})):
                    params = {**lineage_params(root, "downstream"), **extra}
                    began = time.perf_counter()
                    client.get("/v1/lineage", params=params).raise_for_status()
                    ms[view].setdefault(name, []).append((time.perf_counter() - began) * 1000)
    out: dict[str, Any] = {
        view: {name: summary(v) for name, v in by_name.items()} for view, by_name in ms.items()
    }
    total = {view: sum(sum(v) for v in by_name.values()) for view, by_name in ms.items()}
    out["live_vs_unfiltered_total"] = round(total["live"] / total["unfiltered"], 3)
    return out


def bench_naive(settings: Settings, roots: list[str], timeout: float = 2.0) -> dict[str, Any]:
    """The path-enumerating query, with a transaction timeout: how often it gives up."""
    query = Query(
        "MATCH p = (s:Entity {uid: $uid})-[*1..10]->(n) RETURN count(p) AS paths", timeout=timeout
    )
    ms: list[float] = []
    timeouts = 0
    with GraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver:
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
