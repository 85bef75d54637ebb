"""mllineage against Google ML Metadata (MLMD) on the same workload, in the same run.

    python -m bench.mlmd                       # 100k nodes, what bench/README.md quotes
    python -m bench.mlmd --nodes 2000 --roots 20 --single 40 --concurrent 160   # a smoke run
    python -m bench.run --mlmd                 # the same, after the usual benchmark

MLMD runs in-process on SQLite (a file) in a venv of its own that this module builds once
(``ml-metadata`` pins protobuf and supports Python 3.9-3.11): ``bench/mlmd_side.py`` is its
side, driven over pipes, each call timed inside that process. mllineage runs as deployed:
``mllineage serve`` with authentication on, a Neo4j of its own, every call over HTTP.

The workload is ``bench.synth`` with each feature group's features named as entities of
their own (produced by the group's pipeline, read directly by the queries that list them):
MLMD has no artifact-to-artifact edge, so this is the same graph in both, and both answers
are checked node for node against networkx. Measured, interleaved so both meet the same
machine: batched ingest (mllineage's API and the plainest raw ``UNWIND MERGE`` alternating on
one Neo4j, MLMD's ``put_lineage_subgraph`` on every batch), one event per call
(``POST /v1/events`` and ``put_execution``, event by event), 16 concurrent clients, then
walks from roots stratified by their 10-hop downstream reach, root by root.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import networkx as nx
import uvloop
from neo4j import AsyncGraphDatabase

from bench.graph import graph_of, roots_by_reach
from bench.report import RESULTS, machine
from bench.stack import clear, login, running_stack
from bench.stats import linear_fit, summary
from bench.synth import lineage_events
from mllineage.auth import new_key
from mllineage.domain import PROCESS_KINDS, EdgeType, LineageEvent
from mllineage.events import GraphDelta, events_to_delta

MLMD_VERSION = "1.17.1"
VENV = Path.home() / ".cache" / "mllineage" / "mlmd-venv"
SIDE = Path(__file__).with_name("mlmd_side.py")
DEPTH = 10


def mlmd_python() -> Path:
    """The MLMD venv's python, built on first use with this interpreter."""
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", "import ml_metadata"]
    if not python.exists() or subprocess.run(probe, capture_output=True).returncode:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", f"ml-metadata=={MLMD_VERSION}"]
        subprocess.run(pip, check=True)
    return python


