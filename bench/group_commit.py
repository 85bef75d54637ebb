"""Group commit (issue 17): one event per request from many concurrent clients, against one
client and against batches, on the same API and Neo4j in the same run.

    python -m bench.group_commit --events 2400 --clients 16 --rounds 3
    python -m bench.group_commit --baseline /tmp/before/src   # and an older tree, interleaved
    python -m bench.group_commit --store     # and the same writes through Store.write, no HTTP

After a first round that only warms up (the JVM, and Neo4j's plan cache, which plans a
statement again for each size class of its list parameters), each round runs, in turn: one
client posting one event per request; ``--clients`` clients posting one event per request at
once; one client posting batches of ``--batch`` events; each on fresh events of one
synthetic graph (``bench.synth``), so every phase meets a graph of about the same size.
Rates are events and entities (nodes + edges of the events' deltas) per second; the medians
over rounds are reported, with the ratios the issue sets as goals: concurrent / one client
>= 10 and concurrent / batched >= 0.5 (entities/s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import uvloop
from neo4j import AsyncGraphDatabase

from bench.mlmd import baseline_api
from bench.plain_http import post_all
from bench.report import RESULTS
from bench.stack import login, running_stack
from bench.synth import lineage_events
from mllineage.ingest.intake import to_write
from mllineage.model.domain import LineageEvent
from mllineage.settings import Settings
from mllineage.store import Store

PHASES = ("one_client", "concurrent", "batched")


def entities(events: list[dict[str, Any]]) -> int:
    return sum(
        len(d.nodes) + len(d.edges)
        for d in (to_write([LineageEvent.model_validate(e)]) for e in events)
    )


async def write_all(settings: Settings, bodies: list[Any], clients: int) -> float:
    """``post_all`` without HTTP: the same bodies through ``Store.write`` in this process."""
    async with AsyncGraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as driver:
        store = Store(driver, settings.neo4j_database)
        deltas = iter(
            [to_write(LineageEvent.model_validate(e) for e in b.get("events", [b]))
             for b in bodies]
        )  # fmt: skip

        async def one_client() -> None:
            for delta in deltas:
                await store.write(delta)

        began = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        return time.perf_counter() - began


def run(args: argparse.Namespace) -> dict[str, Any]:
    with (
        running_stack() as (settings, _server, api),
        baseline_api(settings, args.baseline) as before,
    ):
        sides = {"mllineage": api.url} | ({"before": before.url} if before else {})
        if args.store:
            sides["store, no HTTP"] = ""
        events = lineage_events(args.nodes, seed=args.seed)
        per_phase = args.events // (len(PHASES) * len(sides) * (args.rounds + 1))
        chunks = iter(range(0, len(events), per_phase))
        rates: dict[str, dict[str, list[tuple[float, float]]]] = {
            side: {phase: [] for phase in PHASES} for side in sides
        }
        for round_ in range(args.rounds + 1):  # the first warms the JVM and the plan cache
            for phase in PHASES:
                for side, url in sides.items():
                    start = next(chunks)
                    share = events[start : start + per_phase]
                    if phase == "batched":
                        bodies: list[Any] = [
                            {"events": share[i : i + args.batch]}
                            for i in range(0, len(share), args.batch)
                        ]
                    else:
                        bodies = share
                    clients = args.clients if phase == "concurrent" else 1
                    seconds = (
                        post_all(url, bodies, clients)
                        if url
                        else uvloop.run(write_all(settings, bodies, clients))
                    )
                    if round_:
                        rates[side][phase].append((len(share) / seconds, entities(share) / seconds))
    result: dict[str, Any] = {
        "nodes": args.nodes,
        "events_per_phase": per_phase,
        "clients": args.clients,
        "batch": args.batch,
        "rounds": args.rounds,
    }
    for side, phases in rates.items():
        medians = {
            phase: {
                "events_per_s": round(statistics.median(r[0] for r in runs), 1),
                "entities_per_s": round(statistics.median(r[1] for r in runs), 1),
            }
            for phase, runs in phases.items()
        }
        one, conc, batched = (medians[phase]["entities_per_s"] for phase in PHASES)
        result[side] = {
            **medians,
            "concurrent_over_one_client": round(conc / one, 2),
            "concurrent_over_batched": round(conc / batched, 2),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20_000, help="size of the synthetic graph")
    parser.add_argument("--events", type=int, default=2_400, help="events over all phases")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch", type=int, default=100, help="events per batched request")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--baseline", help="src folder of another checkout to serve beside")
    parser.add_argument(
        "--store", action="store_true", help="and the same phases through Store.write, no HTTP"
    )
    result = run(parser.parse_args())
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "group_commit.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
