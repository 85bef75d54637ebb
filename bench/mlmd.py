"""mllineage against Google ML Metadata (MLMD) on the same workload, in the same run.

    python -m bench.mlmd                       # 100k nodes, what bench/README.md quotes
    python -m bench.mlmd --nodes 2000 --roots 20 --single 40 --concurrent 160   # a smoke run
    python -m bench.run --mlmd                 # after the usual benchmark, at its --nodes
    python -m bench.mlmd --baseline /tmp/old/src   # and another checkout's API, interleaved

MLMD runs in-process on SQLite (a file) in a venv of its own that this module builds once
(``ml-metadata`` pins protobuf and supports Python 3.9-3.11): ``bench/mlmd_side.py`` is its
side, driven over pipes, each call timed inside that process. mllineage runs as deployed:
``mllineage serve`` with authentication on, a Neo4j of its own, every call over HTTP.

The workload is ``bench.synth`` with each feature group's features named as entities of
their own (produced by the group's pipeline, read directly by the queries that list them):
MLMD has no artifact-to-artifact edge, so this is the same graph in both, and both answers
are checked node for node against networkx. Measured, interleaved so both meet the same
machine: batched ingest (mllineage's API and the plainest statement that writes the same
graph, ``RAW_WRITE``, alternating on one Neo4j, MLMD's ``put_lineage_subgraph`` on every
batch), one event per call (``POST /v1/events`` and ``put_execution``, event by event), 16
concurrent clients, then walks from roots stratified by their 10-hop downstream reach, root
by root. With ``--baseline SRC`` a second API, serving that source tree, takes its turn at
every step: a before/after measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvloop
from neo4j import AsyncGraphDatabase

from bench.graph import graph_of, roots_by_reach
from bench.mlmd_load import (
    MLMD_VERSION,
    RAW_WRITE,
    Mlmd,
    compact,
    flatten_features,
    raw_params,
)
from bench.mlmd_walks import Sides, bench_walks
from bench.plain_http import PlainHttp, auth_header, post_all
from bench.report import RESULTS, machine
from bench.stack import clear, login, running_stack
from bench.stats import summary
from bench.synth import lineage_events
from mllineage.api.auth import new_key
from mllineage.ingest.delta import GraphDelta
from mllineage.ingest.intake import to_write
from mllineage.local import LocalApi
from mllineage.model.domain import LineageEvent
from mllineage.settings import Settings
from mllineage.store import Store


def size(delta: GraphDelta) -> int:
    return len(delta.nodes) + len(delta.edges)


def bench_batches(
    settings: Settings, sides: Sides, mlmd: Mlmd, batches: list[Any]
) -> dict[str, Any]:
    """Batches take turns between the APIs, ``Store.write`` in this process (the store's own
    write without HTTP), and the raw ceiling (``RAW_WRITE``) on one Neo4j (same database
    size and warmth); MLMD takes every batch into its own store, right after.
    The first batch of each side is not timed: it plans the side's statements, once per
    process (the API's write is one big statement, planned in a second or more) and warms
    the JVM. Each side is handed its batch ready: the APIs its JSON, posted on a plain
    keep-alive connection (``PlainHttp``), the others its delta."""
    deltas = [to_write(LineageEvent.model_validate(e) for e in b) for b in batches]
    bodies = [json.dumps({"events": events}).encode() for events in batches]
    plain = {name: PlainHttp(str(c.base_url), auth_header(c)) for name, c in sides.items()}
    turns = [*sides, "store", "raw"]
    timed: dict[str, list[tuple[int, int, float]]] = {name: [] for name in [*turns, "mlmd"]}

    async def run() -> None:
        async with AsyncGraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver:
            store = Store(driver, settings.neo4j_database)
            for i, (events, body, delta) in enumerate(zip(batches, bodies, deltas, strict=True)):
                side = turns[i % len(turns)]
                entities = size(delta)
                began = time.perf_counter()
                if side == "store":
                    await store.write(delta)
                elif side == "raw":
                    async with driver.session(database=settings.neo4j_database) as session:
                        raw = raw_params(delta)
                        await (await session.run(RAW_WRITE, raw=raw)).consume()
                else:
                    plain[side].post("/v1/events", body)  # raises unless answered 2xx
                seconds = time.perf_counter() - began
                mlmd_seconds, _ = mlmd.call("batch", events=[compact(e) for e in events])
                if i >= len(turns):
                    timed[side].append((len(events), entities, seconds))
                    timed["mlmd"].append((len(events), entities, mlmd_seconds))

    uvloop.run(run())
    out: dict[str, Any] = {"batch": len(batches[0]), "batches": len(batches)}
    for name, rows in timed.items():
        seconds = sum(t for _, _, t in rows)
        out[name] = {
            "events_per_s": round(sum(e for e, _, _ in rows) / seconds),
            "entities_per_s": round(sum(n for _, n, _ in rows) / seconds),
        }
    return out


def bench_single(sides: Sides, mlmd: Mlmd, events: list[dict[str, Any]]) -> dict[str, Any]:
    """One event per call, event by event: ``POST /v1/events`` (the APIs taking turns) and
    MLMD's ``put_execution`` on every event."""
    ms: dict[str, list[float]] = {name: [] for name in [*sides, "mlmd"]}
    plain = {name: PlainHttp(str(c.base_url), auth_header(c)) for name, c in sides.items()}
    for i, event in enumerate(events):
        name = list(sides)[i % len(sides)]
        ms[name].append(plain[name].post("/v1/events", json.dumps(event).encode())[0])
        seconds, _ = mlmd.call("single", event=compact(event))
        ms["mlmd"].append(seconds * 1000)
    return {
        name: {**summary(v), "events_per_s": round(1000 * len(v) / sum(v))}
        for name, v in ms.items()
    }


def bench_concurrent(
    sides: Sides, mlmd: Mlmd, events: list[dict[str, Any]], clients: int
) -> dict[str, Any]:
    """``clients`` concurrent clients posting one event per request (each API its share of
    the events), against MLMD's per-event path on the same events: SQLite takes one writer
    at a time, so one ``put_execution`` after another."""

    out: dict[str, Any] = {"clients": clients, "events": len(events)}
    for i, (name, client) in enumerate(sides.items()):
        share = events[i :: len(sides)]
        seconds = post_all(str(client.base_url), share, clients, auth_header(client))
        out[name] = round(len(share) / seconds)
    out["mlmd"] = round(len(events) / sum(mlmd.call("single", event=compact(e))[0] for e in events))
    return out


@contextlib.contextmanager
def baseline_api(settings: Settings, src: str | None) -> Iterator[LocalApi | None]:
    """``mllineage serve`` from another source tree (PYTHONPATH first), on the same Neo4j."""
    if src is None:
        yield None
        return
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = src
    try:
        api = LocalApi(settings, subprocess=True).start()
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before
    try:
        yield api
    finally:
        api.stop()


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
        baseline_api(settings, args.baseline) as before,
        contextlib.ExitStack() as stack,
    ):
        urls = {"mllineage": api.url, **({"before": before.url} if before else {})}
        sides = {
            name: stack.enter_context(httpx.Client(base_url=url, headers=headers, timeout=600))
            for name, url in urls.items()
        }
        mlmd = stack.enter_context(contextlib.closing(Mlmd(folder)))
        clear(settings)
        return {
            "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
            "events": len(events),
            "machine": machine(server),
            "mlmd_version": MLMD_VERSION,
            "baseline": args.baseline,
            "batched": bench_batches(settings, sides, mlmd, batches),
            "single": bench_single(sides, mlmd, single),
            "concurrent": bench_concurrent(sides, mlmd, concurrent, args.clients),
            "walks": bench_walks(settings, sides, mlmd, graph, roots, args.rounds),
        }