def flatten_features(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events with each listed feature as an entity of its own beside its group (no
    HasFeature edges: the graph MLMD can hold)."""

    def flat(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for entity in entities:
            features = entity.get("features") or []
            out.append({k: v for k, v in entity.items() if k != "features"})
            for feature in features:
                name = f"{entity['name']}.{feature['name']}"
                owner = {"owner": entity["owner"]} if "owner" in entity else {}
                out.append({"kind": "Feature", "name": name, **owner})
        return out

    return [{**e, "inputs": flat(e["inputs"]), "outputs": flat(e["outputs"])} for e in events]


def node_props(delta: GraphDelta, uid: str) -> dict[str, Any]:
    """A node's properties, its latest run's among them, times as ISO text."""
    node = delta.nodes[uid]
    props = {"namespace": node.namespace, "name": node.name, **node.props, **(node.run or {})}
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in props.items()}


def compact(event: dict[str, Any]) -> dict[str, Any]:
    """One event as the MLMD side takes it: the process and its artifacts as [uid, kind, props]."""
    delta = events_to_delta([LineageEvent.model_validate(event)])
    entry = {n.uid: [n.uid, n.kind.value, node_props(delta, n.uid)] for n in delta.nodes.values()}
    (process,) = [n for n in delta.nodes.values() if n.kind in PROCESS_KINDS]
    return {
        "process": entry[process.uid],
        "inputs": [
            entry[e.source] for e in delta.edges.values() if e.type is EdgeType.ContributedTo
        ],
        "outputs": [entry[e.target] for e in delta.edges.values() if e.type is EdgeType.Produced],
    }


class Mlmd:
    """The MLMD side's process; ``call`` returns (seconds inside MLMD, answer)."""

    def __init__(self, folder: str) -> None:
        command = [str(mlmd_python()), str(SIDE), os.path.join(folder, "mlmd.sqlite")]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def call(self, op: str, **args: Any) -> tuple[float, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        return reply["s"], reply["answer"]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(30)


# The plainest queries that write the same nodes (label, properties, times) and edges.
RAW_NODES = """
UNWIND $rows AS row
MERGE (n:Entity {uid: row.uid})
  ON CREATE SET n:$(row.kind)
SET n += row.props, n.created_at = datetime(row.first), n.updated_at = datetime(row.last)
"""
RAW_EDGES = """
UNWIND $rows AS row
MATCH (a:Entity {uid: row.source})
MATCH (b:Entity {uid: row.target})
MERGE (a)-[r:$TYPE]->(b)
SET r.first_seen = datetime(row.first), r.last_seen = datetime(row.last), r.producer = row.producer
"""


def raw_rows(delta: GraphDelta) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    nodes = [
        {
            "uid": n.uid,
            "kind": n.kind.value,
            "props": {"kind": n.kind.value, **node_props(delta, n.uid)},
            "first": n.first_seen.isoformat(),
            "last": n.last_seen.isoformat(),
        }
        for n in delta.nodes.values()
    ]
    edges: dict[str, list[dict[str, Any]]] = {}
    for e in delta.edges.values():
        edges.setdefault(e.type.value, []).append(
            {
                "source": e.source,
                "target": e.target,
                "first": e.first_seen.isoformat(),
                "last": e.last_seen.isoformat(),
                "producer": e.producer,
            }
        )
    return nodes, edges


def size(delta: GraphDelta) -> int:
    return len(delta.nodes) + len(delta.edges)


def bench_batches(
    settings: Any, url: str, headers: dict[str, str], mlmd: Mlmd, batches: list[list[Any]]
) -> dict[str, Any]:
    """Batches alternate between the API and raw UNWIND MERGE on one Neo4j (same database
    size and warmth); MLMD takes every batch into its own store, right after."""
    deltas = [events_to_delta(LineageEvent.model_validate(e) for e in b) for b in batches]
    timed: dict[str, list[tuple[int, int, float]]] = {"api": [], "raw": [], "mlmd": []}

    async def run() -> None:
        async with (
            AsyncGraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver,
            httpx.AsyncClient(base_url=url, headers=headers, timeout=600) as client,
        ):
            for i, (events, delta) in enumerate(zip(batches, deltas, strict=True)):
                began = time.perf_counter()
                if i % 2:
                    nodes, edges = raw_rows(delta)

                    async def work(tx: Any, nodes: Any = nodes, edges: Any = edges) -> None:
                        await (await tx.run(RAW_NODES, rows=nodes)).consume()
                        for edge_type, rows in edges.items():
                            query = RAW_EDGES.replace("$TYPE", edge_type)
                            await (await tx.run(query, rows=rows)).consume()

                    async with driver.session(database=settings.neo4j_database) as session:
                        await session.execute_write(work)
                else:
                    reply = await client.post("/v1/events", json={"events": events})
                    reply.raise_for_status()
                side = "raw" if i % 2 else "api"
                timed[side].append((len(events), size(delta), time.perf_counter() - began))
                seconds, _ = mlmd.call("batch", events=[compact(e) for e in events])
                timed["mlmd"].append((len(events), size(delta), seconds))

    uvloop.run(run())
    out: dict[str, Any] = {"batch": len(batches[0]), "batches": len(batches)}
    for side, rows in timed.items():
        seconds = sum(t for _, _, t in rows)
        out[side] = {
            "events_per_s": round(sum(e for e, _, _ in rows) / seconds),
            "entities_per_s": round(sum(n for _, n, _ in rows) / seconds),
        }
    out["api_vs_raw"] = round(out["api"]["entities_per_s"] / out["raw"]["entities_per_s"], 2)
    out["api_vs_mlmd"] = round(out["api"]["entities_per_s"] / out["mlmd"]["entities_per_s"], 2)
    return out


def bench_single(client: httpx.Client, mlmd: Mlmd, events: list[dict[str, Any]]) -> dict[str, Any]:
    """One event per call, event by event: ``POST /v1/events`` and MLMD's ``put_execution``."""
    ms: dict[str, list[float]] = {"api": [], "mlmd": []}
    for event in events:
        began = time.perf_counter()
        client.post("/v1/events", json=event).raise_for_status()
        ms["api"].append((time.perf_counter() - began) * 1000)
        seconds, _ = mlmd.call("single", event=compact(event))
        ms["mlmd"].append(seconds * 1000)
    return {
        side: {**summary(v), "events_per_s": round(1000 * len(v) / sum(v))}
        for side, v in ms.items()
    }


def bench_concurrent(
    url: str, headers: dict[str, str], mlmd: Mlmd, events: list[dict[str, Any]], clients: int
) -> dict[str, Any]:
    """``clients`` concurrent clients posting one event per request, against MLMD's per-event
    path on the same events (SQLite takes one writer at a time: one after another)."""

    async def run() -> float:
        queue = iter(events)
        async with httpx.AsyncClient(
            base_url=url, headers=headers, timeout=600, limits=httpx.Limits(max_connections=clients)
        ) as client:

            async def one_client() -> None:
                for event in queue:
                    (await client.post("/v1/events", json=event)).raise_for_status()

            began = time.perf_counter()
            await asyncio.gather(*(one_client() for _ in range(clients)))
            return time.perf_counter() - began

    api_seconds = uvloop.run(run())
    mlmd_seconds = sum(mlmd.call("single", event=compact(e))[0] for e in events)
    return {
        "clients": clients,
        "events": len(events),
        "api_events_per_s": round(len(events) / api_seconds),
        "mlmd_events_per_s": round(len(events) / mlmd_seconds),
    }


def bench_walks(
    client: httpx.Client, mlmd: Mlmd, graph: nx.DiGraph, roots: dict[str, list[str]], rounds: int
) -> dict[str, Any]:
    """Downstream walks to depth 10, root by root on both sides, each answer checked node for
    node against networkx."""
    ms: dict[str, dict[str, list[float]]] = {"api": {}, "mlmd": {}}
    reached: dict[str, list[tuple[int, float]]] = {"api": [], "mlmd": []}
    wrong = {"api": 0, "mlmd": 0}
    kind = {uid: uid.split(":", 1)[0] for r in roots.values() for uid in r}
    for root in (r for chosen in roots.values() for r in chosen[:2]):  # plans, caches
        client.get("/v1/lineage", params=lineage_params(root)).raise_for_status()
        mlmd.call("walk", uid=root, kind=kind[root], direction="downstream", depth=DEPTH)
    for _ in range(rounds):
        for name, chosen in roots.items():
            for root in chosen:
                expected = set(nx.single_source_shortest_path_length(graph, root, DEPTH)) - {root}
                began = time.perf_counter()
                reply = client.get("/v1/lineage", params=lineage_params(root))
                api_ms = (time.perf_counter() - began) * 1000
                reply.raise_for_status()
                got = {node["uid"] for node in reply.json()["nodes"]}
                seconds, mlmd_got = mlmd.call(
                    "walk", uid=root, kind=kind[root], direction="downstream", depth=DEPTH
                )
                for side, t, answer in (("api", api_ms, got), ("mlmd", seconds * 1000, mlmd_got)):
                    wrong[side] += set(answer) != expected or len(answer) != len(expected)
                    ms[side].setdefault(name, []).append(t)
                    reached[side].append((len(expected), t))
    return {
        side: {
            "by_reached_nodes": {name: summary(v) for name, v in ms[side].items()},
            "linear_fit": linear_fit([n for n, _ in reached[side]], [t for _, t in reached[side]]),
            "wrong_answers": wrong[side],
        }
        for side in ms
    }


def lineage_params(root: str) -> dict[str, Any]:
    return {"uid": root, "direction": "downstream", "depth": DEPTH, "limit": 10_000}


def run(args: argparse.Namespace) -> dict[str, Any]:
    events = flatten_features(lineage_events(args.nodes, args.seed))
    held = args.single + args.concurrent
    bulk, single, concurrent = (
        events[:-held],
        events[-held : -args.concurrent],
        events[-args.concurrent :],
    )
    batches = [bulk[i : i + args.batch] for i in range(0, len(bulk), args.batch)]
    graph = graph_of(events)
    roots = roots_by_reach(graph, args.roots, random.Random(args.seed))
    token, key = new_key("bench", {"read", "write"})
    keys = json.dumps([key.model_dump(mode="json")])
    headers = {"Authorization": f"Bearer {token}"}
    with (
        tempfile.TemporaryDirectory(prefix="mllineage-mlmd-") as folder,
        running_stack(auth="on", api_keys=keys) as (settings, server, api),
    ):
        mlmd = Mlmd(folder)
        try:
            clear(settings)
            result: dict[str, Any] = {
                "nodes": graph.number_of_nodes(),
                "edges": graph.number_of_edges(),
                "events": len(events),
                "machine": machine(server),
                "mlmd_version": MLMD_VERSION,
                "batched": bench_batches(settings, api.url, headers, mlmd, batches),
            }
            with httpx.Client(base_url=api.url, headers=headers, timeout=600) as client:
                result["single"] = bench_single(client, mlmd, single)
                result["concurrent"] = bench_concurrent(
                    api.url, headers, mlmd, concurrent, args.clients
                )
                result["walks"] = bench_walks(client, mlmd, graph, roots, args.rounds)
        finally:
            mlmd.close()
    return result


def markdown(r: dict[str, Any]) -> str:
    b, s, c, w = r["batched"], r["single"], r["concurrent"], r["walks"]
    lines = [
        f"{r['nodes']:,} nodes, {r['edges']:,} edges, {r['events']:,} events ({r['machine']}; "
        f"MLMD {r['mlmd_version']}, SQLite, in-process)",
        "",
        "| measure | mllineage (HTTP) | MLMD | mllineage / MLMD |",
        "|---|---|---|---|",
    ]
    api_fit, mlmd_fit = w["api"]["linear_fit"], w["mlmd"]["linear_fit"]
    for name, a in w["api"]["by_reached_nodes"].items():
        m = w["mlmd"]["by_reached_nodes"][name]
        lines.append(
            f"| walk, reached {name}, median / p99 ms (n={a['n']}) | {a['median_ms']} / "
            f"{a['p99_ms']} | {m['median_ms']} / {m['p99_ms']} | "
            f"{a['median_ms'] / m['median_ms']:.2f} / {a['p99_ms'] / m['p99_ms']:.2f} |"
        )
    if api_fit and mlmd_fit:
        lines.append(
            f"| walk, ms per 1,000 reached nodes (fit) | {api_fit['ms_per_1000_nodes']} | "
            f"{mlmd_fit['ms_per_1000_nodes']} | "
            f"{api_fit['ms_per_1000_nodes'] / mlmd_fit['ms_per_1000_nodes']:.2f} |"
        )
    lines += [
        f"| wrong walk answers | {w['api']['wrong_answers']} | {w['mlmd']['wrong_answers']} | |",
        f"| one event per call, median / p99 ms (n={s['api']['n']}) | {s['api']['median_ms']} / "
        f"{s['api']['p99_ms']} | {s['mlmd']['median_ms']} / {s['mlmd']['p99_ms']} | "
        f"{s['api']['median_ms'] / s['mlmd']['median_ms']:.2f} |",
        f"| {c['clients']} concurrent clients, events/s | {c['api_events_per_s']} | "
        f"{c['mlmd_events_per_s']} (one `put_execution` at a time) | "
        f"{c['api_events_per_s'] / c['mlmd_events_per_s']:.2f} |",
        f"| batched ingest, events/s ({b['batch']} a batch) | {b['api']['events_per_s']} | "
        f"{b['mlmd']['events_per_s']} (`put_lineage_subgraph`) | {b['api_vs_mlmd']:.2f} |",
        f"| batched ingest, entities/s; raw `UNWIND MERGE` {b['raw']['entities_per_s']} | "
        f"{b['api']['entities_per_s']} ({b['api_vs_raw']:.2f} of raw) | "
        f"{b['mlmd']['entities_per_s']} | {b['api_vs_mlmd']:.2f} |",
    ]
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=500, help="events per batch")
    p.add_argument("--roots", type=int, default=200, help="walk roots, a quarter per bucket")
    p.add_argument("--rounds", type=int, default=2, help="walks per root and side")
    p.add_argument("--single", type=int, default=300, help="events sent one per call")
    p.add_argument("--concurrent", type=int, default=1_600, help="events sent by the clients")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seed", type=int, default=7)
    return p


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parser().parse_args(argv)
    result = run(args)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"mlmd-{args.nodes}.json"
    path.write_text(json.dumps(result, indent=2))
    print(markdown(result) + f"\n\n(figures in {path})")
    return result


if __name__ == "__main__":
    main()
