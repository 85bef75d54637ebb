"""bench.mlmd's walks: downstream walks from roots stratified by reach on every side, each
answer checked node for node against networkx, and the floors of mllineage's fixed cost."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import networkx as nx
from neo4j import GraphDatabase

from bench.mlmd_load import DEPTH, Mlmd
from bench.plain_http import PlainHttp, auth_header
from bench.stack import login
from bench.stats import linear_fit, summary
from mllineage.settings import Settings

Sides = dict[str, httpx.Client]  # "mllineage" (this tree) and maybe "before" (--baseline)


def lineage_params(root: str) -> dict[str, Any]:
    return {"uid": root, "direction": "downstream", "depth": DEPTH, "limit": 10_000}


def bench_walks(
    settings: Settings,
    sides: Sides,
    mlmd: Mlmd,
    graph: nx.DiGraph,
    roots: dict[str, list[str]],
    rounds: int,
) -> dict[str, Any]:
    """Downstream walks to depth 10, root by root on every side, each answer checked node for
    node against networkx; beside each root, the floors of mllineage's fixed cost: an HTTP
    round trip to the API (``/healthz``) and a Bolt one to Neo4j (``RETURN 1``, auto-commit)."""
    names = [*sides, "mlmd"]
    plain = {name: PlainHttp(str(c.base_url), auth_header(c)) for name, c in sides.items()}
    floors: dict[str, list[float]] = {"http": [], "bolt": []}
    driver = GraphDatabase.driver(settings.neo4j_uri, auth=login(settings))
    bolt = driver.session(database=settings.neo4j_database)

    def floor() -> None:
        floors["http"].append(plain["mllineage"].get("/healthz")[0])
        began = time.perf_counter()
        bolt.run("RETURN 1").consume()
        floors["bolt"].append((time.perf_counter() - began) * 1000)

    ms: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    reached: dict[str, list[tuple[int, float]]] = {name: [] for name in names}
    wrong = dict.fromkeys(names, 0)

    def walk(name: str, root: str) -> tuple[float, set[str]]:
        if name == "mlmd":
            kind = root.split(":", 1)[0]
            seconds, got = mlmd.call(
                "walk", uid=root, kind=kind, direction="downstream", depth=DEPTH
            )
            return seconds * 1000, set(got)
        elapsed, body = plain[name].get("/v1/lineage?" + urlencode(lineage_params(root)))
        return elapsed, {node["uid"] for node in json.loads(body)["nodes"]}

    for root in (r for chosen in roots.values() for r in chosen[:2]):  # plans, caches
        for name in names:
            walk(name, root)
    for _ in range(rounds):
        for bucket, chosen in roots.items():
            for root in chosen:
                expected = set(nx.single_source_shortest_path_length(graph, root, DEPTH)) - {root}
                for name in names:
                    elapsed, got = walk(name, root)
                    wrong[name] += got != expected
                    ms[name].setdefault(bucket, []).append(elapsed)
                    reached[name].append((len(expected), elapsed))
                floor()
    bolt.close()
    driver.close()
    return {
        **{
            name: {
                "by_reached_nodes": {bucket: summary(v) for bucket, v in ms[name].items()},
                "linear_fit": linear_fit(
                    [n for n, _ in reached[name]], [t for _, t in reached[name]]
                ),
                "wrong_answers": wrong[name],
            }
            for name in names
        },
        "floors": {name: summary(v) for name, v in floors.items()},
    }