def markdown(r: dict[str, Any]) -> str:
    """One table: a column per side (MLMD last), and mllineage / MLMD."""
    b, s, c, w = r["batched"], r["single"], r["concurrent"], r["walks"]
    names = [name for name in ("before", "mllineage") if name in s]

    def row(measure: str, cells: dict[str, Any], ratio: float | str) -> str:
        figures = " | ".join(str(cells[name]) for name in [*names, "mlmd"])
        return f"| {measure} | {figures} | {ratio if isinstance(ratio, str) else f'{ratio:.2f}'} |"

    def mp(summary_: dict[str, Any]) -> str:
        return f"{summary_['median_ms']} / {summary_['p99_ms']}"

    lines = [
        f"{r['nodes']:,} nodes, {r['edges']:,} edges, {r['events']:,} events ({r['machine']}; "
        f"MLMD {r['mlmd_version']}, SQLite, in-process)",
        "",
        "| measure | " + " | ".join(f"{name} (HTTP)" for name in names) + " | MLMD | "
        "mllineage / MLMD |",
        "|---|" + "---|" * (len(names) + 2),
    ]
    for bucket, m in w["mlmd"]["by_reached_nodes"].items():
        cells = {name: w[name]["by_reached_nodes"][bucket] for name in [*names, "mlmd"]}
        a = cells["mllineage"]
        lines.append(
            row(
                f"walk, reached {bucket}, median / p99 ms (n={m['n']})",
                {name: mp(v) for name, v in cells.items()},
                f"{a['median_ms'] / m['median_ms']:.2f} / {a['p99_ms'] / m['p99_ms']:.2f}",
            )
        )
    fits = {name: w[name]["linear_fit"].get("ms_per_1000_nodes") for name in [*names, "mlmd"]}
    if all(fits.values()):
        lines.append(
            row("walk, ms per 1,000 reached nodes (fit)", fits, fits["mllineage"] / fits["mlmd"])
        )
    lines += [
        row("wrong walk answers", {n: w[n]["wrong_answers"] for n in [*names, "mlmd"]}, ""),
        row(
            f"one event per call, median / p99 ms (n={s['mlmd']['n']} MLMD)",
            {name: mp(s[name]) for name in [*names, "mlmd"]},
            s["mllineage"]["median_ms"] / s["mlmd"]["median_ms"],
        ),
        row(
            f"{c['clients']} concurrent clients, events/s (MLMD: one `put_execution` at a time)",
            c,
            c["mllineage"] / c["mlmd"],
        ),
        row(
            f"batched ingest, events/s ({b['batch']} a batch; MLMD `put_lineage_subgraph`)",
            {name: b[name]["events_per_s"] for name in [*names, "mlmd"]},
            b["mllineage"]["events_per_s"] / b["mlmd"]["events_per_s"],
        ),
        row(
            "batched ingest, entities/s",
            {name: b[name]["entities_per_s"] for name in [*names, "mlmd"]},
            b["mllineage"]["entities_per_s"] / b["mlmd"]["entities_per_s"],
        ),
        "",
        f"Floors beside the walks (mllineage's fixed cost; median / p99 ms): an HTTP round trip "
        f"to the API (`/healthz`) {mp(w['floors']['http'])}, a Bolt one to Neo4j (`RETURN 1`, "
        f"auto-commit) {mp(w['floors']['bolt'])}.",
        f"The plainest statement writing the same batches (the ceiling, `RAW_WRITE`): "
        f"{b['raw']['entities_per_s']} "
        f"entities/s; mllineage's API reaches "
        f"{b['mllineage']['entities_per_s'] / b['raw']['entities_per_s']:.2f} of it, and "
        f"`Store.write` in the bench's process (no HTTP) "
        f"{b['store']['entities_per_s'] / b['raw']['entities_per_s']:.2f}.",
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
    p.add_argument("--baseline", help="src folder of another checkout to serve beside this one")
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
