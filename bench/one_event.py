"""One event per write (issue 18 goal 2): the service over HTTP against the plainest write of
the same nodes, edges and runs, and the floors under both, interleaved in one run.

    python -m bench.one_event --events 1500
    python -m bench.one_event --baseline /tmp/before/src   # and an older tree, interleaved
    python -m bench.one_event --openlineage --baseline /tmp/before/src

On a throw-away Neo4j and API (authentication off), 2,000 events of the MLMD workload
(``bench.mlmd_load.flatten_features``) in batches first, then each fresh event goes to the
next of, in turn:
- ``POST /v1/events`` over HTTP (the service as deployed), and with ``--baseline SRC`` the
  same to an API served from another source tree on the same Neo4j;
- ``Store.write`` in the bench's process (the service's write without HTTP);
- the ceiling: ``bench.mlmd_load.RAW_WRITE``, the plainest statement that writes the same
  nodes, edges and runs (one auto-commit round trip, planned once);
and beside each event the floors: an empty auto-commit write (``RETURN 1`` on a write
session) and ``GET /healthz``. The in-process sides' times include turning the event into a
delta, as the API's does. The first fifth of each is not counted (JVM, plans).

With ``--openlineage``, OpenLineage producers instead: each run of a job posts its START
(naming its inputs and outputs) and then its COMPLETE (naming none, as Marquez's producers
do) to ``POST /api/v1/lineage``, the APIs taking turns run by run; the two are timed apart.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import uvloop
from neo4j import AsyncDriver, AsyncGraphDatabase

from bench.mlmd import baseline_api
from bench.mlmd_load import RAW_WRITE, flatten_features, raw_params
from bench.plain_http import PlainHttp
from bench.stack import login, running_stack
from bench.stats import summary
from bench.synth import lineage_events
from mllineage.ingest.delta import GraphDelta
from mllineage.ingest.intake import to_write
from mllineage.model.domain import LineageEvent
from mllineage.store import Store

PRELOAD = 2_000
EVENTS = ("START", "COMPLETE")


async def timed(work: Awaitable[Any]) -> float:
    began = time.perf_counter()  # not the loop's clock: uvloop's counts whole milliseconds
    await work
    return (time.perf_counter() - began) * 1000


async def measure(
    driver: AsyncDriver,
    http: PlainHttp,
    events: list[dict[str, Any]],
    baseline: PlainHttp | None = None,
) -> dict[str, Any]:
    store = Store(driver, "neo4j")

    async def raw(delta: GraphDelta) -> None:
        async with driver.session(database="neo4j") as session:
            await (await session.run(RAW_WRITE, raw=raw_params(delta))).consume()

    async def empty_write() -> None:
        async with driver.session(database="neo4j") as session:
            await (await session.run("RETURN 1")).consume()

    def over(http: PlainHttp) -> Callable[[dict[str, Any]], Awaitable[None]]:
        async def post(event: dict[str, Any]) -> None:
            http.post("/v1/events", json.dumps(event).encode())

        return post

    sides: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
        "POST /v1/events": over(http),
        **({"POST /v1/events, baseline": over(baseline)} if baseline else {}),
        "Store.write": lambda e: store.write(to_write([LineageEvent.model_validate(e)])),
        "raw, one statement": lambda e: raw(to_write([LineageEvent.model_validate(e)])),
    }
    ms: dict[str, list[float]] = {name: [] for name in [*sides, "empty write", "/healthz"]}
    for i, event in enumerate(events):
        name = list(sides)[i % len(sides)]
        took = await timed(sides[name](event))
        empty = await timed(empty_write())
        health = http.get("/healthz")[0]
        if i >= len(events) // 5:
            ms[name].append(took)
            ms["empty write"].append(empty)
            ms["/healthz"].append(health)
    return {name: summary(values) for name, values in ms.items()}


def openlineage_runs(count: int, seed: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """START and COMPLETE of ``count`` runs of 300 jobs, each reading two of 200 shared
    tables and writing one of 300 tables."""
    rng = random.Random(seed)

    def event(kind: str, number: int, minute: int, **datasets: list[str]) -> dict[str, Any]:
        return {
            "eventType": kind,
            "eventTime": f"2026-11-02T{minute // 60 % 24:02d}:{minute % 60:02d}:00Z",
            "producer": "https://github.com/acme/jobs",
            "run": {"runId": str(uuid.UUID(int=number))},
            "job": {"namespace": "etl", "name": f"job{number % 300}"},
            **{
                role: [{"namespace": "wh", "name": name} for name in names]
                for role, names in datasets.items()
            },
        }

    runs = []
    for number in range(count):
        inputs = [f"table{rng.randrange(200)}" for _ in range(2)]
        outputs = [f"table{200 + number % 300}"]
        start = event("START", number, number, inputs=inputs, outputs=outputs)
        runs.append((start, event("COMPLETE", number, number + 1)))
    return runs


def measure_openlineage(
    sides: dict[str, PlainHttp], runs: list[tuple[dict[str, Any], dict[str, Any]]]
) -> dict[str, Any]:
    ms: dict[str, list[float]] = {f"{name}, {kind}": [] for name in sides for kind in EVENTS}
    for i, (start, complete) in enumerate(runs):
        name = list(sides)[i % len(sides)]
        for kind, event in zip(EVENTS, (start, complete), strict=True):
            took = sides[name].post("/api/v1/lineage", json.dumps(event).encode())[0]
            if i >= len(runs) // 5:
                ms[f"{name}, {kind}"].append(took)
    return {name: summary(values) for name, values in ms.items()}


def run(args: argparse.Namespace) -> dict[str, Any]:
    events = flatten_features(lineage_events(args.nodes, seed=args.seed))
    if len(events) < PRELOAD + args.events:
        raise SystemExit(f"the graph has {len(events)} events; ask for more --nodes")
    with (
        running_stack() as (settings, _server, api),
        baseline_api(settings, args.baseline) as before,
    ):
        http = PlainHttp(api.url)
        if args.openlineage:
            sides = {"POST /api/v1/lineage": http}
            if before:
                sides["POST /api/v1/lineage, baseline"] = PlainHttp(before.url)
            return measure_openlineage(sides, openlineage_runs(args.events, args.seed))
        for i in range(0, PRELOAD, 100):
            http.post("/v1/events", json.dumps({"events": events[i : i + 100]}).encode())
        baseline = PlainHttp(before.url) if before else None

        async def main() -> dict[str, Any]:
            async with AsyncGraphDatabase.driver(settings.neo4j_uri, auth=login(settings)) as d:
                timed_events = events[PRELOAD : PRELOAD + args.events]
                return await measure(d, http, timed_events, baseline)

        return uvloop.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_500, help="timed events, all sides")
    parser.add_argument("--nodes", type=int, default=20_000, help="size of the synthetic graph")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", help="src folder of another checkout to serve beside")
    parser.add_argument(
        "--openlineage", action="store_true", help="OpenLineage runs, START then COMPLETE"
    )
    result = run(parser.parse_args())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
